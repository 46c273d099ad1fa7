//! Issue 20 over real sockets: slow clients disconnected by the read
//! timeouts, connections past `max_connections` closed and counted, CORS
//! headers for configured origins only, and state-changing requests from
//! other sites refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use access::{AuthConfig, CorsOrigins, Guard, Limits, Listener, Metrics, TokenConfig, WebSettings};
use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::{get, post};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// A plain-TCP listener serving a small app within `limits`, guarded by `guard`.
struct Served {
    addr: SocketAddr,
    registry: Registry,
    stop: CancellationToken,
}

impl Served {
    async fn start(limits: Limits, guard: impl FnOnce(Metrics) -> Guard) -> Served {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        let app = Router::new()
            .route("/api/v1/query", get(|| async { "metrics" }))
            .route("/api/v1/admin/tsdb/flush", post(|| async { "flushed" }))
            .route(
                "/api/v1/write",
                post(|body: Body| async move {
                    match axum::body::to_bytes(body, usize::MAX).await {
                        Ok(bytes) => (StatusCode::OK, format!("{} bytes", bytes.len())),
                        Err(error) => (
                            StatusCode::REQUEST_TIMEOUT,
                            format!("{error}: {:?}", std::error::Error::source(&error).map(ToString::to_string)),
                        ),
                    }
                }),
            );
        let router = Arc::new(guard(metrics.clone())).protect(app);
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let listener = Listener::new("api", tcp, None, limits, metrics);
        let addr = listener.local_addr().expect("address");
        let stop = CancellationToken::new();
        tokio::spawn(access::serve(listener, router, stop.clone()));
        Served { addr, registry, stop }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn metrics(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encode");
        text
    }

    /// Waits until the metrics text has `line`.
    async fn wait_for_metric(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.metrics().contains(line) {
            assert!(Instant::now() < deadline, "no {line:?} in\n{}", self.metrics());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn open_guard(metrics: Metrics) -> Guard {
    Guard::new(
        &WebSettings::default(),
        AuthConfig::default().validate(&Default::default()).expect("auth"),
        metrics,
        clock(),
    )
}

fn clock() -> access::Clock {
    Arc::new(|| 1_750_000_000_000)
}

fn short(read_header_timeout: u64, read_timeout: u64, max_connections: usize) -> Limits {
    Limits {
        read_header_timeout: Duration::from_secs(read_header_timeout),
        read_timeout: Duration::from_secs(read_timeout),
        max_connections,
    }
}

/// Reads until the server closes the connection (or resets it); returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes `bytes` one a second until the peer stops taking them; returns how many went.
async fn trickle(mut writer: tokio::net::tcp::OwnedWriteHalf, bytes: &'static [u8]) -> usize {
    for (i, byte) in bytes.iter().enumerate() {
        if writer.write_all(std::slice::from_ref(byte)).await.is_err() {
            return i;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    bytes.len()
}

#[tokio::test]
async fn issue_20_a_client_trickling_its_headers_is_disconnected_by_read_header_timeout() {
    let served = Served::start(short(3, 60, 16), open_guard).await;
    let started = Instant::now();
    let stream = TcpStream::connect(served.addr).await.expect("connect");
    let (mut reader, writer) = stream.into_split();
    let headers: &'static [u8] = b"GET /api/v1/query HTTP/1.1\r\nHost: infersight\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n\r\n";
    let sender = tokio::spawn(trickle(writer, headers));
    let mut got = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut got)).await;
    let elapsed = started.elapsed();
    assert!(closed.is_ok(), "the connection stayed open for 20 s");
    assert!(elapsed >= Duration::from_millis(2_500) && elapsed < Duration::from_secs(8), "closed after {elapsed:?}");
    assert!(got.is_empty(), "no request was answered: {}", String::from_utf8_lossy(&got));
    let sent = sender.await.expect("sender");
    assert!(sent < headers.len(), "the client sent all {sent} bytes: the timeout did not cut it off");
    served.wait_for_metric(r#"infersight_http_read_timeouts_total{listener="api",phase="header"} 1"#).await;
}

#[tokio::test]
async fn issue_20_an_idle_connection_is_closed_by_read_header_timeout() {
    let served = Served::start(short(1, 60, 16), open_guard).await;
    let mut stream = TcpStream::connect(served.addr).await.expect("connect");
    let started = Instant::now();
    let got = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut stream)).await.expect("closed");
    assert!(got.is_empty());
    assert!(started.elapsed() < Duration::from_secs(5), "closed after {:?}", started.elapsed());

    // A client that keeps to the timeouts is served, and its keep-alive connection reused.
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client.get(served.url("/api/v1/query")).send().await.expect("response");
        assert_eq!(response.text().await.expect("body"), "metrics");
    }
    // Once idle past the timeout it is closed too, but not counted: it was served.
    served.wait_for_metric(r#"infersight_http_connections{listener="api"} 0"#).await;
    let text = served.metrics();
    assert!(text.contains(r#"infersight_http_read_timeouts_total{listener="api",phase="header"} 1"#), "{text}");
}

#[tokio::test]
async fn issue_20_a_body_trickled_past_read_timeout_fails_and_the_connection_closes() {
    let served = Served::start(short(10, 2, 16), open_guard).await;
    let stream = TcpStream::connect(served.addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"POST /api/v1/write HTTP/1.1\r\nHost: infersight\r\nContent-Length: 32\r\n\r\n")
        .await
        .expect("headers");
    let started = Instant::now();
    let sender = tokio::spawn(trickle(writer, b"0123456789abcdef0123456789abcdef"));
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut got)).await.expect("closed").ok();
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&got);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request body not received within read_timeout (2s)"), "{answer}");
    assert!(elapsed >= Duration::from_millis(1_500) && elapsed < Duration::from_secs(8), "answered after {elapsed:?}");
    sender.abort();
    served.wait_for_metric(r#"infersight_http_read_timeouts_total{listener="api",phase="body"} 1"#).await;

    // A body sent at once is read whole.
    let response = reqwest::Client::new().post(served.url("/api/v1/write")).body(vec![7; 100_000]).send().await;
    assert_eq!(response.expect("response").text().await.expect("body"), "100000 bytes");
}

#[tokio::test]
async fn issue_20_connections_past_max_connections_are_closed_and_counted() {
    let served = Served::start(short(10, 60, 2), open_guard).await;
    let request = b"GET /api/v1/query HTTP/1.1\r\nHost: infersight\r\n\r\n";
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(served.addr).await.expect("connect");
        stream.write_all(request).await.expect("request");
        let mut buf = [0_u8; 1024];
        let n = stream.read(&mut buf).await.expect("response");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
        open.push(stream);
    }
    served.wait_for_metric(r#"infersight_http_connections{listener="api"} 2"#).await;

    // The third is closed before it is read.
    let mut third = TcpStream::connect(served.addr).await.expect("the kernel accepts");
    let _ = third.write_all(request).await;
    let got = tokio::time::timeout(Duration::from_secs(5), read_to_close(&mut third)).await.expect("closed");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    served.wait_for_metric(r#"infersight_http_connections_rejected_total{listener="api"} 1"#).await;

    // A closed connection frees its slot.
    drop(open.pop());
    served.wait_for_metric(r#"infersight_http_connections{listener="api"} 1"#).await;
    let response = reqwest::get(served.url("/api/v1/query")).await.expect("a slot is free");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn issue_20_cors_is_off_by_default_and_answers_configured_origins_only() {
    const GRAFANA: &str = "https://grafana.example.com";
    let client = reqwest::Client::new();

    let off = Served::start(Limits::default(), open_guard).await;
    let response = client.get(off.url("/api/v1/query")).header("Origin", GRAFANA).send().await.expect("response");
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("access-control-allow-origin"), "{:?}", response.headers());
    assert!(!response.headers().contains_key("vary"));

    // With a token configured, so that credentials are needed.
    let token = TokenConfig {
        name: "grafana".into(),
        hash: access::Secret::new(bcrypt::hash("grafana-token", 4).expect("hash")),
        roles: vec!["metrics".into()],
        expires: None,
    };
    let auth = AuthConfig { tokens: vec![token], ..AuthConfig::default() };
    let credentials = auth.validate(&Default::default()).expect("auth");
    let on = Served::start(Limits::default(), |metrics| {
        Guard::new(&WebSettings::default(), credentials, metrics, clock())
            .with_cors(CorsOrigins::new(&[GRAFANA]).expect("origins"))
    })
    .await;
    let query = on.url("/api/v1/query");
    let response =
        client.get(&query).header("Origin", GRAFANA).bearer_auth("grafana-token").send().await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], GRAFANA);
    assert_eq!(response.headers()["vary"], "Origin");
    // The page can read a refusal too.
    let refused = client.get(&query).header("Origin", GRAFANA).send().await.expect("response");
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["access-control-allow-origin"], GRAFANA);
    let other = client.get(&query).header("Origin", "https://evil.example").bearer_auth("grafana-token").send().await;
    let other = other.expect("response");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    assert_eq!(other.headers()["vary"], "Origin");

    // Preflights carry no credentials; an allowed origin's is answered before they are checked.
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, &query)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    let allowed = preflight(GRAFANA).await.expect("response");
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], GRAFANA);
    assert_eq!(allowed.headers()["access-control-allow-methods"], "GET, POST, OPTIONS");
    assert!(allowed.headers()["access-control-allow-headers"].to_str().expect("ascii").contains("Authorization"));
    let unknown = preflight("https://evil.example").await.expect("response");
    assert_eq!(unknown.status(), 401);
    assert!(!unknown.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn issue_20_state_changing_requests_from_other_sites_are_refused() {
    const GRAFANA: &str = "https://grafana.example.com";
    let served = Served::start(Limits::default(), |metrics| {
        open_guard(metrics).with_cors(CorsOrigins::new(&[GRAFANA]).expect("origins"))
    })
    .await;
    let client = reqwest::Client::new();
    let flush = served.url("/api/v1/admin/tsdb/flush");
    let post = |headers: &[(&'static str, String)]| {
        let mut request = client.post(&flush);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send()
    };
    let status = |response: reqwest::Result<reqwest::Response>| response.expect("response").status().as_u16();

    // Not a browser (remote write, curl): no Origin, no Sec-Fetch-Site.
    assert_eq!(status(post(&[]).await), 200);
    // The dashboard itself.
    let own = format!("http://{}", served.addr);
    assert_eq!(status(post(&[("origin", own.clone()), ("sec-fetch-site", "same-origin".into())]).await), 200);
    assert_eq!(status(post(&[("origin", own)]).await), 200, "a browser without Sec-Fetch-Site");
    // Another site's page.
    let evil = "https://evil.example".to_owned();
    let refused = post(&[("origin", evil.clone()), ("sec-fetch-site", "cross-site".into())]).await.expect("response");
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.expect("body").contains("cors_origins"));
    assert_eq!(status(post(&[("origin", evil)]).await), 403, "a browser without Sec-Fetch-Site");
    assert_eq!(status(post(&[("sec-fetch-site", "cross-site".into())]).await), 403, "a form without Origin");
    assert_eq!(status(post(&[("origin", "null".into())]).await), 403, "a sandboxed page");
    // A CORS origin may.
    let grafana = post(&[("origin", GRAFANA.into()), ("sec-fetch-site", "cross-site".into())]).await;
    assert_eq!(status(grafana), 200);
    // Reads stay open to every page; only their answers are withheld by the browser.
    let read = client.get(served.url("/api/v1/query")).header("sec-fetch-site", "cross-site").send().await;
    assert_eq!(status(read), 200);
    served.wait_for_metric(r#"infersight_http_requests_refused_total{reason="cross_origin"} 4"#).await;
}
