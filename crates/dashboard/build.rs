//! Builds `web/` with npm when its output is missing or stale, and embeds `web/dist` into the crate.
//!
//! The generated `OUT_DIR/assets.rs` holds one `Asset` per file, its bytes
//! (and a gzip copy when that is smaller) pulled in with `include_bytes!` from
//! a snapshot of `web/dist` copied into `OUT_DIR` under a lock file, so that
//! concurrent cargo runs neither build twice nor embed a half-written bundle.
//! Without npm, or when the build fails and there is no earlier output, a
//! one-page fallback says how to build the dashboard, and a
//! `cargo:warning` says so at build time. `INFERSIGHT_SKIP_WEB_BUILD=1`
//! embeds whatever `web/dist` holds (or the fallback) without running npm.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};
use std::{env, fs};

/// What is watched for staleness: changing any of these rebuilds the bundle.
const SOURCES: &[&str] =
    &["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

const FALLBACK: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>infersight</title>
<link rel="stylesheet" href="/fallback.css">
</head><body>
<h1>The dashboard was not built</h1>
<p>This infersight binary was built without its web dashboard, because npm was not
available (or the web build failed) when <code>crates/dashboard</code> was compiled.
The HTTP API under <code>/api/v1/</code> works as usual, and Grafana can use it as a Prometheus data source.</p>
<p>To build the dashboard, install Node.js 20 or later with npm, then run
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> and rebuild infersight
(<code>cargo build --release -p infersight</code>).</p>
</body></html>
"#;

/// The fallback page's style, a file of its own: the dashboard's
/// Content-Security-Policy allows no inline style.
const FALLBACK_CSS: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}code{background:#eee;padding:0 .3em}\n";

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");

    println!("cargo:rerun-if-env-changed=INFERSIGHT_SKIP_WEB_BUILD");
    // Only paths that exist: a missing one would make every build rerun this script.
    for source in SOURCES.iter().map(|s| web.join(s)).filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", source.display());
    }

    let skip = env::var_os("INFERSIGHT_SKIP_WEB_BUILD").is_some_and(|v| !v.is_empty() && v != "0");
    // Two cargo runs (build and clippy, two profiles) must not build web/dist at
    // the same time, nor read it while the other rewrites it.
    let _lock = BuildLock::acquire(&web.join(".build.lock"));
    let mut built_now = false;
    if !skip && web.join("package.json").exists() && is_stale(&web, &dist) {
        match build_web(&web) {
            Ok(()) => built_now = true,
            Err(why) => println!("cargo:warning=dashboard: {why}"),
        }
    }
    // Watch the output too (a `npm run build` by hand, a deleted dist), except
    // right after building it here: its fresh mtimes would rerun this script once more.
    if !built_now {
        println!("cargo:rerun-if-changed={}", dist.join("index.html").display());
    }

    // Embed a snapshot in OUT_DIR, taken under the lock, not web/dist itself.
    let files =
        if dist.join("index.html").is_file() { snapshot(&collect(&dist), &out.join("dist")) } else { Vec::new() };
    let generated = if files.is_empty() {
        println!(
            "cargo:warning=dashboard: web/dist is missing; embedding a page that explains how to build it \
             (install npm, then `cd web && npm ci && npm run build`)"
        );
        let page = out.join("fallback.html");
        fs::write(&page, FALLBACK).expect("writing the fallback page into OUT_DIR");
        let css = out.join("fallback.css");
        fs::write(&css, FALLBACK_CSS).expect("writing the fallback style into OUT_DIR");
        // Sorted by path, as the router's binary search needs.
        generate(&out, &[("fallback.css".to_owned(), css), ("index.html".to_owned(), page)], false)
    } else {
        generate(&out, &files, true)
    };
    fs::write(out.join("assets.rs"), generated).expect("writing assets.rs into OUT_DIR");
}

/// A lock file holding the owner's process id, kept while `web/dist` is built
/// and copied, removed on drop. A lock whose owner is gone (cargo was
/// interrupted) or that is older than five minutes is taken over.
struct BuildLock(Option<PathBuf>);

impl BuildLock {
    fn acquire(path: &Path) -> BuildLock {
        for _ in 0..3000 {
            match fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    let _ = write!(file, "{}", std::process::id());
                    return BuildLock(Some(path.to_owned()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if Self::abandoned(path) {
                        let _ = fs::remove_file(path);
                    } else {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                // A read-only checkout: go on without the lock.
                Err(_) => return BuildLock(None),
            }
        }
        BuildLock(None)
    }

    fn abandoned(path: &Path) -> bool {
        let age = fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > Duration::from_secs(300)) {
            return true;
        }
        let owner = fs::read_to_string(path).ok().and_then(|pid| pid.trim().parse::<u32>().ok());
        let proc_fs = Path::new("/proc/self").exists();
        // An empty lock may be one being written right now: wait for it.
        proc_fs && owner.is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists())
    }
}

impl Drop for BuildLock {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = fs::remove_file(path);
        }
    }
}

/// Copies `files` under `to` (replacing what was there) and returns the copies.
fn snapshot(files: &[(String, PathBuf)], to: &Path) -> Vec<(String, PathBuf)> {
    let _ = fs::remove_dir_all(to);
    let mut copies = Vec::with_capacity(files.len());
    for (relative, path) in files {
        let copy = to.join(relative);
        if let Some(parent) = copy.parent() {
            fs::create_dir_all(parent).expect("creating a directory in OUT_DIR");
        }
        fs::copy(path, &copy).unwrap_or_else(|e| panic!("copying {} into OUT_DIR: {e}", path.display()));
        copies.push((relative.clone(), copy));
    }
    copies
}

/// Whether `dist` is missing or older than any source file.
fn is_stale(web: &Path, dist: &Path) -> bool {
    let Some(built) = fs::metadata(dist.join("index.html")).and_then(|m| m.modified()).ok() else {
        return true;
    };
    SOURCES.iter().any(|source| newest(&web.join(source)).is_some_and(|t| t > built))
}

/// The newest modification time under `path` (a file or a directory).
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    fs::read_dir(path).ok()?.filter_map(|entry| entry.ok()).filter_map(|entry| newest(&entry.path())).max()
}

fn build_web(web: &Path) -> Result<(), String> {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        return Err("npm was not found, so web/ was not built".to_owned());
    }
    if !web.join("node_modules").is_dir() {
        run(Command::new(npm).args(["ci", "--no-audit", "--no-fund"]).current_dir(web))?;
    }
    run(Command::new(npm).args(["run", "build"]).current_dir(web))
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let output = command.output().map_err(|e| format!("{shown} could not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tail: Vec<&str> = stdout.lines().chain(stderr.lines()).rev().take(12).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!("{shown} failed ({}): {}", output.status, tail.join(" | ")))
}

/// Every file under `dist`, as (path relative to `dist` with `/`, absolute path), sorted.
fn collect(dist: &Path) -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if path.is_dir() {
                walk(&path, &relative, files);
            } else if path.is_file() {
                files.push((relative, path));
            }
        }
    }
    let mut files = Vec::new();
    walk(dist, "", &mut files);
    files.sort();
    files
}

/// The source of `assets.rs`: one `Asset` per file, with a gzip copy of
/// compressible files written next to it in `out`.
fn generate(out: &Path, files: &[(String, PathBuf)], built: bool) -> String {
    let mut code = String::new();
    let _ = writeln!(code, "/// Whether the embedded files are a real build of `web/` (not the fallback page).");
    let _ = writeln!(code, "pub(crate) const BUILT: bool = {built};");
    let _ = writeln!(code, "/// The embedded files, sorted by path.");
    let _ = writeln!(code, "pub(crate) static ASSETS: &[Asset] = &[");
    for (index, (relative, path)) in files.iter().enumerate() {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let gzip = compressible(relative).then(|| gzip(&bytes)).filter(|gz| gz.len() < bytes.len());
        let gzip_expr = match gzip {
            Some(gz) => {
                let gz_path = out.join(format!("asset-{index}.gz"));
                fs::write(&gz_path, gz).expect("writing a gzip copy into OUT_DIR");
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            }
            None => "None".to_owned(),
        };
        let _ = writeln!(
            code,
            "    Asset {{ path: {relative:?}, bytes: include_bytes!({:?}), gzip: {gzip_expr} }},",
            path.display().to_string()
        );
    }
    let _ = writeln!(code, "];");
    code
}

fn compressible(path: &str) -> bool {
    [".html", ".js", ".css", ".svg", ".json", ".txt", ".map"].iter().any(|ext| path.ends_with(ext))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}
