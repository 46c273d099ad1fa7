//! Issue 20 on the real binary: TLS and basic auth from a Prometheus
//! web.yml on both listeners, tokens, roles, the audit of exchange reads,
//! a named gateway key with a limit, and no configured secret in any log
//! line, metric or error body.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::json;
use testkit::upstream::{Behaviour, FakeUpstream};
use tokio::process::Command;

use crate::server::{free_port, write_body};

/// Every secret the configuration holds; none may come back out.
const ALICE_PASSWORD: &str = "alice-pw-7c1e5b";
const BOB_PASSWORD: &str = "bob-pw-93aa04";
const PROM_PASSWORD: &str = "prom-pw-d2f6e1";
const GRAFANA_TOKEN: &str = "grafana-token-5e0b2f8c";
const EXPIRED_TOKEN: &str = "expired-token-1f4d77";
const GATEWAY_KEY: &str = "gateway-key-a8b3c9";
const TEAM_KEY: &str = "team-key-0d93be";
const UPSTREAM_KEY: &str = "upstream-key-64e2d0";

/// A CA and a server certificate for `localhost`, as `ca.pem`, `server.pem`, `server-key.pem`.
fn write_certificates(dir: &Path) {
    let mut ca_params = CertificateParams::new(Vec::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "infersight system-test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
    let key = KeyPair::generate().expect("key");
    let server =
        CertificateParams::new(vec!["localhost".to_owned()]).expect("params").signed_by(&key, &ca).expect("cert");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("write");
    std::fs::write(dir.join("server-key.pem"), key.serialize_pem()).expect("write");
}

pub(crate) fn sha256_hex(text: &str) -> String {
    let output = std::process::Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8(output.stdout).expect("utf-8").split_whitespace().next().expect("digest").to_owned()
}

/// `infersight hash-password` with `password` on standard input.
fn hash_password(password: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_infersight"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes())?;
            child.wait_with_output()
        })
        .expect("hash-password");
    assert!(output.status.success());
    let hash = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();
    assert!(hash.starts_with("$2b$10$") && hash.len() == 60, "{hash}");
    hash
}

/// Collects every answer's body, to search for secrets at the end.
struct Seen {
    bodies: String,
}

impl Seen {
    async fn status(&mut self, request: reqwest::RequestBuilder) -> u16 {
        let response = request.send().await.expect("response");
        let status = response.status().as_u16();
        for (name, value) in response.headers() {
            self.bodies.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
        }
        self.bodies.push_str(&response.text().await.expect("body"));
        status
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_tls_basic_auth_tokens_and_roles_on_both_listeners_and_no_secret_comes_back_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_certificates(dir.path());
    let web = format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n  min_version: TLS12\n\
         http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n    X-Frame-Options: deny\n\
         basic_auth_users:\n  alice: {}\n  bob: {}\n  prometheus: {}\n",
        hash_password(ALICE_PASSWORD),
        hash_password(BOB_PASSWORD),
        hash_password(PROM_PASSWORD),
    );
    std::fs::write(dir.path().join("web.yml"), web).expect("write web.yml");
    let upstream = FakeUpstream::start(Behaviour::default()).await;
    let (port, gateway_port) = (free_port(), free_port());
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\nweb_config = {web:?}\nself_scrape_interval = \"1s\"\n\n[storage]\npath = {data:?}\n\n\
         [quality]\nsample_rate = 1.0\n\n[auth.users]\nalice = [\"metrics\", \"exchanges\", \"admin\"]\n\
         prometheus = [\"ingest\"]\n\n[[auth.token]]\nname = \"grafana\"\nhash = \"sha256:{grafana}\"\n\
         roles = [\"metrics\"]\n\n[[auth.token]]\nname = \"old\"\nhash = \"sha256:{expired}\"\nroles = [\"metrics\"]\n\
         expires = \"2020-01-01T00:00:00Z\"\n\n[gateway]\nlisten = \"127.0.0.1:{gateway_port}\"\n\
         api_keys = [\"{GATEWAY_KEY}\"]\n\n[[gateway.upstream]]\nname = \"fake\"\nurl = \"{url}\"\n\
         api_key = \"${{INFERSIGHT_TEST_UPSTREAM_KEY}}\"\n\n[[gateway.key]]\nname = \"team-a\"\n\
         hash = \"sha256:{team}\"\nrequests_per_minute = 1\n",
        web = dir.path().join("web.yml").display().to_string(),
        data = dir.path().join("data").display().to_string(),
        grafana = sha256_hex(GRAFANA_TOKEN),
        expired = sha256_hex(EXPIRED_TOKEN),
        team = sha256_hex(TEAM_KEY),
        url = upstream.url(),
    );
    let config_path = dir.path().join("infersight.toml");
    std::fs::write(&config_path, config).expect("write config");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["check-config", config_path.to_str().expect("utf-8")])
        .env("INFERSIGHT_TEST_UPSTREAM_KEY", UPSTREAM_KEY)
        .output()
        .expect("check-config");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    let log_path = dir.path().join("infersight.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["--log-level", "debug", "serve", "--config", config_path.to_str().expect("utf-8")])
        .env("INFERSIGHT_TEST_UPSTREAM_KEY", UPSTREAM_KEY)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn infersight");

    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("ca.pem")).expect("ca")).expect("ca");
    let client =
        reqwest::Client::builder().tls_built_in_root_certs(false).add_root_certificate(ca).build().expect("client");
    let base = format!("https://localhost:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Readiness needs no credentials, for load balancers and kubelets.
        if let Ok(response) = client.get(format!("{base}/-/ready")).send().await
            && response.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "server did not become ready over TLS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut seen = Seen { bodies: String::new() };
    let query = format!("{base}/api/v1/query?query=up");
    let exchanges = format!("{base}/api/v1/infersight/exchanges");

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/query?query=up")).await;
    assert!(plain.as_ref().is_err(), "plain HTTP on the TLS port: {plain:?}");

    assert_eq!(seen.status(client.get(&query)).await, 401, "no credentials");
    assert_eq!(seen.status(client.get(&query).basic_auth("alice", Some("wrong"))).await, 401, "wrong password");
    assert_eq!(seen.status(client.get(&query).basic_auth("mallory", Some(ALICE_PASSWORD))).await, 401);
    assert_eq!(seen.status(client.get(&query).bearer_auth(EXPIRED_TOKEN)).await, 401, "expired token");
    assert_eq!(seen.status(client.get(&query).bearer_auth("unknown-token")).await, 401, "unknown token");
    assert_eq!(seen.status(client.get(&query).basic_auth("alice", Some(ALICE_PASSWORD))).await, 200);
    assert_eq!(seen.status(client.get(&query).basic_auth("bob", Some(BOB_PASSWORD))).await, 200);
    assert_eq!(seen.status(client.get(&query).bearer_auth(GRAFANA_TOKEN)).await, 200);
    let headers = client.get(&query).bearer_auth(GRAFANA_TOKEN).send().await.expect("response");
    assert_eq!(headers.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(headers.headers()["x-frame-options"], "deny");
    // A metrics user sees no exchange text and cannot flush.
    assert_eq!(seen.status(client.get(&exchanges).basic_auth("bob", Some(BOB_PASSWORD))).await, 403);
    assert_eq!(seen.status(client.get(&exchanges).bearer_auth(GRAFANA_TOKEN)).await, 403);
    // Only an admin erases a data subject's exchanges.
    let erase = format!("{exchanges}?user=nobody");
    assert_eq!(seen.status(client.delete(&erase).basic_auth("bob", Some(BOB_PASSWORD))).await, 403);
    assert_eq!(seen.status(client.delete(&erase).bearer_auth(GRAFANA_TOKEN)).await, 403);
    assert_eq!(seen.status(client.delete(&erase).basic_auth("alice", Some(ALICE_PASSWORD))).await, 200);
    let flush = format!("{base}/api/v1/admin/tsdb/flush");
    assert_eq!(seen.status(client.post(&flush).basic_auth("bob", Some(BOB_PASSWORD))).await, 403);
    assert_eq!(seen.status(client.post(&flush).basic_auth("alice", Some(ALICE_PASSWORD))).await, 200);

    // Remote write over TLS with basic auth, as Prometheus sends it: the ingest role only.
    let write = |user: &str, password: &str| {
        client
            .post(format!("{base}/api/v1/write"))
            .basic_auth(user, Some(password))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(write_body("auth_test_metric", 3, 1_700_000_000_000, 1.0))
    };
    assert_eq!(seen.status(write("prometheus", PROM_PASSWORD)).await, 204);
    assert_eq!(seen.status(write("bob", BOB_PASSWORD)).await, 403);
    assert_eq!(seen.status(client.get(&query).basic_auth("prometheus", Some(PROM_PASSWORD))).await, 403);

    // The gateway speaks TLS with the same certificate; its clients send the gateway's key.
    let chat = format!("https://localhost:{gateway_port}/v1/chat/completions");
    let body = json!({"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]});
    assert_eq!(seen.status(client.post(&chat).json(&body)).await, 401, "no gateway key");
    assert_eq!(seen.status(client.post(&chat).bearer_auth("wrong-key").json(&body)).await, 401);
    assert_eq!(seen.status(client.post(&chat).bearer_auth(GATEWAY_KEY).json(&body)).await, 200);
    let sent = upstream.requests();
    let authorization = sent.last().expect("a request upstream").headers["authorization"].to_str().expect("ascii");
    assert_eq!(authorization, format!("Bearer {UPSTREAM_KEY}"), "the upstream gets its own key, not the client's");
    // A named key is let in until its limit, then told when to come back.
    assert_eq!(seen.status(client.post(&chat).bearer_auth(TEAM_KEY).json(&body)).await, 200);
    let limited = client.post(&chat).bearer_auth(TEAM_KEY).json(&body).send().await.expect("response");
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()["retry-after"].to_str().is_ok_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s)))
    );
    seen.bodies.push_str(&limited.text().await.expect("body"));

    // Both exchanges are stored (sample_rate 1), the named key's with its
    // name; every exchange read is audited and counted.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut n_read = 0;
    loop {
        let page: serde_json::Value = client
            .get(&exchanges)
            .basic_auth("alice", Some(ALICE_PASSWORD))
            .send()
            .await
            .expect("exchanges")
            .json()
            .await
            .expect("JSON");
        let stored = page["data"]["exchanges"].as_array().cloned().unwrap_or_default();
        n_read += stored.len();
        if stored.len() >= 2 {
            assert!(stored.iter().any(|record| record["gateway_key"] == "team-a"), "{page}");
            seen.bodies.push_str(&page.to_string());
            break;
        }
        assert!(Instant::now() < deadline, "the exchange was not stored");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Behind TLS the self-scrape reads the registry in process: infersight's own series are stored.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer: serde_json::Value = client
            .get(format!("{base}/api/v1/query"))
            .query(&[(
                "query",
                "count({job=\"infersight\", __name__=~\"infersight_.*\"}) and on() up{job=\"infersight\"} == 1",
            )])
            .bearer_auth(GRAFANA_TOKEN)
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("JSON");
        let count = answer["data"]["result"][0]["value"][1].as_str().and_then(|v| v.parse::<f64>().ok());
        if count.is_some_and(|n| n > 10.0) {
            break;
        }
        assert!(Instant::now() < deadline, "infersight's own series are not stored behind TLS: {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let metrics = client.get(format!("{base}/metrics")).basic_auth("alice", Some(ALICE_PASSWORD)).send().await;
    let metrics = metrics.expect("metrics").text().await.expect("text");
    assert!(metrics.contains(&format!("infersight_exchange_reads_total{{user=\"alice\"}} {n_read}")), "{metrics}");
    assert!(metrics.contains("infersight_http_requests_refused_total{reason=\"invalid\"}"), "{metrics}");
    assert!(
        metrics.contains(
            "infersight_gateway_requests_rejected_total{infersight_gateway_key=\"team-a\",reason=\"requests_per_minute\"} 1"
        ),
        "{metrics}"
    );
    seen.bodies.push_str(&metrics);

    let pid = child.id().expect("running");
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(60), child.wait()).await.expect("exits").expect("wait");
    assert!(exit.success());

    let logs = std::fs::read_to_string(&log_path).expect("logs");
    assert!(logs.contains("infersight started"), "{logs}");
    for secret in
        [ALICE_PASSWORD, BOB_PASSWORD, PROM_PASSWORD, GRAFANA_TOKEN, EXPIRED_TOKEN, GATEWAY_KEY, TEAM_KEY, UPSTREAM_KEY]
    {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
        assert!(!seen.bodies.contains(secret), "{secret} in an answer:\n{}", seen.bodies);
    }
}
