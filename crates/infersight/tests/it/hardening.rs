//! Issue 20 on the real binary: slow clients and connection floods held
//! off on both listeners, other sites' pages kept from reading answers and
//! from changing state, the dashboard's security headers, and decompression
//! bombs answered 413 with the server's memory bounded.

use std::time::{Duration, Instant};

use testkit::upstream::{Behaviour, FakeUpstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{Server, free_port, write_config_with};

const GRAFANA: &str = "https://grafana.example.com";

/// Connects to `port` and sends a request's headers a byte a second;
/// returns how long the server took to close the connection and what it sent.
async fn trickle_headers(port: u16) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        for byte in b"GET /-/ready HTTP/1.1\r\nHost: infersight\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n" {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection on {port} stayed open 30 s");
    sender.abort();
    (started.elapsed(), got)
}

/// A request on a fresh connection to `port`, kept open: `None` when the
/// server closed the connection without an answer.
async fn try_open(port: u16) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("the kernel accepts");
    let _ = stream.write_all(b"GET /-/ready HTTP/1.1\r\nHost: infersight\r\n\r\n").await;
    let mut buf = [0_u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.expect("answered or closed");
    match n {
        Ok(n) if n > 0 => {
            assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
            Some(stream)
        }
        _ => None,
    }
}

/// Waits until the server on `base` answers again.
async fn wait_until_served(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{base}/-/ready")).await.is_err() {
        assert!(Instant::now() < deadline, "no connection slot came free");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of the sample in the metrics `text` whose line starts with `series`.
fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in {text}"))
}

async fn metrics(base: &str) -> String {
    reqwest::get(format!("{base}/metrics")).await.expect("metrics").text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_20_slow_clients_floods_and_other_sites_are_held_off_on_both_listeners() {
    let dir = tempfile::tempdir().expect("tempdir");
    let upstream = FakeUpstream::start(Behaviour::default()).await;
    let (port, gateway_port) = (free_port(), free_port());
    let config = write_config_with(
        dir.path(),
        &dir.path().join("data"),
        port,
        &format!(
            "self_scrape = false\nread_header_timeout = \"3s\"\nread_timeout = \"3s\"\nmax_connections = 3\n\
             cors_origins = [\"{GRAFANA}\"]\n"
        ),
        &format!(
            "[gateway]\nlisten = \"127.0.0.1:{gateway_port}\"\n[[gateway.upstream]]\nname = \"fake\"\nurl = \"{}\"\n",
            upstream.url()
        ),
    );
    let server = Server::start_with_config(config, port).await;

    // Connections past max_connections are closed on arrival (a connection the
    // readiness probe just closed may still hold a slot for a moment).
    let mut open = Vec::new();
    while let Some(stream) = try_open(port).await {
        open.push(stream);
        assert!(open.len() <= 3, "a fourth connection was served");
    }
    assert!(!open.is_empty());
    drop(open);
    wait_until_served(&server.base).await;

    // A client that sends its headers a byte a second is cut off by read_header_timeout, on both listeners.
    for (listener, port) in [("api", port), ("gateway", gateway_port)] {
        let (elapsed, got) = trickle_headers(port).await;
        assert!(got.is_empty(), "{listener}: {}", String::from_utf8_lossy(&got));
        assert!(
            elapsed >= Duration::from_millis(2_500) && elapsed < Duration::from_secs(10),
            "{listener}: {elapsed:?}"
        );
    }
    let text = metrics(&server.base).await;
    assert!(value(&text, r#"infersight_http_connections_rejected_total{listener="api"}"#) >= 1);
    for listener in ["api", "gateway"] {
        let series = format!("infersight_http_read_timeouts_total{{listener=\"{listener}\",phase=\"header\"}}");
        assert!(value(&text, &series) >= 1, "{series}");
    }
    assert!(text.contains(r#"infersight_http_connections{listener="api"}"#), "{text}");

    // CORS: the configured origin only.
    let client = reqwest::Client::new();
    let query = format!("{}/api/v1/query?query=1", server.base);
    let allowed = client.get(&query).header("Origin", GRAFANA).send().await.expect("answer");
    assert_eq!(allowed.headers()["access-control-allow-origin"], GRAFANA);
    let other = client.get(&query).header("Origin", "https://evil.example").send().await.expect("answer");
    assert_eq!(other.status(), 200, "reads are answered; the browser withholds them from the page");
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    // Requests that change state from another site's page are refused, on both listeners; other clients pass.
    let flush = format!("{}/api/v1/admin/tsdb/flush", server.base);
    let cross =
        |url: &str| client.post(url).header("Origin", "https://evil.example").header("Sec-Fetch-Site", "cross-site");
    assert_eq!(cross(&flush).send().await.expect("answer").status(), 403);
    assert_eq!(client.post(&flush).send().await.expect("answer").status(), 200, "curl, scripts");
    let same = client.post(&flush).header("Origin", &server.base).header("Sec-Fetch-Site", "same-origin");
    assert_eq!(same.send().await.expect("answer").status(), 200, "the dashboard itself");
    let allowed = client.post(&flush).header("Origin", GRAFANA).header("Sec-Fetch-Site", "cross-site");
    assert_eq!(allowed.send().await.expect("answer").status(), 200, "a CORS origin");
    let chat = format!("http://127.0.0.1:{gateway_port}/v1/chat/completions");
    let body = serde_json::json!({"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]});
    assert_eq!(cross(&chat).json(&body).send().await.expect("answer").status(), 403, "the gateway");
    assert_eq!(client.post(&chat).json(&body).send().await.expect("answer").status(), 200);
    let text = metrics(&server.base).await;
    assert!(text.contains(r#"infersight_http_requests_refused_total{reason="cross_origin"} 2"#), "{text}");

    // The dashboard forbids inline script and framing.
    let page = client.get(format!("{}/", server.base)).send().await.expect("answer");
    let policy = page.headers()["content-security-policy"].to_str().expect("ASCII").to_owned();
    for directive in
        ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"]
    {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert!(server.terminate().await);
}

#[tokio::test]
async fn issue_20_web_yml_headers_win_over_the_dashboards() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("web.yml"),
        "http_server_config:\n  headers:\n    Content-Security-Policy: default-src 'none'\n    X-Frame-Options: deny\n",
    )
    .expect("write web.yml");
    let port = free_port();
    let web = dir.path().join("web.yml").display().to_string();
    let config = write_config_with(dir.path(), &dir.path().join("data"), port, &format!("web_config = {web:?}\n"), "");
    let server = Server::start_with_config(config, port).await;
    let page = reqwest::get(format!("{}/", server.base)).await.expect("answer");
    assert_eq!(page.headers()["content-security-policy"], "default-src 'none'");
    assert_eq!(page.headers()["x-frame-options"], "deny");
    assert_eq!(page.headers()["referrer-policy"], "same-origin", "what web.yml does not set stays");
    assert!(server.terminate().await);
}

/// The process's peak resident memory (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib << 10
}

#[tokio::test]
async fn issue_20_decompression_bombs_get_413_and_the_servers_memory_stays_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = write_config_with(
        dir.path(),
        &dir.path().join("data"),
        port,
        "self_scrape = false\nremote_write_max_bytes = \"64MiB\"\n",
        "",
    );
    let server = Server::start_with_config(config, port).await;
    let pid = server.child.id().expect("running");
    let client = reqwest::Client::new();
    let write = |body: Vec<u8>| {
        client
            .post(format!("{}/api/v1/write", server.base))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
    };
    // Warm up: a real write, so what the bombs add is all that grows.
    let warm = write(crate::server::write_body("warm", 100, 1_700_000_000_000, 1.0)).await.expect("answer");
    assert_eq!(warm.status(), 204);
    let before = peak_rss(pid);

    // A gigabyte of zeros in a megabyte of gzip, to OTLP.
    let gzip_bomb = testkit::bomb::gzip_zeros(1024);
    let gzip_len = gzip_bomb.len();
    let answer = client
        .post(format!("{}/api/v1/otlp/v1/metrics", server.base))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzip_bomb)
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 413);
    let status: serde_json::Value = answer.json().await.expect("a google.rpc.Status");
    assert_eq!(status["message"], "request body decompresses to more than the limit of 67108864 bytes");
    let after_gzip = peak_rss(pid);
    // A gigabyte of zeros in 50 MB of snappy, read whole (under the 64 MiB limit's compressed bound).
    let bomb = testkit::bomb::snappy_zeros(1 << 30);
    let bomb_len = bomb.len();
    let answer = write(bomb).await.expect("answer");
    assert_eq!(answer.status(), 413);
    let error: serde_json::Value = answer.json().await.expect("Prometheus's error JSON");
    assert_eq!(error["status"], "error");
    assert_eq!(error["errorType"], "bad_data");
    assert_eq!(error["error"], "request body decompresses to 1073741824 bytes, more than the limit of 67108864 bytes");
    // A header that claims 4 GiB over a few bytes.
    let answer = write(testkit::bomb::snappy_lying_header(u32::MAX)).await.expect("answer");
    assert_eq!(answer.status(), 413);
    let after = peak_rss(pid);
    eprintln!(
        "peak RSS: {} MiB before, {} MiB after a {} MB gzip bomb, {} MiB after a {} MB snappy bomb (each 1 GiB \
         decompressed, limit 64 MiB)",
        before >> 20,
        after_gzip >> 20,
        gzip_len / 1_000_000,
        after >> 20,
        bomb_len / 1_000_000
    );
    // Decompressed, either would take a GiB; bounded, the growth is the body plus at most the limit.
    assert!(after_gzip - before < 128 << 20, "the gzip bomb grew peak RSS by {} MiB", (after_gzip - before) >> 20);
    assert!(after - before < 256 << 20, "peak RSS grew by {} MiB", (after - before) >> 20);

    let text = metrics(&server.base).await;
    assert!(text.contains(r#"infersight_remote_write_rejected_total{reason="too_large"} 2"#), "{text}");
    assert!(text.contains(r#"infersight_otlp_rejected_total{reason="too_large"} 1"#), "{text}");
    assert!(server.terminate().await);
}
