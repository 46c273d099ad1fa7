//! Trains the learned scorers and prints their held-out figures beside the
//! rule-based scorers'. Without `--write` it checks that the committed
//! classifiers in `crates/quality/classifiers/` are byte for byte what the
//! trainer produces, and exits 1 when they are not.
//!
//! ```text
//! scripts/quality/fetch-training.sh      # registry packages, pinned, into target/quality-training
//! cargo run --release -p quality --example train -- [--write] [--shared DIR] [--packages DIR]
//! ```
//!
//! `--shared` defaults to `../shared/training` beside the repository, and
//! `--packages` to `target/quality-training`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut shared = root.join("../shared/training");
    let mut packages = root.join("target/quality-training");
    let mut write = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write" => write = true,
            "--shared" => shared = args.next().map(PathBuf::from).unwrap_or(shared),
            "--packages" => packages = args.next().map(PathBuf::from).unwrap_or(packages),
            other => {
                eprintln!("unknown argument {other:?}; usage: train [--write] [--shared DIR] [--packages DIR]");
                return ExitCode::from(2);
            }
        }
    }
    let trained = match quality::train::train(&shared, &packages) {
        Ok(trained) => trained,
        Err(err) => {
            eprintln!("training failed: {err} (shared {}, packages {})", shared.display(), packages.display());
            return ExitCode::FAILURE;
        }
    };
    print!("{}", trained.report);
    let dir = root.join("crates/quality/classifiers");
    let mut total = 0;
    let mut differ = Vec::new();
    for (name, bytes) in &trained.files {
        total += bytes.len();
        let path = dir.join(name);
        if write {
            if let Err(err) = std::fs::write(&path, bytes) {
                eprintln!("cannot write {}: {err}", path.display());
                return ExitCode::FAILURE;
            }
        } else if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            differ.push(name.clone());
        }
    }
    println!("classifier files: {} bytes in all", total);
    if write {
        println!("wrote {}", dir.display());
    } else if differ.is_empty() {
        println!("the committed classifiers are what this trainer produces");
    } else {
        println!("differ from what this trainer produces: {}", differ.join(", "));
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
