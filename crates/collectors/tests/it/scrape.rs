//! System tests of scraping: fake vLLM, SGLang and DCGM exporters on
//! ephemeral loopback ports, a real HTTP client, the in-memory store.
//!
//! The fake exporter is a few lines of HTTP/1.1 over a tokio socket, so a
//! test can make it misbehave the ways real servers do: answer HTML, fail
//! with 500, stall past the timeout, or close the connection mid-body.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use collectors::exposition::{self, Entry, Format};
use collectors::scrape::{Manager, ScrapeConfig, ScrapeJob, ScrapeMetrics, validate_all};
use parking_lot::Mutex;
use series::{Labels, LabelsBuilder, Sample, is_stale_nan};
use testkit::MemStorage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

fn fixture(name: &str) -> String {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// How the fake exporter answers.
#[derive(Debug, Clone)]
enum Mode {
    Page { content_type: &'static str, body: String },
    Status(u16),
    Stall(Duration),
    Truncated(String),
    Gzip(String),
    Off,
}

/// A fake exporter on a loopback port.
struct FakeTarget {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    /// The last request's `Accept` header, and its `Authorization` line after a newline when it had one.
    accept: Arc<Mutex<String>>,
}

impl FakeTarget {
    async fn start(mode: Mode) -> FakeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let mode = Arc::new(Mutex::new(mode));
        let accept = Arc::new(Mutex::new(String::new()));
        let (serve_mode, serve_accept) = (Arc::clone(&mode), Arc::clone(&accept));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let mode = serve_mode.lock().clone();
                tokio::spawn(answer(socket, mode, Arc::clone(&serve_accept)));
            }
        });
        FakeTarget { addr, mode, accept }
    }

    fn address(&self) -> String {
        self.addr.to_string()
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }
}

async fn answer(mut socket: TcpStream, mode: Mode, accept: Arc<Mutex<String>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if let Some(line) = head.lines().find(|l| l.to_ascii_lowercase().starts_with("accept:")) {
        *accept.lock() = line["accept:".len()..].trim().to_owned();
    }
    if let Some(line) = head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")) {
        accept.lock().push_str(&format!("\n{}", line.trim()));
    }
    let respond = |status: u16, content_type: &str, body: &str, declared_len: usize| {
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {declared_len}\r\nConnection: close\r\n\r\n{body}"
        )
    };
    let response = match mode {
        Mode::Page { content_type, body } => respond(200, content_type, &body, body.len()),
        Mode::Status(status) => respond(status, "text/plain", "internal error\n", 15),
        Mode::Stall(delay) => {
            tokio::time::sleep(delay).await;
            respond(200, TEXT, "late 1\n", 7)
        }
        Mode::Truncated(body) => {
            let half = &body[..body.len() / 2];
            respond(200, TEXT, half, body.len())
        }
        Mode::Gzip(body) => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut encoder, body.as_bytes()).expect("gzip in memory");
            let compressed = encoder.finish().expect("gzip in memory");
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {TEXT}\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                compressed.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&compressed).await;
            let _ = socket.shutdown().await;
            return;
        }
        Mode::Off => return,
    };
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

fn job(toml_text: &str) -> ScrapeJob {
    let config: ScrapeConfig = toml::from_str(toml_text).expect("scrape block parses");
    validate_all(&[config], "scrape", &|_| None).expect("scrape block is valid").remove(0)
}

/// A running manager over a fresh store.
struct Harness {
    store: MemStorage,
    manager: Manager,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Harness {
    fn start(jobs: Vec<ScrapeJob>) -> Harness {
        let store = MemStorage::new();
        let manager = Manager::new(Arc::new(store.clone()), ScrapeMetrics::unregistered())
            .expect("client builds")
            .with_file_sd_interval(Duration::from_millis(50));
        manager.apply(jobs);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(manager.clone().run(shutdown.clone()));
        Harness { store, manager, shutdown, task }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.expect("manager stops cleanly");
    }

    /// The samples of `name` for the target at `instance`.
    fn samples(&self, name: &str, instance: &str) -> Vec<Sample> {
        self.store
            .series()
            .into_iter()
            .filter(|l| l.metric_name() == Some(name) && l.get("instance") == Some(instance))
            .flat_map(|l| self.store.samples(&l))
            .collect()
    }

    /// Every series of the target at `instance`, except the five report series.
    fn scraped_series(&self, instance: &str) -> BTreeSet<Labels> {
        self.store
            .series()
            .into_iter()
            .filter(|l| l.get("instance") == Some(instance))
            .filter(|l| !l.metric_name().is_some_and(|n| n == "up" || n.starts_with("scrape_")))
            .collect()
    }

    async fn wait_for_scrapes(&self, instance: &str, n: usize) {
        wait_until(&format!("{n} scrapes of {instance}"), || self.samples("up", instance).len() >= n).await;
    }

    async fn targets_json(&self, query: &str) -> serde_json::Value {
        let request = Request::get(format!("/api/v1/targets{query}")).body(Body::empty()).expect("request builds");
        let response = self.manager.router().oneshot(request).await.expect("router answers");
        assert_eq!(response.status(), 200);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        serde_json::from_slice(&body).expect("JSON")
    }

    async fn target_json(&self, instance: &str) -> serde_json::Value {
        let all = self.targets_json("").await;
        all["data"]["activeTargets"]
            .as_array()
            .expect("array")
            .iter()
            .find(|t| t["labels"]["instance"] == instance)
            .cloned()
            .unwrap_or_else(|| panic!("target {instance} is listed"))
    }
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The label sets a fixture's samples should be stored under.
fn expected_series(page: &str, target_labels: &[(&str, &str)], skip: impl Fn(&str) -> bool) -> BTreeSet<Labels> {
    let mut expected = BTreeSet::new();
    for entry in exposition::parse(page, Format::Text) {
        let Entry::Sample(sample) = entry.expect("fixture parses") else { continue };
        if skip(sample.name) {
            continue;
        }
        let mut builder = LabelsBuilder::default();
        builder.set("__name__", sample.name);
        for (name, value) in sample.labels() {
            builder.set(name, &value);
        }
        for (name, value) in target_labels {
            builder.set(name, value);
        }
        expected.insert(builder.build());
    }
    expected
}

fn last(samples: &[Sample]) -> f64 {
    samples.last().expect("a sample").v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_and_gpus_are_scraped_with_their_labels() {
    let vllm = FakeTarget::start(Mode::Page { content_type: TEXT, body: fixture("vllm-metrics.prom") }).await;
    let sglang = FakeTarget::start(Mode::Page { content_type: TEXT, body: fixture("sglang-metrics.prom") }).await;
    let dcgm = FakeTarget::start(Mode::Page { content_type: TEXT, body: fixture("dcgm-metrics.prom") }).await;
    let harness = Harness::start(vec![
        job(&format!("preset = \"vllm\"\ninterval = \"100ms\"\ntargets = [\"{}\"]", vllm.address())),
        job(&format!("preset = \"sglang\"\ninterval = \"100ms\"\ntargets = [\"{}\"]", sglang.address())),
        job(&format!("preset = \"dcgm\"\ninterval = \"100ms\"\ntargets = [\"{}\"]", dcgm.address())),
    ]);
    for target in [&vllm, &sglang, &dcgm] {
        harness.wait_for_scrapes(&target.address(), 2).await;
    }

    for (target, file, engine) in [
        (&vllm, "vllm-metrics.prom", "vllm"),
        (&sglang, "sglang-metrics.prom", "sglang"),
        (&dcgm, "dcgm-metrics.prom", "dcgm"),
    ] {
        let instance = target.address();
        let labels = [("job", engine), ("instance", instance.as_str()), ("serving_engine", engine)];
        // vLLM's `_created` gauges are dropped by the preset.
        let expected = expected_series(&fixture(file), &labels, |name| name.ends_with("_created"));
        assert_eq!(harness.scraped_series(&instance), expected, "{engine}");
        assert_eq!(last(&harness.samples("up", &instance)), 1.0, "{engine}");
        assert_eq!(last(&harness.samples("scrape_samples_post_metric_relabeling", &instance)), expected.len() as f64);
        let info = harness.target_json(&instance).await;
        assert_eq!(info["health"], "up", "{engine}");
        assert_eq!(info["lastError"], "");
        assert_eq!(info["scrapePool"], engine);
        assert_eq!(info["scrapeUrl"], format!("http://{instance}/metrics"));
        assert_eq!(info["scrapeInterval"], "100ms");
        assert_eq!(info["labels"]["serving_engine"], engine);
        assert_eq!(info["discoveredLabels"]["__address__"], instance);
    }
    assert_eq!(harness.samples("vllm:prompt_tokens_created", &vllm.address()), []);
    assert_eq!(expected_series(&fixture("vllm-metrics.prom"), &[], |_| false).len(), 850);
    assert_eq!(last(&harness.samples("scrape_samples_scraped", &vllm.address())), 850.0);
    // The Python engines are asked for text 0.0.4 only; the exporter may answer OpenMetrics.
    assert!(!vllm.accept.lock().contains("openmetrics"), "{}", vllm.accept.lock());
    assert!(dcgm.accept.lock().starts_with("application/openmetrics-text;version=1.0.0"));

    let all = harness.targets_json("?state=active").await;
    assert_eq!(all["status"], "success");
    assert_eq!(all["data"]["activeTargets"].as_array().map(Vec::len), Some(3));
    assert_eq!(all["data"]["droppedTargets"], serde_json::json!([]));
    let dropped = harness.targets_json("?state=dropped").await;
    assert_eq!(dropped["data"]["activeTargets"], serde_json::json!([]));
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_turned_off_goes_down_and_its_series_go_stale() {
    let vllm = FakeTarget::start(Mode::Page { content_type: TEXT, body: fixture("vllm-metrics.prom") }).await;
    let instance = vllm.address();
    let harness = Harness::start(vec![job(&format!(
        "preset = \"vllm\"\ninterval = \"100ms\"\ntimeout = \"80ms\"\ntargets = [\"{instance}\"]"
    ))]);
    harness.wait_for_scrapes(&instance, 2).await;
    vllm.set(Mode::Off);
    wait_until("up = 0", || last(&harness.samples("up", &instance)) == 0.0).await;
    let series = harness.scraped_series(&instance);
    assert_eq!(series.len(), expected_series(&fixture("vllm-metrics.prom"), &[], |n| n.ends_with("_created")).len());
    for labels in &series {
        let samples = harness.store.samples(labels);
        assert!(is_stale_nan(last(&samples)), "{labels} is not stale");
        assert!(samples.len() >= 3, "{labels}: two values and a stale marker");
    }
    let info = harness.target_json(&instance).await;
    assert_eq!(info["health"], "down");
    assert!(info["lastError"].as_str().is_some_and(|e| e.starts_with("request failed")), "{}", info["lastError"]);

    // Back on: the target is up again and its series come back.
    vllm.set(Mode::Page { content_type: TEXT, body: fixture("vllm-metrics.prom") });
    wait_until("up = 1", || last(&harness.samples("up", &instance)) == 1.0).await;
    let labels = series.first().expect("a series");
    assert!(!last(&harness.store.samples(labels)).is_nan());
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_scrapes_store_nothing_of_the_page() {
    let vllm_page = fixture("vllm-metrics.prom");
    let mut bad_line = String::from("# TYPE ok gauge\nok 1\n");
    bad_line.push_str("broken{model=\"m\" 2\n");
    let html =
        Mode::Page { content_type: "text/html; charset=utf-8", body: "<html><body>Welcome</body></html>\n".into() };
    let cases = [
        (html, "unsupported Content-Type \"text/html; charset=utf-8\""),
        (Mode::Status(500), "server returned HTTP status 500"),
        (Mode::Stall(Duration::from_millis(400)), "scrape timed out after 150ms"),
        (Mode::Truncated(vllm_page.clone()), "cannot read the response body"),
        (Mode::Page { content_type: TEXT, body: bad_line }, "cannot parse the text exposition: line 3: expected ','"),
        (
            Mode::Page { content_type: "application/openmetrics-text; version=1.0.0", body: "a 1\nb 2\n".into() },
            "line 3: missing \"# EOF\"",
        ),
    ];
    let mut targets = Vec::new();
    for (mode, _) in &cases {
        targets.push(FakeTarget::start(mode.clone()).await);
    }
    let addresses: Vec<String> = targets.iter().map(|t| format!("\"{}\"", t.address())).collect();
    let limited = FakeTarget::start(Mode::Page { content_type: TEXT, body: fixture("dcgm-metrics.prom") }).await;
    let harness = Harness::start(vec![
        job(&format!(
            "job_name = \"broken\"\ninterval = \"200ms\"\ntimeout = \"150ms\"\ntargets = [{}]",
            addresses.join(", ")
        )),
        job(&format!(
            "preset = \"dcgm\"\ninterval = \"100ms\"\nsample_limit = 47\ntargets = [\"{}\"]",
            limited.address()
        )),
    ]);
    for (target, (_, error)) in targets
        .iter()
        .zip(cases.iter())
        .chain([(&limited, &(Mode::Off, "sample_limit exceeded: more than 47 samples after relabelling"))])
    {
        let instance = target.address();
        harness.wait_for_scrapes(&instance, 2).await;
        assert_eq!(harness.scraped_series(&instance), BTreeSet::new(), "{instance}: nothing of a failed page");
        assert!(harness.samples("up", &instance).iter().all(|s| s.v == 0.0));
        assert!(harness.samples("scrape_samples_scraped", &instance).iter().all(|s| s.v == 0.0));
        let info = harness.target_json(&instance).await;
        assert_eq!(info["health"], "down");
        let last_error = info["lastError"].as_str().expect("a string");
        assert!(!last_error.is_empty());
        assert!(last_error.contains(error), "{instance}: {last_error:?} does not contain {error:?}");
    }
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_targets_come_and_go_with_the_file() {
    let dcgm = FakeTarget::start(Mode::Page { content_type: TEXT, body: fixture("dcgm-metrics.prom") }).await;
    let instance = dcgm.address();
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("gpus.json");
    std::fs::write(&file, format!(r#"[{{"targets": ["{instance}"], "labels": {{"zone": "eu-1"}}}}]"#)).expect("write");
    let harness = Harness::start(vec![job(&format!(
        "preset = \"dcgm\"\ninterval = \"100ms\"\nfile_sd = [{:?}]",
        file.display().to_string()
    ))]);
    harness.wait_for_scrapes(&instance, 2).await;
    let series = harness.scraped_series(&instance);
    assert_eq!(series.len(), 48);
    assert!(series.iter().all(|l| l.get("zone") == Some("eu-1")));

    std::fs::write(&file, "[]").expect("write");
    wait_until("the target to be removed", || harness.manager.targets().is_empty()).await;
    for labels in series
        .iter()
        .chain(&harness.store.series().into_iter().filter(|l| l.metric_name() == Some("up")).collect::<Vec<_>>())
    {
        assert!(is_stale_nan(last(&harness.store.samples(labels))), "{labels} is not stale");
    }
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honor_labels_and_relabelling_shape_the_series() {
    let page = "# TYPE m gauge\nm{job=\"inner\",gpu=\"0\"} 1\nm{job=\"inner\",gpu=\"1\"} 2\n";
    let target = FakeTarget::start(Mode::Page { content_type: TEXT, body: page.into() }).await;
    let instance = target.address();
    let harness = Harness::start(vec![job(&format!(
        r#"
        job_name = "outer"
        interval = "100ms"
        targets = ["{instance}"]
        [[metric_relabel_configs]]
        source_labels = ["gpu"]
        regex = "1"
        action = "drop"
        "#
    ))]);
    harness.wait_for_scrapes(&instance, 1).await;
    let series: Vec<String> = harness.scraped_series(&instance).iter().map(ToString::to_string).collect();
    assert_eq!(
        series,
        [format!("{{__name__=\"m\", exported_job=\"inner\", gpu=\"0\", instance=\"{instance}\", job=\"outer\"}}")]
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_that_vanish_from_the_page_get_stale_markers() {
    let target = FakeTarget::start(Mode::Page { content_type: TEXT, body: "a 1\nb 2\n".into() }).await;
    let instance = target.address();
    let harness =
        Harness::start(vec![job(&format!("job_name = \"x\"\ninterval = \"100ms\"\ntargets = [\"{instance}\"]"))]);
    harness.wait_for_scrapes(&instance, 1).await;
    assert_eq!(harness.samples("scrape_series_added", &instance).first().map(|s| s.v), Some(2.0));
    target.set(Mode::Page { content_type: TEXT, body: "a 3\nc 4\n".into() });
    wait_until("b to go stale", || harness.samples("b", &instance).last().is_some_and(|s| is_stale_nan(s.v))).await;
    assert_eq!(last(&harness.samples("up", &instance)), 1.0);
    assert!(!last(&harness.samples("a", &instance)).is_nan());
    assert!(harness.samples("scrape_series_added", &instance).iter().any(|s| s.v == 1.0), "c was added");
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_pages_keep_their_timestamps_and_drop_created() {
    let page = "# TYPE requests counter\n\
                # HELP requests Requests served.\n\
                requests_total{code=\"200\"} 10 1700000000.5 # {trace_id=\"abc\"} 1 1700000000.1\n\
                requests_created{code=\"200\"} 1690000000\n\
                # EOF\n";
    let target = FakeTarget::start(Mode::Page {
        content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
        body: page.into(),
    })
    .await;
    let instance = target.address();
    let harness =
        Harness::start(vec![job(&format!("job_name = \"om\"\ninterval = \"100ms\"\ntargets = [\"{instance}\"]"))]);
    harness.wait_for_scrapes(&instance, 1).await;
    let series: Vec<String> =
        harness.scraped_series(&instance).iter().map(|l| l.metric_name().unwrap_or_default().to_owned()).collect();
    assert_eq!(series, ["requests_total"]);
    assert_eq!(harness.samples("requests_total", &instance), [Sample { t: 1_700_000_000_500, v: 10.0 }]);
    assert_eq!(last(&harness.samples("scrape_samples_scraped", &instance)), 1.0);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_unchanged_targets_and_stales_removed_ones() {
    let kept = FakeTarget::start(Mode::Page { content_type: TEXT, body: "k 1\n".into() }).await;
    let dropped = FakeTarget::start(Mode::Page { content_type: TEXT, body: "d 1\n".into() }).await;
    let both = format!(
        "job_name = \"x\"\ninterval = \"100ms\"\ntargets = [\"{}\", \"{}\"]",
        kept.address(),
        dropped.address()
    );
    let harness = Harness::start(vec![job(&both)]);
    harness.wait_for_scrapes(&kept.address(), 2).await;
    harness.wait_for_scrapes(&dropped.address(), 2).await;

    // A changed interval restarts the loops without marking anything stale.
    let slower = both.replace("100ms", "150ms");
    harness.manager.apply(vec![job(&slower)]);
    wait_until("the new interval", || harness.manager.targets().iter().all(|t| t.scrape_interval == "150ms")).await;
    let n_before = harness.samples("k", &kept.address()).len();
    wait_until("a scrape after the reload", || harness.samples("k", &kept.address()).len() > n_before).await;
    assert!(harness.samples("k", &kept.address()).iter().all(|s| !s.v.is_nan()));

    harness
        .manager
        .apply(vec![job(&format!("job_name = \"x\"\ninterval = \"150ms\"\ntargets = [\"{}\"]", kept.address()))]);
    wait_until("one target", || harness.manager.targets().len() == 1).await;
    assert!(is_stale_nan(last(&harness.samples("d", &dropped.address()))));
    assert!(is_stale_nan(last(&harness.samples("up", &dropped.address()))));
    assert!(!last(&harness.samples("up", &kept.address())).is_nan());
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honored_labels_win_and_label_limits_reject_the_scrape() {
    let target =
        FakeTarget::start(Mode::Page { content_type: TEXT, body: "m{job=\"inner\",a=\"1\",b=\"2\"} 1\n".into() }).await;
    let instance = target.address();
    let harness = Harness::start(vec![job(&format!(
        "job_name = \"honest\"\nhonor_labels = true\ninterval = \"100ms\"\ntargets = [\"{instance}\"]"
    ))]);
    harness.wait_for_scrapes(&instance, 1).await;
    let series: Vec<String> = harness.scraped_series(&instance).iter().map(ToString::to_string).collect();
    assert_eq!(series, [format!("{{__name__=\"m\", a=\"1\", b=\"2\", instance=\"{instance}\", job=\"inner\"}}")]);
    harness.stop().await;

    let harness = Harness::start(vec![job(&format!(
        "job_name = \"strict\"\nlabel_limit = 4\ninterval = \"100ms\"\ntargets = [\"{instance}\"]"
    ))]);
    harness.wait_for_scrapes(&instance, 1).await;
    assert_eq!(harness.scraped_series(&instance), BTreeSet::new());
    let info = harness.target_json(&instance).await;
    assert!(info["lastError"].as_str().is_some_and(|e| e.starts_with("label_limit of 4 exceeded by series")), "{info}");
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_pages_are_decompressed() {
    let target = FakeTarget::start(Mode::Gzip(fixture("dcgm-metrics.prom"))).await;
    let instance = target.address();
    let harness =
        Harness::start(vec![job(&format!("preset = \"dcgm\"\ninterval = \"100ms\"\ntargets = [\"{instance}\"]"))]);
    harness.wait_for_scrapes(&instance, 1).await;
    assert_eq!(last(&harness.samples("up", &instance)), 1.0);
    assert_eq!(harness.scraped_series(&instance).len(), 48);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_sent_with_every_scrape() {
    let target = FakeTarget::start(Mode::Page { content_type: TEXT, body: "a 1\n".into() }).await;
    let instance = target.address();
    let config: ScrapeConfig = toml::from_str(&format!(
        "job_name = \"x\"\ninterval = \"100ms\"\ntargets = [\"{instance}\"]\nbearer_token = \"${{TOKEN}}\""
    ))
    .expect("parses");
    let env = |name: &str| (name == "TOKEN").then(|| "s3cret".to_owned());
    let jobs = validate_all(&[config], "scrape", &env).expect("valid");
    let harness = Harness::start(jobs);
    harness.wait_for_scrapes(&instance, 1).await;
    assert!(target.accept.lock().ends_with("\nauthorization: Bearer s3cret"), "{}", target.accept.lock());
    harness.stop().await;
}

#[test]
fn replayed_pages_are_stored_as_a_live_scrape_would_store_them() {
    let store = MemStorage::new();
    let mut replay = collectors::scrape::Replay::new(
        job("preset = \"vllm\"\ntargets = [\"10.0.0.7:8000\"]"),
        "10.0.0.7:8000",
        &Default::default(),
    );
    let page = fixture("vllm-metrics.prom");
    replay.page(&store, Some(&page), Format::Text, 1_000).expect("first page");
    replay.page(&store, Some(&page), Format::Text, 16_000).expect("second page");
    assert!(replay.page(&store, None, Format::Text, 31_000).is_err(), "the target was down then");

    let labels = [("job", "vllm"), ("instance", "10.0.0.7:8000"), ("serving_engine", "vllm")];
    let expected = expected_series(&page, &labels, |name| name.ends_with("_created"));
    let up = Labels::from_pairs([
        ("__name__", "up"),
        ("instance", "10.0.0.7:8000"),
        ("job", "vllm"),
        ("serving_engine", "vllm"),
    ]);
    let stored: BTreeSet<Labels> =
        store.series().into_iter().filter(|l| l.get("__name__").is_some_and(|n| n.starts_with("vllm:"))).collect();
    assert_eq!(
        stored,
        expected.into_iter().filter(|l| l.get("__name__").is_some_and(|n| n.starts_with("vllm:"))).collect()
    );
    let ups: Vec<(i64, f64)> = store.samples(&up).iter().map(|s| (s.t, s.v)).collect();
    assert_eq!(ups, vec![(1_000, 1.0), (16_000, 1.0), (31_000, 0.0)]);
    let some_series = stored.iter().next().expect("a vLLM series");
    let samples = store.samples(some_series);
    assert_eq!(samples.iter().map(|s| s.t).collect::<Vec<_>>(), vec![1_000, 16_000, 31_000]);
    assert!(is_stale_nan(samples[2].v), "the failed replay marks the page's series stale");
}
