//! `serve --scrape KIND=URL`, `--listen` and `--print-config`: pointing
//! infersight at a server without writing a config file first.

use std::process::Command;

use crate::server::{Server, free_port, write_config_with};

fn infersight(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_infersight")).args(args).output().expect("run infersight")
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

#[tokio::test]
async fn scrape_flag_makes_a_preset_target_without_a_config_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, engine_port) = (free_port(), free_port());
    let listen = format!("127.0.0.1:{port}");
    let vllm = format!("vllm=http://127.0.0.1:{engine_port}");
    let server = Server::start_with_args(&["serve", "--scrape", &vllm, "--listen", &listen], dir.path(), port).await;

    let targets: serde_json::Value =
        reqwest::get(format!("{}/api/v1/targets", server.base)).await.expect("targets").json().await.expect("JSON");
    let active = targets["data"]["activeTargets"].as_array().expect("active targets");
    let target = active.iter().find(|t| t["scrapePool"] == "vllm").expect("a vllm job");
    assert_eq!(target["scrapeUrl"], format!("http://127.0.0.1:{engine_port}/metrics"));
    assert_eq!(target["labels"]["serving_engine"], "vllm");
    assert_eq!(target["labels"]["instance"], format!("127.0.0.1:{engine_port}"));
    assert!(active.iter().any(|t| t["scrapePool"] == "infersight"), "the self-scrape stays: {active:?}");
    assert!(dir.path().join("infersight-data").is_dir(), "the default data directory, under the working directory");
    assert!(server.terminate().await);
}

#[test]
fn print_config_prints_the_file_and_flags_as_a_file_that_loads_back_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_config_with(
        dir.path(),
        &dir.path().join("data"),
        free_port(),
        "",
        "[[scrape]]\njob_name = \"gpus\"\npreset = \"dcgm\"\ntargets = [\"gpu-1:9400\"]\n",
    );
    let file = file.to_str().expect("utf-8");
    let flags = [
        "--scrape",
        "vllm=http://10.0.0.5:8000",
        "--scrape",
        "triton=http://10.0.0.7:8002/metrics",
        "--scrape",
        "openai=http://10.0.0.5:8000",
        "--listen",
        "127.0.0.1:9490",
    ];
    let printed = stdout(&infersight(&[&["serve", "--config", file, "--print-config"][..], &flags].concat()));
    for expected in [
        "listen = \"127.0.0.1:9490\"",
        "job_name = \"gpus\"",
        "preset = \"vllm\"\ntargets = [\"10.0.0.5:8000\"]",
        "preset = \"triton\"\ntargets = [\"10.0.0.7:8002\"]",
        "[[gateway.upstream]]\nname = \"10.0.0.5:8000\"\nurl = \"http://10.0.0.5:8000/v1\"\nmodels = [\"*\"]",
        "retention = \"15d\"",
    ] {
        assert!(printed.contains(expected), "{expected:?} in\n{printed}");
    }

    let saved = dir.path().join("printed.toml");
    std::fs::write(&saved, &printed).expect("write");
    let saved = saved.to_str().expect("utf-8");
    let out = infersight(&["check-config", saved]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&infersight(&["serve", "--config", saved, "--print-config"])), printed);
    let again = stdout(&infersight(&[&["serve", "--config", saved, "--print-config"][..], &flags].concat()));
    assert_eq!(again, printed, "the same flags on the printed file add nothing twice");
}

#[test]
fn scrape_flag_with_an_unknown_kind_or_a_bad_url_is_a_usage_error() {
    let out = infersight(&["serve", "--scrape", "vlm=http://localhost:8000"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown kind \"vlm\"; accepted kinds: vllm, sglang, tgi, triton, dcgm, node, openai"),
        "{stderr}"
    );

    let out = infersight(&["serve", "--scrape", "vllm=localhost:8000", "--print-config"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"localhost:8000\" is not an http(s) URL, like http://localhost:8000"), "{stderr}");
}

#[test]
fn print_config_of_an_invalid_file_prints_its_problems_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[quality]\nsample_rat = 0.2\n").expect("write");
    let out = infersight(&["serve", "--config", bad.to_str().expect("utf-8"), "--print-config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("quality.sample_rat: unknown key"));
}
