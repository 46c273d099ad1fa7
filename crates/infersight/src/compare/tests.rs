//! The compare command's table, request URL and deploy gate, on an answer of the compare API.

use serde_json::json;

use super::*;

fn answer() -> Value {
    json!({
        "a": {"selector": "{gen_ai_request_model=\"x\"}", "start": 1_700_000_000.0, "end": 1_700_003_600.0, "requests": 18_000.0},
        "b": {"selector": "{gen_ai_request_model=\"y\"}", "start": 1_700_000_000.0, "end": 1_700_003_600.0, "requests": 17_950.0},
        "paired": true, "step_seconds": 60.0, "options": {"alpha": 0.05, "power": 0.8, "paired": true}, "correction": "holm",
        "metrics": [
            {"name": "ttft_p95", "unit": "seconds", "a": 0.0965, "b": 0.1204, "difference": 0.0239, "relative_difference": 0.2477,
             "ci_low": 0.011, "ci_high": 0.0368, "p_adjusted": 0.0002, "verdict": "worse", "min_detectable_effect": 0.012},
            {"name": "error_rate", "unit": "ratio", "a": 0.01, "b": 0.0102, "difference": 0.0002, "relative_difference": 0.02,
             "ci_low": -0.002, "ci_high": 0.0024, "p_adjusted": 0.9, "verdict": "no_detectable_difference", "min_detectable_effect": 0.0029},
            {"name": "ttft_p99", "unit": "seconds", "verdict": "not_enough_data", "n_needed": 1000,
             "reason": "not enough data (n = 640, need ≈ 1000)"},
        ]
    })
}

#[test]
fn the_table_shows_values_intervals_and_verdicts_in_units() {
    expect_lines(
        &table(&answer()),
        &[
            "A: {gen_ai_request_model=\"x\"} (18000 requests, 2023-11-14T22:13:20Z to 2023-11-14T23:13:20Z)",
            "B: {gen_ai_request_model=\"y\"} (17950 requests, 2023-11-14T22:13:20Z to 2023-11-14T23:13:20Z)",
            "paired (same range), blocks of 60 s, 95 % intervals, p-values Holm-corrected over the tested metrics (α = 0.05)",
            "metric      A        B       B − A               95 % interval         p (Holm)  verdict",
            "ttft_p95    96.5 ms  120 ms  +23.9 ms (+24.8 %)  [+11.0 ms, +36.8 ms]  <0.001    worse",
            "error_rate  1.00 %   1.02 %  +0.0200 % (+2.0 %)  [-0.200 %, +0.240 %]  0.900     no detectable difference (MDE 0.290 %)",
            "ttft_p99    -        -       -                   -                     -         not enough data (n = 640, need ≈ 1000)",
        ],
    );
}

#[track_caller]
fn expect_lines(actual: &str, expected: &[&str]) {
    let lines: Vec<&str> = actual.lines().collect();
    assert_eq!(lines, expected, "\n{actual}");
}

#[test]
fn the_gate_fails_only_on_a_listed_worse_metric() {
    let data = answer();
    assert_eq!(gate(&data, &[]).expect("no gate"), Outcome::Passed);
    assert_eq!(gate(&data, &["error_rate".to_owned()]).expect("known"), Outcome::Passed);
    assert_eq!(gate(&data, &["ttft_p99".to_owned()]).expect("known"), Outcome::Passed);
    assert_eq!(gate(&data, &["error_rate".to_owned(), "ttft_p95".to_owned()]).expect("known"), Outcome::Worse);
    let unknown = gate(&data, &["ttft_p59".to_owned()]).expect_err("a typo");
    assert_eq!(
        unknown.to_string(),
        "--fail-if-worse ttft_p59: no such metric in this comparison; it has ttft_p95, error_rate, ttft_p99"
    );
}

#[test]
fn the_request_carries_every_given_parameter() {
    let args = Args {
        a: "{gen_ai_request_model=\"x\"}".to_owned(),
        b_start: Some("1700001800".to_owned()),
        range: Some("2h".to_owned()),
        url: "http://127.0.0.1:8490".to_owned(),
        ..Args::default()
    };
    assert_eq!(
        request_url(&args).expect("valid").as_str(),
        "http://127.0.0.1:8490/api/v1/infersight/compare?a=%7Bgen_ai_request_model%3D%22x%22%7D&range=2h&b_start=1700001800"
    );
    // The gated metrics go along, as a Holm family of their own.
    let gated = Args { fail_if_worse: vec!["ttft_p95".to_owned(), "error_rate".to_owned()], ..args };
    assert!(request_url(&gated).expect("valid").as_str().ends_with("&gate=ttft_p95%2Cerror_rate"));
}
