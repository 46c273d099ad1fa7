//! The compare endpoint over an in-memory store of gateway series: verdicts, and errors for bad, empty and small cohorts.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use series::Labels;
use testkit::MemStorage;
use tower::ServiceExt;

use crate::{ApiState, router};

const TTFT_BOUNDS: [f64; 16] =
    [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
const DURATION_BOUNDS: [f64; 14] =
    [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const T0: i64 = 1_700_000_000_000;
const SCRAPE_MS: i64 = 15_000;

/// A deterministic uniform generator (64-bit LCG, the high bits).
struct Lcg(u64);

impl Lcg {
    fn f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Log-normal around `median` (Box–Muller).
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = (self.f64().max(1e-12), self.f64());
        median * (sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()).exp()
    }
}

/// Writes what the self-scrape of the gateway would store for one model:
/// TTFT and duration buckets and the request count, every 15 s for
/// `minutes`, `per_scrape` requests per scrape, TTFT around `ttft_median`.
fn gateway(storage: &MemStorage, model: &str, minutes: i64, per_scrape: usize, ttft_median: f64, seed: u64) {
    let mut rng = Lcg(seed);
    let mut ttft = vec![0.0; TTFT_BOUNDS.len() + 1];
    let mut duration = vec![0.0; DURATION_BOUNDS.len() + 1];
    let mut ttft_samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); ttft.len()];
    let mut duration_samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); duration.len()];
    let mut count = Vec::new();
    let bucket = |bounds: &[f64], v: f64| bounds.partition_point(|b| *b < v);
    for tick in 0..=(minutes * 60_000 / SCRAPE_MS) {
        let t = T0 + tick * SCRAPE_MS;
        if tick > 0 {
            for _ in 0..per_scrape {
                let first = rng.lognormal(ttft_median, 0.5);
                ttft[bucket(&TTFT_BOUNDS, first)] += 1.0;
                duration[bucket(&DURATION_BOUNDS, first + rng.lognormal(1.5, 0.4))] += 1.0;
            }
        }
        let cumulate = |counts: &[f64], samples: &mut Vec<Vec<(i64, f64)>>| {
            let mut total = 0.0;
            for (idx, c) in counts.iter().enumerate() {
                total += c;
                samples[idx].push((t, total));
            }
        };
        cumulate(&ttft, &mut ttft_samples);
        cumulate(&duration, &mut duration_samples);
        count.push((t, duration.iter().sum::<f64>()));
    }
    let le = |bounds: &[f64], idx: usize| bounds.get(idx).map_or("+Inf".to_owned(), |b| b.to_string());
    let labels = |name: &str, le: Option<&str>| {
        let mut pairs = vec![("__name__", name), ("gen_ai_request_model", model), ("server_address", "10.0.0.1:8000")];
        if let Some(le) = le {
            pairs.push(("le", le));
        }
        Labels::from_pairs(pairs)
    };
    for (idx, samples) in ttft_samples.iter().enumerate() {
        let le = le(&TTFT_BOUNDS, idx);
        storage.add(labels("gen_ai_server_time_to_first_token_seconds_bucket", Some(&le)), samples);
    }
    for (idx, samples) in duration_samples.iter().enumerate() {
        let le = le(&DURATION_BOUNDS, idx);
        storage.add(labels("gen_ai_client_operation_duration_seconds_bucket", Some(&le)), samples);
    }
    storage.add(labels("gen_ai_client_operation_duration_seconds_count", None), &count);
}

async fn get(storage: MemStorage, uri: &str) -> (StatusCode, Value) {
    let uri = uri.replace('"', "%22").replace('{', "%7B").replace('}', "%7D");
    let app = router(ApiState::new(Arc::new(storage)));
    let response = app.oneshot(Request::get(uri).body(Body::empty()).expect("request")).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

fn range(minutes: i64) -> String {
    format!("start={}&end={}", T0 / 1000, (T0 + minutes * 60_000) / 1000)
}

fn metric<'a>(body: &'a Value, name: &str) -> &'a Value {
    let metrics = body["data"]["metrics"].as_array().expect("metrics");
    metrics.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[tokio::test]
async fn a_slower_model_is_worse_on_ttft_and_the_same_one_is_not() {
    let storage = MemStorage::new();
    gateway(&storage, "fast", 60, 30, 0.05, 1);
    gateway(&storage, "slow", 60, 30, 0.075, 2);
    gateway(&storage, "twin", 60, 30, 0.05, 3);
    let uri = format!(
        "/api/v1/infersight/compare?a={{gen_ai_request_model=\"fast\"}}&b={{gen_ai_request_model=\"slow\"}}&{}",
        range(60)
    );
    let (status, body) = get(storage.clone(), &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["paired"], true);
    assert_eq!(body["data"]["step_seconds"], 60.0);
    assert!((body["data"]["a"]["requests"].as_f64().expect("requests") - 7_200.0).abs() < 1.0, "{body}");
    for name in ["ttft_p50", "ttft_p95"] {
        assert_eq!(metric(&body, name)["verdict"], "worse", "{name}: {}", metric(&body, name));
    }
    assert_eq!(metric(&body, "ttft_p95")["test"], "mood_quantile");
    assert_eq!(metric(&body, "error_rate")["verdict"], "no_detectable_difference");
    // No streams' time per output token was recorded: not enough data, not a verdict.
    assert_eq!(metric(&body, "tpot_p50")["verdict"], "not_enough_data");
    let uri = uri.replace("slow", "twin");
    let (_, body) = get(storage, &uri).await;
    assert_eq!(metric(&body, "ttft_p95")["verdict"], "no_detectable_difference", "{}", metric(&body, "ttft_p95"));
}

#[tokio::test]
async fn a_time_window_of_the_same_cohort_is_compared_unpaired() {
    let storage = MemStorage::new();
    gateway(&storage, "fast", 60, 30, 0.05, 1);
    let half = (T0 + 30 * 60_000) / 1000;
    let uri = format!(
        "/api/v1/infersight/compare?a={{gen_ai_request_model=\"fast\"}}&{}&a_end={half}&b_start={half}",
        range(60)
    );
    let (status, body) = get(storage, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["paired"], false);
    assert_eq!(body["data"]["b"]["selector"], "{gen_ai_request_model=\"fast\"}");
    assert_eq!(metric(&body, "ttft_p50")["verdict"], "no_detectable_difference");
}

#[tokio::test]
async fn bad_empty_and_small_cohorts_are_prometheus_errors() {
    let storage = MemStorage::new();
    gateway(&storage, "fast", 60, 30, 0.05, 1);
    gateway(&storage, "tiny", 60, 0, 0.05, 2);
    gateway(&storage, "few", 60, 1, 0.05, 3);
    let base = "/api/v1/infersight/compare?a={gen_ai_request_model=\"fast\"}";
    let cases = [
        (format!("{base}&{}", range(60)), 400, "missing parameter b"),
        (
            format!("{base}&b={{deploymnet=\"canary\"}}&{}", range(60)),
            400,
            "no gateway series has label \"deploymnet\"",
        ),
        (format!("{base}&b=up{{job=\"x\"}}&{}", range(60)), 400, "not a metric"),
        (
            format!("{base}&b={{gen_ai_request_model=\"flast\"}}&{}", range(60)),
            422,
            "gen_ai_request_model has fast, few, tiny",
        ),
        (format!("{base}&b={{gen_ai_request_model=\"tiny\"}}&{}", range(60)), 422, "no requests"),
        (
            format!(
                "/api/v1/infersight/compare?a={{gen_ai_request_model=\"few\"}}&a_end={}&b_start={0}&{}",
                T0 / 1000 + 150,
                range(5)
            ),
            422,
            "not enough data to compare: cohort a has n = 10 requests, cohort b n = 10; ttft_p50 needs ≈ 30",
        ),
    ];
    for (uri, status, message) in cases {
        let (got, body) = get(storage.clone(), &uri).await;
        assert_eq!(got.as_u16(), status, "{uri}: {body}");
        assert_eq!(body["status"], "error");
        let error = body["error"].as_str().expect("message");
        assert!(error.contains(message), "{uri}: {error}");
    }
}

/// A model's cost rule series (`infersight:cost_dollars_per_second`), at
/// `dollars_per_second`, and its output tokens, `tokens_per_scrape` a scrape, for `minutes`.
fn priced(storage: &MemStorage, model: &str, minutes: i64, dollars_per_second: f64, tokens_per_scrape: f64) {
    let ticks = 0..=(minutes * 60_000 / SCRAPE_MS);
    let cost: Vec<(i64, f64)> = ticks.clone().map(|tick| (T0 + tick * SCRAPE_MS, dollars_per_second)).collect();
    let tokens: Vec<(i64, f64)> = ticks.map(|tick| (T0 + tick * SCRAPE_MS, tick as f64 * tokens_per_scrape)).collect();
    storage.add(
        Labels::from_pairs([
            ("__name__", "infersight:cost_dollars_per_second"),
            ("cost_source", "gpus"),
            ("gen_ai_request_model", model),
        ]),
        &cost,
    );
    storage.add(
        Labels::from_pairs([
            ("__name__", "gen_ai_client_token_usage_sum"),
            ("gen_ai_request_model", model),
            ("gen_ai_token_type", "output"),
            ("server_address", "10.0.0.1:8000"),
        ]),
        &tokens,
    );
}

#[tokio::test]
async fn priced_models_get_cost_per_1m_output_tokens_as_figures() {
    // Hand computation: "fast" costs $0.002/s (two GPUs at $3.60 an hour)
    // and makes 1,500 output tokens a scrape, 100/s: over the hour $7.20 for
    // 360,000 tokens, $20 per 1M. "fast2" costs $0.001/s for 100 tokens/s:
    // $3.60 for 360,000 tokens, $10 per 1M.
    let storage = MemStorage::new();
    gateway(&storage, "fast", 60, 30, 0.05, 1);
    gateway(&storage, "fast2", 60, 30, 0.05, 4);
    priced(&storage, "fast", 60, 0.002, 1_500.0);
    priced(&storage, "fast2", 60, 0.001, 1_500.0);
    let uri = format!(
        "/api/v1/infersight/compare?a={{gen_ai_request_model=\"fast\"}}&b={{gen_ai_request_model=\"fast2\"}}&{}",
        range(60)
    );
    let (status, body) = get(storage.clone(), &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cost = metric(&body, "cost_per_1m_output_tokens");
    let close = |v: &Value, expected: f64| (v.as_f64().expect("a number") - expected).abs() < 0.2;
    assert!(close(&cost["a"], 20.0) && close(&cost["b"], 10.0), "{cost}");
    assert_eq!(cost["verdict"], "not_tested");
    assert_eq!(cost["unit"], "dollars");
    assert_eq!(cost["direction"], "lower_is_better");
    // Not in the family Holm corrects: the tested metrics' adjusted p-values are as without it.
    assert!(cost["p_value"].is_null());
    // A selector on another label than the model cannot be priced: no figure.
    let uri = format!(
        "/api/v1/infersight/compare?a={{server_address=\"10.0.0.1:8000\",gen_ai_request_model=\"fast\"}}&b={{gen_ai_request_model=\"fast2\"}}&{}",
        range(60)
    );
    let (_, body) = get(storage, &uri).await;
    assert!(metric(&body, "cost_per_1m_output_tokens")["a"].is_null(), "{body}");
}
