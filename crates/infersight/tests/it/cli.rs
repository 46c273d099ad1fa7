//! The command line: version, config checking, exit codes, the directory lock.

use std::process::Command;

use crate::server::{Server, free_port, write_config};

fn infersight(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_infersight")).args(args).output().expect("run infersight")
}

#[test]
fn version_prints_the_package_version() {
    let out = infersight(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn check_config_accepts_the_example_and_lists_every_problem() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/infersight.example.toml");
    let out = infersight(&["check-config", example]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten = \"nowhere\"\n[storage]\nretention = \"1x\"\n").expect("write");
    let out = infersight(&["check-config", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server.listen:"), "{stderr}");
    assert!(stderr.contains("storage.retention:"), "{stderr}");
}

#[test]
fn serve_with_a_bad_config_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[storage]\nretension = \"15d\"\n").expect("write");
    let out = infersight(&["serve", "--config", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("storage.retension"));
}

#[tokio::test]
async fn a_second_server_on_the_same_directory_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let first = Server::start(dir.path(), &data_dir).await;
    let config = write_config(dir.path(), &data_dir, free_port());
    let out = infersight(&["serve", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked by another process"));
    assert!(first.terminate().await);
}
