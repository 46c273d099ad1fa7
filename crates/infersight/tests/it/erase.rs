//! Issue 20 on the real binary: a data subject's exchanges, sent through the
//! gateway with their `user` and session header, erased by an admin's
//! `DELETE`, gone from the API and from every file of the data directory,
//! and their ids in no log line or series.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::upstream::{Behaviour, FakeUpstream};
use tokio::process::Command;

use crate::server::{free_port, write_config_with};

const ALICE: &str = "alice-5e21@example.com";
const ALICE_SESSION: &str = "alice-chat-90c4";
const ALICE_TEXT: &str = "my passport number is XK-7731-0042";
const BOB_TEXT: &str = "what is the capital of France";

/// Whether `needle` is in any file under `dir`.
fn in_files(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(in_files(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes())) {
            found.push(path.display().to_string());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_an_admin_erases_a_users_exchanges_through_the_api_and_from_the_files() {
    let upstream = FakeUpstream::start(Behaviour::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (port, gateway_port) = (free_port(), free_port());
    let rest = format!(
        "[quality]\nsample_rate = 1.0\n\n[gateway]\nlisten = \"127.0.0.1:{gateway_port}\"\n\n\
         [[gateway.upstream]]\nname = \"fake\"\nurl = \"{}\"\nmodels = [\"fake-model\"]\n",
        upstream.url()
    );
    let config = write_config_with(dir.path(), &data, port, "", &rest);
    let log_path = dir.path().join("infersight.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["--log-level", "debug", "serve", "--config", config.to_str().expect("utf-8")])
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn infersight");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{base}/-/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let chat = format!("http://127.0.0.1:{gateway_port}/v1/chat/completions");
    let ask = |user: &str, text: &str, session: Option<&str>| {
        let body = json!({"model": "fake-model", "user": user, "messages": [{"role": "user", "content": text}]});
        let request = client.post(&chat).json(&body);
        match session {
            Some(session) => request.header("x-infersight-session", session),
            None => request,
        }
    };
    for request in [
        ask(ALICE, ALICE_TEXT, Some(ALICE_SESSION)),
        ask("bob", BOB_TEXT, Some("bob-chat")),
        ask(ALICE, ALICE_TEXT, None),
    ] {
        let response = request.send().await.expect("gateway answers");
        assert_eq!(response.status(), 200);
        response.bytes().await.expect("whole answer");
    }

    let exchanges = format!("{base}/api/v1/infersight/exchanges");
    let page = |query: &'static str| {
        let url = format!("{exchanges}{query}");
        let client = client.clone();
        async move {
            let page: Value = client.get(url).send().await.expect("answer").json().await.expect("JSON");
            page["data"]["exchanges"].as_array().cloned().unwrap_or_default()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while page("").await.len() < 3 {
        assert!(Instant::now() < deadline, "the exchanges were not stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hers = page("?user=alice-5e21%40example.com").await;
    assert_eq!(hers.len(), 2, "a data-subject access request finds both of hers");
    assert!(hers.iter().any(|e| e["session"] == ALICE_SESSION), "{hers:?}");

    // Without authentication configured everyone is admin; with it, only the admin role erases (see auth.rs).
    let refused = client.delete(&exchanges).send().await.expect("answer");
    assert_eq!(refused.status(), 400, "no criteria, no erasure");
    let erased: Value = client
        .delete(format!("{exchanges}?user=alice-5e21%40example.com"))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(erased, json!({"status": "success", "data": {"erased": 2}}));

    assert!(page("?user=alice-5e21%40example.com").await.is_empty());
    let left = page("").await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!((&left[0]["user"], &left[0]["session"]), (&json!("bob"), &json!("bob-chat")));
    assert_eq!(left[0]["prompt"], format!("user: {BOB_TEXT}"));
    let metrics = client.get(format!("{base}/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("infersight_exchanges_erased_total 2"), "{metrics}");

    let pid = child.id().expect("running");
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("exits").expect("wait");
    assert!(exit.success());

    assert!(!in_files(&data, BOB_TEXT).is_empty(), "bob's exchange is kept in the data directory");
    for gone in [ALICE_TEXT, ALICE, ALICE_SESSION] {
        assert_eq!(in_files(&data, gone), Vec::<String>::new(), "{gone:?} is left in the data directory");
    }
    let logs = std::fs::read_to_string(&log_path).expect("logs");
    assert!(logs.contains("Exchanges erased on request"), "{logs}");
    for id in [ALICE, ALICE_SESSION, "bob-chat"] {
        assert!(!logs.contains(id), "{id} in the logs:\n{logs}");
        assert!(!metrics.contains(id), "{id} in the metrics");
    }
}
