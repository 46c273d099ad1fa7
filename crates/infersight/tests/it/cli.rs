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

#[test]
fn score_writes_one_line_per_input_line_and_exits_1_when_a_line_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"id\": \"a\", \"text\": \"Write to ana@example.com please.\"}\n",
            "not json\n",
            "{\"id\": 3, \"text\": \"Nothing personal here.\"}\n",
        ),
    )
    .expect("write");
    let out = infersight(&[
        "score",
        "--scorer",
        "pii",
        "--input",
        input.to_str().expect("utf-8"),
        "--output",
        output.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "one line failed");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .expect("output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["label"], 1);
    assert_eq!(lines[0]["spans"][0], serde_json::json!({"start": 9, "end": 24, "type": "EMAIL_ADDRESS"}));
    assert!(lines[1]["error"].is_string(), "{}", lines[1]);
    assert_eq!(lines[2]["id"], 3);
    assert_eq!(lines[2]["label"], 0);
}

#[test]
fn score_with_an_unknown_scorer_is_a_usage_error() {
    let out = infersight(&["score", "--scorer", "vibes", "--input", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scorer \"vibes\""));
}

#[test]
fn drift_reads_windows_and_answers_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    let window = |text: &str| {
        (0..40).map(|i| serde_json::json!({"prompt": "q", "response": format!("{text} {}", i % 5)})).collect::<Vec<_>>()
    };
    let same = serde_json::json!({"id": "same", "baseline": window("the soup simmers gently"), "current": window("the soup simmers gently")});
    let changed = serde_json::json!({"id": "changed", "baseline": window("the soup simmers gently"),
        "current": window("Je suis désolé, je ne peux pas vous aider avec cette demande aujourd'hui")});
    std::fs::write(&input, format!("{same}\n{changed}\n")).expect("write");
    let out = infersight(&["drift", "--input", input.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(lines[0]["id"], "same");
    assert_eq!(lines[0]["drift"], 0);
    assert_eq!(lines[1]["id"], "changed");
    assert_eq!(lines[1]["drift"], 1);
    assert!(lines[1]["p_value"].as_f64().expect("p_value") <= 0.01);
}
