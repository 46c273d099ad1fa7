//! `infersight demo`: it serves while its history backfills, and the history meets the live data without a gap or a double count.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Command;

use crate::server::free_port;

/// The demo's scrape interval, live and backfilled.
const SCRAPE_INTERVAL_S: f64 = 15.0;

async fn get(client: &reqwest::Client, url: &str) -> Option<Value> {
    let response = client.get(url).timeout(Duration::from_secs(30)).send().await.ok()?;
    let body: Value = response.json().await.ok()?;
    (body["status"] == "success").then(|| body["data"].clone())
}

async fn query(client: &reqwest::Client, base: &str, expr: &str, time: f64) -> Vec<Value> {
    let url = format!("{base}/api/v1/query?query={}&time={time}", urlencode(expr));
    let data = get(client, &url).await.unwrap_or_else(|| panic!("{expr} fails"));
    data["result"].as_array().cloned().unwrap_or_default()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs_f64()
}

/// Each series' samples as `(seconds, value)`.
fn points(series: &Value) -> Vec<(f64, f64)> {
    let number = |v: &Value| v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).expect("a number");
    series["values"].as_array().expect("values").iter().map(|p| (number(&p[0]), number(&p[1]))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_22_demo_serves_while_it_backfills_and_its_history_meets_the_live_data() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--backfill", "1h"])
        // The demo keeps its data in a fresh directory under TMPDIR.
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn infersight demo");
    let client = reqwest::Client::new();

    // Ready at once, with the backfill still to do.
    let mut status = None;
    while started.elapsed() < Duration::from_secs(60) && status.is_none() {
        status = get(&client, &format!("{base}/api/v1/infersight/backfill")).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = status.expect("the API answers");
    assert_eq!(status["state"], "running", "{status}");
    let join_s = status["to_ms"].as_f64().expect("to_ms") / 1000.0;
    assert!(client.get(format!("{base}/-/ready")).send().await.expect("ready").status().is_success());

    // While it runs, the dashboard's queries answer, with the most recent minutes first.
    let overview = "sum(rate(gen_ai_client_operation_duration_seconds_count[5m]))";
    let mut answered_while_running = false;
    loop {
        let status = get(&client, &format!("{base}/api/v1/infersight/backfill")).await.expect("backfill status");
        if status["state"] != "running" {
            assert_eq!(status["state"], "done", "{status}");
            assert_eq!(status["progress"], 1.0);
            break;
        }
        if !answered_while_running && !query(&client, &base, overview, now_s()).await.is_empty() {
            answered_while_running = true;
            let progress = status["progress"].as_f64().expect("progress");
            assert!(progress < 1.0, "{status}");
        }
        assert!(started.elapsed() < Duration::from_secs(400), "the backfill of 1h takes too long");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(answered_while_running, "an overview query answered while the backfill was running");

    // Two live self-scrapes after the join, so the live side has a rate too.
    let gateway = "gen_ai_client_operation_duration_seconds_count";
    loop {
        let series = query(&client, &base, &format!("{gateway}[2m]"), now_s()).await;
        if series.iter().any(|s| points(s).iter().filter(|(t, _)| *t > join_s).count() >= 2) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "no live self-scrapes");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Raw samples across the join. Every target's `up` has no gap longer
    // than a scrape interval plus the live side's start (its first scrape
    // is within an interval of it); a counter resets at most once (history
    // and live samples overlapping in time would zigzag). Counter series
    // themselves may start late live: a label set appears with its first request.
    let end = now_s();
    let window = (end - join_s + 600.0).ceil();
    for metric in ["up", gateway, "vllm:request_success_total"] {
        let series = query(&client, &base, &format!("{metric}[{window}s]"), end).await;
        let mut across = 0;
        for s in &series {
            let points = points(s);
            if !(points.first().is_some_and(|p| p.0 < join_s) && points.last().is_some_and(|p| p.0 > join_s)) {
                continue;
            }
            across += 1;
            if metric == "up" {
                let gap = points.windows(2).map(|w| w[1].0 - w[0].0).fold(0.0, f64::max);
                assert!(gap <= 2.5 * SCRAPE_INTERVAL_S, "{metric} {}: a gap of {gap} s", s["metric"]);
            } else {
                let resets = points.windows(2).filter(|w| w[1].1 < w[0].1).count();
                assert!(resets <= 1, "{metric} {}: {resets} counter resets", s["metric"]);
            }
        }
        assert!(across > 0, "{metric}: no series spans the join");
    }

    // The gateway's request rate, every scrape interval from 10 min before the
    // join to now: never empty, never doubled or halved.
    let url = format!(
        "{base}/api/v1/query_range?query={}&start={}&end={end}&step={SCRAPE_INTERVAL_S}",
        urlencode(overview),
        join_s - 600.0
    );
    let data = get(&client, &url).await.expect("range query");
    let result = data["result"].as_array().expect("result");
    assert_eq!(result.len(), 1, "{data}");
    let rates = points(&result[0]);
    let steps = ((end - (join_s - 600.0)) / SCRAPE_INTERVAL_S).floor() as usize + 1;
    assert_eq!(rates.len(), steps, "a step without data: {rates:?}");
    let mut sorted: Vec<f64> = rates.iter().map(|p| p.1).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    for (t, rate) in &rates {
        assert!(
            (0.5 * median..=2.0 * median).contains(rate),
            "rate {rate} at join{:+.0} s, median {median}",
            t - join_s
        );
    }

    // The history has the judges' scores, answered in process.
    let judged = query(
        &client,
        &base,
        r#"count(gen_ai_evaluation_score_count{gen_ai_evaluation_name=~"judge_.*"})"#,
        join_s - 1200.0,
    )
    .await;
    assert!(!judged.is_empty(), "no judge scores 20 min before the join");

    child.kill().await.expect("stop the demo");
}
