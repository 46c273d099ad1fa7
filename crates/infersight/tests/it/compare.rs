//! `infersight compare` against a running server holding gateway histograms: the table, JSON and the deploy gate's exit status.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;
use receivers::remote_write::proto::v1::{Label, Sample, TimeSeries, WriteRequest};

use crate::server::{Server, post_write};

const TTFT_BOUNDS: [f64; 8] = [0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1.0];
const SCRAPE_MS: i64 = 15_000;

/// The gateway's TTFT buckets and request count of `model` for the hour
/// before `end_ms`: 30 requests per scrape, TTFT log-normal around `median`.
fn gateway_series(model: &str, end_ms: i64, median: f64, mut seed: u64) -> Vec<TimeSeries> {
    let mut uniform = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut counts = vec![0.0; TTFT_BOUNDS.len() + 1];
    let mut buckets: Vec<Vec<Sample>> = vec![Vec::new(); counts.len()];
    let mut requests = Vec::new();
    let ticks = 3_600_000 / SCRAPE_MS;
    for tick in 0..=ticks {
        let timestamp = end_ms - (ticks - tick) * SCRAPE_MS;
        for _ in 0..30 {
            let (u1, u2) = (uniform().max(1e-12), uniform());
            let ttft = median * (0.5 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()).exp();
            counts[TTFT_BOUNDS.partition_point(|b| *b < ttft)] += 1.0;
        }
        let mut cumulative = 0.0;
        for (idx, count) in counts.iter().enumerate() {
            cumulative += count;
            buckets[idx].push(Sample { value: cumulative, timestamp });
        }
        requests.push(Sample { value: cumulative, timestamp });
    }
    let labels = |name: &str, le: Option<String>| {
        let mut labels = vec![
            Label { name: "__name__".into(), value: name.into() },
            Label { name: "gen_ai_request_model".into(), value: model.into() },
        ];
        labels.extend(le.map(|value| Label { name: "le".into(), value }));
        labels
    };
    let mut series: Vec<TimeSeries> = buckets
        .into_iter()
        .enumerate()
        .map(|(idx, samples)| TimeSeries {
            labels: labels(
                "gen_ai_server_time_to_first_token_seconds_bucket",
                Some(TTFT_BOUNDS.get(idx).map_or("+Inf".to_owned(), f64::to_string)),
            ),
            samples,
            ..Default::default()
        })
        .collect();
    series.push(TimeSeries {
        labels: labels("gen_ai_client_operation_duration_seconds_count", None),
        samples: requests,
        ..Default::default()
    });
    series
}

fn compare(base: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_infersight"))
        .args(["compare", "--url", base])
        .args(args)
        .output()
        .expect("run infersight compare");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn compare_prints_the_table_and_gates_on_a_worse_metric() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &dir.path().join("data")).await;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as i64;
    let end_ms = now_ms - now_ms % SCRAPE_MS;
    let mut timeseries = gateway_series("fast", end_ms, 0.05, 1);
    timeseries.extend(gateway_series("twin", end_ms, 0.05, 2));
    timeseries.extend(gateway_series("slow", end_ms, 0.06, 3));
    let body = WriteRequest { timeseries, ..Default::default() }.encode_to_vec();
    let body = snap::raw::Encoder::new().compress_vec(&body).expect("snappy");
    assert_eq!(post_write(&reqwest::Client::new(), &server.base, body).await.expect("write"), 204);

    let end = (end_ms / 1000).to_string();
    let cohorts = |b: &str| {
        vec![
            "--a".to_owned(),
            "{gen_ai_request_model=\"fast\"}".to_owned(),
            "--b".to_owned(),
            format!("{{gen_ai_request_model=\"{b}\"}}"),
            "--end".to_owned(),
            end.clone(),
            "--range".to_owned(),
            "1h".to_owned(),
        ]
    };
    let run = |b: &str, extra: &[&str]| {
        let mut args = cohorts(b);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        compare(&server.base, &args)
    };
    let (code, table, stderr) = run("slow", &["--fail-if-worse", "ttft_p95,error_rate"]);
    assert_eq!(code, Some(1), "{table}{stderr}");
    let line = table.lines().find(|l| l.starts_with("ttft_p95")).expect("a ttft_p95 row");
    assert!(line.ends_with("worse"), "{table}");
    let (code, table, stderr) = run("twin", &["--fail-if-worse", "ttft_p95,error_rate"]);
    assert_eq!(code, Some(0), "{table}{stderr}");
    let (code, json, _) = run("slow", &["--json"]);
    assert_eq!(code, Some(0), "no gate, no failure");
    let data: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(data["paired"], true);
    let (code, _, stderr) = run("slow", &["--fail-if-worse", "ttft_p59"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("--fail-if-worse ttft_p59: no such metric"), "{stderr}");
    let (code, _, stderr) = run("nobody", &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("(422 Unprocessable Entity, execution)")
            && stderr.contains("gen_ai_request_model has fast, slow, twin"),
        "{stderr}"
    );
    assert!(server.terminate().await);
}
