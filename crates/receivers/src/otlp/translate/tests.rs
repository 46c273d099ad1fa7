//! Tests of the translation, each from an OTLP/JSON request to the samples
//! it becomes, one per line as `{labels} value @ms`.

use std::fmt::Write as _;

use super::*;
use crate::otlp::decode_json;

/// Translates `json` with `deltas` and describes the outcome: the samples,
/// then the rejected points and the partial-success message if any.
fn run(json: &str, deltas: &mut DeltaTotals) -> String {
    let request = decode_json(json.as_bytes()).expect("valid OTLP/JSON");
    let mut translation = translate(&request, deltas);
    let mut out = String::new();
    for (labels, sample) in translation.samples() {
        let value = if series::is_stale_nan(sample.v) { "stale".to_owned() } else { sample.v.to_string() };
        writeln!(out, "{labels} {value} @{}", sample.t).expect("writing to a String cannot fail");
    }
    if translation.num_rejected() > 0 {
        writeln!(out, "rejected {}: {}", translation.num_rejected(), translation.error_message())
            .expect("writing to a String cannot fail");
    }
    deltas.apply(&mut translation);
    out
}

fn check(json: &str, expect: &str) {
    let got = run(json, &mut DeltaTotals::new(100));
    assert_eq!(got.trim_end(), expect.trim(), "\n{got}");
}

/// A request with one metric (`metric`, a JSON object) and no resource.
fn one_metric(metric: &str) -> String {
    format!(r#"{{"resourceMetrics": [{{"scopeMetrics": [{{"metrics": [{metric}]}}]}}]}}"#)
}

#[test]
fn resource_becomes_job_instance_and_target_info() {
    check(
        r#"{"resourceMetrics": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "chatbot"}},
                {"key": "service.namespace", "value": {"stringValue": "prod"}},
                {"key": "service.instance.id", "value": {"stringValue": "pod-1"}},
                {"key": "host.name", "value": {"stringValue": "node-7"}},
                {"key": "telemetry.sdk.language", "value": {"stringValue": "python"}}
            ]},
            "scopeMetrics": [{
                "scope": {"name": "opentelemetry.instrumentation.openai", "version": "0.48b0"},
                "metrics": [{"name": "queue.depth", "gauge": {"dataPoints": [
                    {"timeUnixNano": "1700000000000000000", "asInt": "3", "attributes": [{"key": "job", "value": {"stringValue": "ignored"}}]},
                    {"timeUnixNano": "1700000015000000000", "asDouble": 4.5}
                ]}}]
            }]
        }]}"#,
        r#"
{__name__="queue_depth", instance="pod-1", job="prod/chatbot"} 3 @1700000000000
{__name__="queue_depth", instance="pod-1", job="prod/chatbot"} 4.5 @1700000015000
{__name__="target_info", host_name="node-7", instance="pod-1", job="prod/chatbot", telemetry_sdk_language="python"} 1 @1700000015000
"#,
    );
}

#[test]
fn target_info_needs_other_attributes_and_an_identity() {
    let gauge = r#""scopeMetrics": [{"metrics": [{"name": "up", "gauge": {"dataPoints": [{"timeUnixNano": "1000000", "asInt": 1}]}}]}]"#;
    check(
        &format!(
            r#"{{"resourceMetrics": [{{"resource": {{"attributes": [{{"key": "service.name", "value": {{"stringValue": "a"}}}}]}}, {gauge}}}]}}"#
        ),
        r#"{__name__="up", job="a"} 1 @1"#,
    );
    check(
        &format!(
            r#"{{"resourceMetrics": [{{"resource": {{"attributes": [{{"key": "host.name", "value": {{"stringValue": "h"}}}}]}}, {gauge}}}]}}"#
        ),
        r#"{__name__="up"} 1 @1"#,
    );
}

#[test]
fn attributes_become_labels() {
    check(
        &one_metric(
            r#"{"name": "attrs", "gauge": {"dataPoints": [{"timeUnixNano": "2000000", "asInt": 1, "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "int", "value": {"intValue": "-7"}},
                {"key": "bool", "value": {"boolValue": true}},
                {"key": "double", "value": {"doubleValue": 0.25}},
                {"key": "tiny", "value": {"doubleValue": 1e-7}},
                {"key": "bytes", "value": {"bytesValue": "aGk="}},
                {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 2}]}}},
                {"key": "map", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": false}}]}}},
                {"key": "a.b", "value": {"stringValue": "dot"}},
                {"key": "a_b", "value": {"stringValue": "underscore"}},
                {"key": "empty", "value": {"stringValue": ""}},
                {"key": "unset"},
                {"key": "le", "value": {"stringValue": "kept on gauges"}}
            ]}]}}"#,
        ),
        r#"{__name__="attrs", a_b="dot;underscore", bool="true", bytes="aGk=", double="0.25", gen_ai_request_model="gpt-4o", int="-7", le="kept on gauges", list="[\"a\",2]", map="{\"k\":false}", tiny="1e-7"} 1 @2"#,
    );
}

#[test]
fn sums_are_counters_when_monotonic() {
    check(
        &one_metric(
            r#"{"name": "gen_ai.requests", "unit": "{request}", "sum": {"aggregationTemporality": 2, "isMonotonic": true,
                "dataPoints": [{"timeUnixNano": "5000000", "asInt": "12"}]}}"#,
        ),
        r#"{__name__="gen_ai_requests_total"} 12 @5"#,
    );
    check(
        &one_metric(
            r#"{"name": "memory.used", "unit": "By", "sum": {"aggregationTemporality": 2, "isMonotonic": false,
                "dataPoints": [{"timeUnixNano": "5000000", "asDouble": 1024}]}}"#,
        ),
        r#"{__name__="memory_used_bytes"} 1024 @5"#,
    );
}

#[test]
fn delta_sums_become_cumulative_across_requests() {
    let mut deltas = DeltaTotals::new(100);
    let delta = |t: u64, model: &str, v: f64| {
        one_metric(&format!(
            r#"{{"name": "tokens", "unit": "{{token}}", "sum": {{"aggregationTemporality": 1, "isMonotonic": true,
                "dataPoints": [{{"timeUnixNano": "{t}000000", "asDouble": {v}, "attributes": [{{"key": "model", "value": {{"stringValue": "{model}"}}}}]}}]}}}}"#
        ))
    };
    assert_eq!(run(&delta(1, "a", 5.0), &mut deltas), "{__name__=\"tokens_total\", model=\"a\"} 5 @1\n");
    assert_eq!(run(&delta(2, "a", 3.0), &mut deltas), "{__name__=\"tokens_total\", model=\"a\"} 8 @2\n");
    assert_eq!(run(&delta(2, "b", 1.0), &mut deltas), "{__name__=\"tokens_total\", model=\"b\"} 1 @2\n");
    assert_eq!(run(&delta(3, "a", 0.5), &mut deltas), "{__name__=\"tokens_total\", model=\"a\"} 8.5 @3\n");
    assert_eq!(deltas.len(), 2);
}

#[test]
fn a_translation_not_applied_leaves_the_totals_alone() {
    let deltas = DeltaTotals::new(100);
    let request = decode_json(
        one_metric(r#"{"name": "c", "sum": {"aggregationTemporality": 1, "isMonotonic": true, "dataPoints": [{"asInt": 2}, {"asInt": 3}]}}"#)
            .as_bytes(),
    )
    .expect("valid");
    // Two points of one series in one request add up within it.
    let values: Vec<f64> = translate(&request, &deltas).samples().iter().map(|(_, s)| s.v).collect();
    assert_eq!(values, [2.0, 5.0]);
    // A failed commit never applies, so a retry counts from the same total.
    let values: Vec<f64> = translate(&request, &deltas).samples().iter().map(|(_, s)| s.v).collect();
    assert_eq!(values, [2.0, 5.0]);
    assert!(deltas.is_empty());
}

#[test]
fn delta_series_beyond_the_limit_are_rejected() {
    let mut deltas = DeltaTotals::new(1);
    let json = one_metric(
        r#"{"name": "c", "sum": {"aggregationTemporality": 1, "isMonotonic": true, "dataPoints": [
            {"asInt": 1, "attributes": [{"key": "k", "value": {"stringValue": "a"}}]},
            {"asInt": 1, "attributes": [{"key": "k", "value": {"stringValue": "b"}}]},
            {"asInt": 1, "attributes": [{"key": "k", "value": {"stringValue": "a"}}]}
        ]}}"#,
    );
    assert_eq!(
        run(&json, &mut deltas),
        "{__name__=\"c_total\", k=\"a\"} 1 @0\n{__name__=\"c_total\", k=\"a\"} 2 @0\n\
         rejected 1: metric \"c\": more than 1 delta series to accumulate\n"
    );
}

#[test]
fn idle_delta_series_make_room_for_new_ones() {
    let mut deltas = DeltaTotals::new(1);
    let delta = |t_ms: u64, k: &str| {
        one_metric(&format!(
            r#"{{"name": "c", "sum": {{"aggregationTemporality": 1, "isMonotonic": true, "dataPoints": [
                {{"timeUnixNano": "{t_ms}000000", "asInt": 1, "attributes": [{{"key": "k", "value": {{"stringValue": "{k}"}}}}]}}
            ]}}}}"#
        ))
    };
    assert_eq!(run(&delta(0, "a"), &mut deltas), "{__name__=\"c_total\", k=\"a\"} 1 @0\n");
    // Full: the new series is refused, but `a` has been idle for over an hour, so it goes.
    let two_hours = 2 * 3600 * 1000;
    assert_eq!(
        run(&delta(two_hours, "b"), &mut deltas),
        "rejected 1: metric \"c\": more than 1 delta series to accumulate\n"
    );
    assert!(deltas.is_empty());
    assert_eq!(run(&delta(two_hours, "b"), &mut deltas), format!("{{__name__=\"c_total\", k=\"b\"}} 1 @{two_hours}\n"));
}

#[test]
fn histograms_become_classic_buckets() {
    check(
        &one_metric(
            r#"{"name": "rpc.duration", "unit": "ms", "histogram": {"aggregationTemporality": 2, "dataPoints": [{
                "timeUnixNano": "9000000", "count": "6", "sum": 123.5,
                "bucketCounts": ["1", "0", "3", "2"], "explicitBounds": [10, 100, 1000]
            }]}}"#,
        ),
        r#"
{__name__="rpc_duration_milliseconds_bucket", le="10"} 1 @9
{__name__="rpc_duration_milliseconds_bucket", le="100"} 1 @9
{__name__="rpc_duration_milliseconds_bucket", le="1000"} 4 @9
{__name__="rpc_duration_milliseconds_bucket", le="+Inf"} 6 @9
{__name__="rpc_duration_milliseconds_sum"} 123.5 @9
{__name__="rpc_duration_milliseconds_count"} 6 @9
"#,
    );
    // No buckets and no sum: only +Inf and the count.
    check(
        &one_metric(
            r#"{"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [{"count": 2, "explicitBounds": [1]}]}}"#,
        ),
        "{__name__=\"h_bucket\", le=\"+Inf\"} 2 @0\n{__name__=\"h_count\"} 2 @0",
    );
}

#[test]
fn delta_histograms_accumulate_per_series() {
    let mut deltas = DeltaTotals::new(100);
    let json = one_metric(
        r#"{"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [
            {"timeUnixNano": "1000000", "count": 2, "sum": 3, "bucketCounts": [1, 1], "explicitBounds": [1]},
            {"timeUnixNano": "2000000", "count": 1, "sum": 0.5, "bucketCounts": [1, 0], "explicitBounds": [1]}
        ]}}"#,
    );
    let got = run(&json, &mut deltas);
    assert_eq!(
        got,
        r#"{__name__="h_bucket", le="1"} 1 @1
{__name__="h_bucket", le="+Inf"} 2 @1
{__name__="h_sum"} 3 @1
{__name__="h_count"} 2 @1
{__name__="h_bucket", le="1"} 2 @2
{__name__="h_bucket", le="+Inf"} 3 @2
{__name__="h_sum"} 3.5 @2
{__name__="h_count"} 3 @2
"#
    );
}

#[test]
fn malformed_histograms_are_rejected_point_by_point() {
    check(
        &one_metric(
            r#"{"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [
                {"count": 2, "bucketCounts": [1, 1], "explicitBounds": [1, 2]},
                {"count": 2, "bucketCounts": [1, 1, 0], "explicitBounds": [2, 1]},
                {"timeUnixNano": "1000000", "count": 1, "bucketCounts": [1, 0], "explicitBounds": [5]}
            ]}}"#,
        ),
        r#"
{__name__="h_bucket", le="5"} 1 @1
{__name__="h_bucket", le="+Inf"} 1 @1
{__name__="h_count"} 1 @1
rejected 2: metric "h": 2 bucket counts for 2 explicit bounds; metric "h": explicit bounds are not finite and increasing
"#,
    );
    check(
        &one_metric(r#"{"name": "h", "histogram": {"dataPoints": [{"count": 1}, {"count": 2}]}}"#),
        r#"rejected 2: metric "h": invalid aggregation temporality 0"#,
    );
}

#[test]
fn exponential_histograms_become_classic_buckets() {
    // Scale 0: bucket i covers (2^i, 2^(i+1)].
    check(
        &one_metric(
            r#"{"name": "latency", "unit": "s", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [{
                "timeUnixNano": "1000000", "count": "7", "sum": 20, "scale": 0, "zeroCount": "1", "zeroThreshold": 0,
                "positive": {"offset": -1, "bucketCounts": ["2", "0", "4"]},
                "negative": {"offset": 0, "bucketCounts": ["0"]}
            }]}}"#,
        ),
        r#"
{__name__="latency_seconds_bucket", le="0"} 1 @1
{__name__="latency_seconds_bucket", le="1"} 3 @1
{__name__="latency_seconds_bucket", le="2"} 3 @1
{__name__="latency_seconds_bucket", le="4"} 7 @1
{__name__="latency_seconds_bucket", le="+Inf"} 7 @1
{__name__="latency_seconds_sum"} 20 @1
{__name__="latency_seconds_count"} 7 @1
"#,
    );
}

#[test]
fn exponential_histograms_are_downscaled_to_stable_bounds() {
    let buckets = |scale: i32, offset: i32, counts: Vec<u64>| {
        let point = ExponentialHistogramDataPoint {
            scale,
            count: counts.iter().sum(),
            positive: Some(super::super::proto::Buckets { offset, bucket_counts: counts }),
            ..Default::default()
        };
        classic_buckets(&point).map_err(|(reason, _)| reason)
    };
    // Scale 5 has 32 buckets per power of two; scale 3 has 8, so four merge into one.
    let got = buckets(5, 0, vec![1, 1, 1, 1, 1, 0, 0, 0]).expect("valid");
    assert_eq!(got, [(0.0, 0), (2f64.powf(1.0 / 8.0), 4), (2f64.powf(2.0 / 8.0), 5)]);
    // Negative indices shift down too: -1 at scale 5 is in bucket -1 at scale 3.
    let got = buckets(5, -1, vec![3]).expect("valid");
    assert_eq!(got, [(0.0, 0), (1.0, 3)]);
    // Coarse scales are kept; bounds that overflow leave their counts to +Inf.
    assert_eq!(buckets(-2, 0, vec![1, 2]).expect("valid"), [(0.0, 0), (16.0, 1), (256.0, 3)]);
    assert_eq!(buckets(-10, 0, vec![1, 2]).expect("valid"), [(0.0, 0)]);
    assert_eq!(buckets(21, 0, vec![1]), Err(Rejection::InvalidBuckets));
    // Too many buckets even at scale 3: each would be a series.
    assert_eq!(buckets(3, 0, vec![1; MAX_BUCKETS + 1]), Err(Rejection::InvalidBuckets));
    assert_eq!(buckets(4, 0, vec![1; MAX_BUCKETS + 1]).map(|b| b.len()), Ok(MAX_BUCKETS / 2 + 2));
    assert_eq!(buckets(0, 0, vec![]).expect("valid"), [(0.0, 0)]);
}

#[test]
fn exponential_histograms_with_negative_observations_are_rejected() {
    check(
        &one_metric(
            r#"{"name": "temp", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
                {"count": 3, "scale": 0, "negative": {"bucketCounts": [0, 2]}, "positive": {"bucketCounts": [1]}}
            ]}}"#,
        ),
        r#"rejected 1: metric "temp": exponential histogram has 2 observations in negative buckets"#,
    );
}

#[test]
fn summaries_become_quantiles() {
    check(
        &one_metric(
            r#"{"name": "gc.pause", "unit": "s", "summary": {"dataPoints": [{
                "timeUnixNano": "3000000", "count": "10", "sum": 1.5,
                "quantileValues": [{"quantile": 0.5, "value": 0.1}, {"quantile": 0.99, "value": "Infinity"}]
            }]}}"#,
        ),
        r#"
{__name__="gc_pause_seconds", quantile="0.5"} 0.1 @3
{__name__="gc_pause_seconds", quantile="0.99"} inf @3
{__name__="gc_pause_seconds_sum"} 1.5 @3
{__name__="gc_pause_seconds_count"} 10 @3
"#,
    );
}

#[test]
fn points_without_recorded_values_become_stale_markers() {
    check(
        &one_metric(r#"{"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "4000000", "flags": 1}]}}"#),
        r#"{__name__="g"} stale @4"#,
    );
    check(
        &one_metric(
            r#"{"name": "h", "histogram": {"aggregationTemporality": 1, "dataPoints": [
                {"timeUnixNano": "4000000", "flags": 1, "bucketCounts": [0, 0], "explicitBounds": [1]}
            ]}}"#,
        ),
        "{__name__=\"h_bucket\", le=\"1\"} stale @4\n{__name__=\"h_bucket\", le=\"+Inf\"} stale @4\n{__name__=\"h_count\"} stale @4",
    );
    check(
        &one_metric(r#"{"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": "4000000"}]}}"#),
        r#"rejected 1: metric "g": data point has no value"#,
    );
}

#[test]
fn metrics_whose_names_translate_to_nothing_are_rejected() {
    check(
        &one_metric(r#"{"name": "...", "gauge": {"dataPoints": [{"asInt": 1}, {"asInt": 2}]}}"#),
        r#"rejected 2: metric "...": name is empty once translated to Prometheus"#,
    );
}

#[test]
fn bucket_bounds_and_quantiles_format_as_prometheus_writes_them() {
    for (f, text) in [(1.0, "1"), (0.01, "0.01"), (67108864.0, "67108864"), (1e-7, "0.0000001"), (2.5, "2.5")] {
        assert_eq!(format_float(f), text);
    }
    assert_eq!(format_float(f64::INFINITY), "+Inf");
}

#[test]
fn series_labels_win_over_attributes_of_their_names() {
    check(
        &one_metric(
            r#"{"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [{"count": 1, "sum": 2,
                "bucketCounts": [1, 0], "explicitBounds": [0.5], "attributes": [
                    {"key": "le", "value": {"stringValue": "attribute"}},
                    {"key": "__name__", "value": {"stringValue": "attribute"}},
                    {"key": "Zone", "value": {"stringValue": "upper case sorts first"}},
                    {"key": "z", "value": {"stringValue": "last"}}
                ]}]}}"#,
        ),
        r#"
{Zone="upper case sorts first", __name__="h_bucket", le="0.5", z="last"} 1 @0
{Zone="upper case sorts first", __name__="h_bucket", le="+Inf", z="last"} 1 @0
{Zone="upper case sorts first", __name__="h_sum", le="attribute", z="last"} 2 @0
{Zone="upper case sorts first", __name__="h_count", le="attribute", z="last"} 1 @0
"#,
    );
}
