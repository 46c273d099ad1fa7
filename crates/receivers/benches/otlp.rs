//! Decoding and translating a realistic OTLP metrics export.
//!
//! The request mimics an OpenTelemetry collector forwarding a fleet of
//! GenAI apps: 1000 data points from 10 services, a quarter gauges, a
//! quarter cumulative counters and half `gen_ai.client.operation.duration`
//! histograms with the 14 recommended buckets (17 series each), every
//! point with the GenAI attributes. Criterion reports throughput in data
//! points per second; the JSON case encodes the same request.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use receivers::otlp::proto::{
    AnyValue, ExportMetricsServiceRequest, Gauge, Histogram, HistogramDataPoint, KeyValue, Metric, NumberDataPoint,
    Resource, ResourceMetrics, ScopeMetrics, Sum, any_value, metric, number_data_point, temporality,
};
use receivers::otlp::{DeltaTotals, decode_json, decode_protobuf, translate};
use series::{Appender, LabelRef};

const N_SERVICES: usize = 10;
const POINTS_PER_SERVICE: usize = 100;
const N_POINTS: usize = N_SERVICES * POINTS_PER_SERVICE;

const BOUNDS: [f64; 14] = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const MODELS: [&str; 5] =
    ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4", "meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-72B-Instruct"];
const OPERATIONS: [&str; 5] = ["chat", "embeddings", "text_completion", "execute_tool", "invoke_agent"];

fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }) }
}

fn attributes(i: usize) -> Vec<KeyValue> {
    vec![
        attribute("gen_ai.operation.name", OPERATIONS[i % OPERATIONS.len()]),
        attribute("gen_ai.provider.name", "openai"),
        attribute("gen_ai.request.model", MODELS[i / OPERATIONS.len() % MODELS.len()]),
        attribute("gen_ai.response.model", MODELS[i / OPERATIONS.len() % MODELS.len()]),
        attribute("server.address", "api.openai.com"),
    ]
}

fn number(i: usize, t: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes(i),
        start_time_unix_nano: t - 3_600_000_000_000,
        time_unix_nano: t,
        value: Some(number_data_point::Value::AsDouble(value)),
        flags: 0,
    }
}

fn request() -> ExportMetricsServiceRequest {
    let t = 1_760_000_000_000_000_000;
    let resource_metrics = (0..N_SERVICES)
        .map(|service| {
            let quarter = POINTS_PER_SERVICE / 4;
            let gauge = (0..quarter).map(|i| number(i, t, i as f64)).collect();
            let counter = (0..quarter).map(|i| number(i, t, (i * 1000) as f64)).collect();
            let histogram = (0..POINTS_PER_SERVICE / 2)
                .map(|i| {
                    let bucket_counts: Vec<u64> = (0..=BOUNDS.len() as u64).map(|b| (b * 7 + i as u64) % 13).collect();
                    HistogramDataPoint {
                        attributes: attributes(i),
                        start_time_unix_nano: t - 3_600_000_000_000,
                        time_unix_nano: t,
                        count: bucket_counts.iter().sum(),
                        sum: Some(i as f64 * 3.5),
                        bucket_counts,
                        explicit_bounds: BOUNDS.to_vec(),
                        flags: 0,
                    }
                })
                .collect();
            let metric = |name: &str, unit: &str, data| Metric {
                name: name.into(),
                description: String::new(),
                unit: unit.into(),
                data: Some(data),
            };
            ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![
                        attribute("service.name", &format!("chatbot-{service}")),
                        attribute("service.instance.id", &format!("chatbot-{service}-7d9f8b")),
                        attribute("telemetry.sdk.language", "python"),
                    ],
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: None,
                    metrics: vec![
                        metric(
                            "gen_ai.client.active_requests",
                            "{request}",
                            metric::Data::Gauge(Gauge { data_points: gauge }),
                        ),
                        metric(
                            "gen_ai.client.requests",
                            "{request}",
                            metric::Data::Sum(Sum {
                                data_points: counter,
                                aggregation_temporality: temporality::CUMULATIVE,
                                is_monotonic: true,
                            }),
                        ),
                        metric(
                            "gen_ai.client.operation.duration",
                            "s",
                            metric::Data::Histogram(Histogram {
                                data_points: histogram,
                                aggregation_temporality: temporality::CUMULATIVE,
                            }),
                        ),
                    ],
                }],
            }
        })
        .collect();
    ExportMetricsServiceRequest { resource_metrics }
}

/// The request in OTLP/JSON, via a generic JSON tree so the bench needs no encoder of its own.
fn json_request(request: &ExportMetricsServiceRequest) -> Vec<u8> {
    let value = |kv: &KeyValue| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => serde_json::json!({"key": kv.key, "value": {"stringValue": s}}),
        _ => serde_json::json!({"key": kv.key}),
    };
    let attributes = |attributes: &[KeyValue]| attributes.iter().map(value).collect::<Vec<_>>();
    let number = |p: &NumberDataPoint| {
        let Some(number_data_point::Value::AsDouble(v)) = p.value else { unreachable!("bench points are doubles") };
        serde_json::json!({"attributes": attributes(&p.attributes), "startTimeUnixNano": p.start_time_unix_nano.to_string(),
            "timeUnixNano": p.time_unix_nano.to_string(), "asDouble": v})
    };
    let metrics = |m: &Metric| match &m.data {
        Some(metric::Data::Gauge(g)) => serde_json::json!({"name": m.name, "unit": m.unit,
            "gauge": {"dataPoints": g.data_points.iter().map(number).collect::<Vec<_>>()}}),
        Some(metric::Data::Sum(s)) => serde_json::json!({"name": m.name, "unit": m.unit,
            "sum": {"aggregationTemporality": s.aggregation_temporality, "isMonotonic": s.is_monotonic,
                "dataPoints": s.data_points.iter().map(number).collect::<Vec<_>>()}}),
        Some(metric::Data::Histogram(h)) => serde_json::json!({"name": m.name, "unit": m.unit,
            "histogram": {"aggregationTemporality": h.aggregation_temporality, "dataPoints": h.data_points.iter().map(|p| serde_json::json!({
                "attributes": attributes(&p.attributes), "startTimeUnixNano": p.start_time_unix_nano.to_string(),
                "timeUnixNano": p.time_unix_nano.to_string(), "count": p.count.to_string(), "sum": p.sum,
                "bucketCounts": p.bucket_counts.iter().map(u64::to_string).collect::<Vec<_>>(), "explicitBounds": p.explicit_bounds,
            })).collect::<Vec<_>>()}}),
        _ => unreachable!("bench metrics are gauges, sums and histograms"),
    };
    let resources: Vec<_> = request
        .resource_metrics
        .iter()
        .map(|r| {
            serde_json::json!({
                "resource": {"attributes": attributes(&r.resource.as_ref().expect("set").attributes)},
                "scopeMetrics": r.scope_metrics.iter().map(|s| serde_json::json!({"metrics": s.metrics.iter().map(metrics).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({"resourceMetrics": resources}).to_string().into_bytes()
}

/// Discards samples, to measure the receiver alone.
struct NoopAppender;

impl Appender for NoopAppender {
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64) {
        black_box((labels, t, v));
    }

    fn commit(&mut self) -> series::Result<usize> {
        Ok(0)
    }

    fn rollback(&mut self) {}
}

fn otlp(c: &mut Criterion) {
    let request = request();
    let protobuf = request.encode_to_vec();
    let json = json_request(&request);
    let deltas = DeltaTotals::new(0);
    assert_eq!(decode_json(&json).expect("valid"), request);
    let n_points: usize = request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => g.data_points.len(),
            Some(metric::Data::Sum(s)) => s.data_points.len(),
            Some(metric::Data::Histogram(h)) => h.data_points.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(n_points, N_POINTS);

    let mut group = c.benchmark_group("otlp");
    group.throughput(Throughput::Elements(N_POINTS as u64));
    group.bench_function("protobuf_decode", |b| b.iter(|| decode_protobuf(black_box(&protobuf)).expect("valid")));
    group.bench_function("protobuf_decode_translate", |b| {
        b.iter(|| translate(&decode_protobuf(black_box(&protobuf)).expect("valid"), &deltas).num_samples())
    });
    group.bench_function("protobuf_decode_translate_append_noop", |b| {
        b.iter(|| {
            translate(&decode_protobuf(black_box(&protobuf)).expect("valid"), &deltas).append_to(&mut NoopAppender)
        })
    });
    group.bench_function("json_decode_translate", |b| {
        b.iter(|| translate(&decode_json(black_box(&json)).expect("valid"), &deltas).num_samples())
    });
    group.finish();
}

criterion_group!(benches, otlp);
criterion_main!(benches);
