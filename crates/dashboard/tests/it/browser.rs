//! Runs the browser test (`web/tests/browser.mjs`, playwright-core driving Chromium) when it can.
//!
//! It needs `node`, `web/node_modules` and a Chromium (`/usr/bin/chromium`
//! or `CHROMIUM`); without them it prints why it skipped. The node script
//! starts its own API (the fixture server, or `infersight demo` when
//! `INFERSIGHT_BIN` names a binary that has it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

#[test]
fn dashboard_in_a_browser() {
    let web = web();
    let chromium =
        std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let skip = if !node_ok {
        Some("node is not installed".to_owned())
    } else if !web.join("node_modules/playwright-core").is_dir() {
        Some("web/node_modules is missing (run `npm ci` in web/)".to_owned())
    } else if !chromium.exists() {
        Some(format!("{} is missing (apt-get install -y chromium)", chromium.display()))
    } else if !web.join("dist/index.html").exists() {
        Some("web/dist is missing (run `npm run build` in web/)".to_owned())
    } else {
        None
    };
    if let Some(why) = skip {
        eprintln!("skipping the browser test: {why}");
        return;
    }
    let output = Command::new("node")
        .arg("tests/browser.mjs")
        .current_dir(&web)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(output.status.success(), "the browser test failed ({})", output.status);
}
