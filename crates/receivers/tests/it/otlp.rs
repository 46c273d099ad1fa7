//! Drives the OTLP metrics endpoint through its router, against an in-memory store.

use std::io::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use prometheus_client::registry::Registry;
use prost::Message;
use receivers::otlp::proto::{
    self, AnyValue, ExportMetricsServiceRequest, Histogram, HistogramDataPoint, InstrumentationScope, KeyValue, Metric,
    Resource, ResourceMetrics, ScopeMetrics, any_value, metric,
};
use receivers::{Metrics, OtlpConfig, OtlpState};
use serde_json::json;
use series::{Labels, Sample};
use testkit::MemStorage;
use tower::ServiceExt;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

struct Server {
    storage: MemStorage,
    router: Router,
    registry: Registry,
}

fn server(max_decompressed_bytes: usize) -> Server {
    let storage = MemStorage::new();
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let config = OtlpConfig { max_decompressed_bytes, ..OtlpConfig::default() };
    let state = OtlpState::new(Arc::new(storage.clone()), config, metrics);
    Server { storage, router: receivers::otlp::router(state), registry }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Server {
    async fn post(&self, content_type: &str, content_encoding: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = Request::post("/api/v1/otlp/v1/metrics").header("content-type", content_type);
        if let Some(encoding) = content_encoding {
            request = request.header("content-encoding", encoding);
        }
        let request = request.body(Body::from(body)).expect("valid request");
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let content_type = response.headers().get("content-type").map_or("", |v| v.to_str().expect("ASCII")).to_owned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("readable body");
        Reply { status, content_type, body: body.to_vec() }
    }

    fn metrics_text(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encodable");
        text
    }
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        assert_eq!(self.content_type, JSON);
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// One GenAI histogram point as an instrumented app exports it.
struct GenAiPoint {
    extra: Option<(&'static str, &'static str)>,
    bucket_counts: &'static [u64],
    sum: f64,
}

/// One GenAI histogram: the OTel name, unit and bucket bounds of the
/// semantic conventions, and the Prometheus name and `le` values it must get.
struct GenAiHistogram {
    name: &'static str,
    unit: &'static str,
    bounds: &'static [f64],
    prometheus_name: &'static str,
    les: &'static [&'static str],
    points: &'static [GenAiPoint],
}

const T_NANOS: u64 = 1_760_000_000_123_456_789;
const T_MS: i64 = 1_760_000_000_123;

const GEN_AI: &[GenAiHistogram] = &[
    GenAiHistogram {
        name: "gen_ai.client.operation.duration",
        unit: "s",
        bounds: &[0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
        prometheus_name: "gen_ai_client_operation_duration_seconds",
        les: &[
            "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12", "10.24", "20.48", "40.96",
            "81.92", "+Inf",
        ],
        points: &[GenAiPoint {
            extra: None,
            bucket_counts: &[0, 1, 2, 5, 9, 7, 3, 2, 1, 0, 0, 0, 0, 0, 0],
            sum: 12.34,
        }],
    },
    GenAiHistogram {
        name: "gen_ai.client.token.usage",
        unit: "{token}",
        bounds: &[
            1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
            67108864.0,
        ],
        prometheus_name: "gen_ai_client_token_usage",
        les: &[
            "1", "4", "16", "64", "256", "1024", "4096", "16384", "65536", "262144", "1048576", "4194304", "16777216",
            "67108864", "+Inf",
        ],
        points: &[
            GenAiPoint {
                extra: Some(("gen_ai.token.type", "input")),
                bucket_counts: &[0, 0, 0, 2, 10, 15, 3, 0, 0, 0, 0, 0, 0, 0, 0],
                sum: 21_504.0,
            },
            GenAiPoint {
                extra: Some(("gen_ai.token.type", "output")),
                bucket_counts: &[1, 0, 4, 11, 13, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                sum: 4_096.0,
            },
        ],
    },
    GenAiHistogram {
        name: "gen_ai.server.time_to_first_token",
        unit: "s",
        bounds: &[0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0],
        prometheus_name: "gen_ai_server_time_to_first_token_seconds",
        les: &[
            "0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5",
            "7.5", "10", "+Inf",
        ],
        points: &[GenAiPoint {
            extra: None,
            bucket_counts: &[0, 0, 0, 1, 3, 6, 8, 4, 6, 1, 1, 0, 0, 0, 0, 0, 0],
            sum: 2.75,
        }],
    },
    GenAiHistogram {
        name: "gen_ai.server.time_per_output_token",
        unit: "s",
        bounds: &[0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5],
        prometheus_name: "gen_ai_server_time_per_output_token_seconds",
        les: &["0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3", "0.4", "0.5", "0.75", "1", "2.5", "+Inf"],
        points: &[GenAiPoint { extra: None, bucket_counts: &[2, 9, 14, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], sum: 1.02 }],
    },
];

/// The attributes every GenAI point carries, with the labels they become.
const GEN_AI_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("gen_ai.operation.name", "gen_ai_operation_name", "chat"),
    ("gen_ai.provider.name", "gen_ai_provider_name", "openai"),
    ("gen_ai.request.model", "gen_ai_request_model", "gpt-4o-mini"),
    ("gen_ai.response.model", "gen_ai_response_model", "gpt-4o-mini-2024-07-18"),
    ("server.address", "server_address", "api.openai.com"),
];

const RESOURCE: &[(&str, &str)] = &[
    ("service.name", "chatbot"),
    ("service.instance.id", "chatbot-7f9c-1"),
    ("telemetry.sdk.language", "python"),
    ("telemetry.sdk.name", "opentelemetry"),
];

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_owned())) }),
    }
}

fn point_attributes(point: &GenAiPoint) -> Vec<(&'static str, &'static str)> {
    let mut attributes: Vec<_> = GEN_AI_ATTRIBUTES.iter().map(|&(key, _, value)| (key, value)).collect();
    attributes.extend(point.extra);
    attributes
}

/// The GenAI metrics of one export, as the protobuf an SDK sends.
fn gen_ai_protobuf() -> Vec<u8> {
    let metrics = GEN_AI
        .iter()
        .map(|histogram| Metric {
            name: histogram.name.to_owned(),
            description: String::new(),
            unit: histogram.unit.to_owned(),
            data: Some(metric::Data::Histogram(Histogram {
                aggregation_temporality: proto::temporality::CUMULATIVE,
                data_points: histogram
                    .points
                    .iter()
                    .map(|point| HistogramDataPoint {
                        attributes: point_attributes(point).iter().map(|&(k, v)| string_attribute(k, v)).collect(),
                        start_time_unix_nano: T_NANOS - 60_000_000_000,
                        time_unix_nano: T_NANOS,
                        count: point.bucket_counts.iter().sum(),
                        sum: Some(point.sum),
                        bucket_counts: point.bucket_counts.to_vec(),
                        explicit_bounds: histogram.bounds.to_vec(),
                        flags: 0,
                    })
                    .collect(),
            })),
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: RESOURCE.iter().map(|&(k, v)| string_attribute(k, v)).collect() }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "opentelemetry.instrumentation.openai_v2".into(),
                    version: "2.1b0".into(),
                    attributes: Vec::new(),
                }),
                metrics,
            }],
        }],
    }
    .encode_to_vec()
}

/// The same export as OTLP/JSON, written the way exporters write it:
/// 64-bit integers as strings, bounds as numbers, temporality as an integer.
fn gen_ai_json() -> Vec<u8> {
    let attributes = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|&(key, value)| json!({"key": key, "value": {"stringValue": value}})).collect::<Vec<_>>()
    };
    let metrics: Vec<_> = GEN_AI
        .iter()
        .map(|histogram| {
            let points: Vec<_> = histogram
                .points
                .iter()
                .map(|point| {
                    json!({
                        "attributes": attributes(&point_attributes(point)),
                        "startTimeUnixNano": (T_NANOS - 60_000_000_000).to_string(),
                        "timeUnixNano": T_NANOS.to_string(),
                        "count": point.bucket_counts.iter().sum::<u64>().to_string(),
                        "sum": point.sum,
                        "bucketCounts": point.bucket_counts.iter().map(u64::to_string).collect::<Vec<_>>(),
                        "explicitBounds": histogram.bounds,
                    })
                })
                .collect();
            json!({
                "name": histogram.name,
                "unit": histogram.unit,
                "histogram": {"aggregationTemporality": 2, "dataPoints": points},
            })
        })
        .collect();
    json!({"resourceMetrics": [{
        "resource": {"attributes": attributes(RESOURCE)},
        "scopeMetrics": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}, "metrics": metrics}],
    }]})
    .to_string()
    .into_bytes()
}

/// Checks that the store holds the GenAI histograms bucket for bucket, and nothing else but `target_info`.
fn assert_gen_ai_stored(storage: &MemStorage) {
    let mut expected_series = Vec::new();
    for histogram in GEN_AI {
        assert_eq!(histogram.les.len(), histogram.bounds.len() + 1);
        for point in histogram.points {
            let mut base: Vec<(&str, &str)> =
                GEN_AI_ATTRIBUTES.iter().map(|&(_, label, value)| (label, value)).collect();
            base.extend(point.extra.map(|(_, value)| ("gen_ai_token_type", value)));
            base.extend([("job", "chatbot"), ("instance", "chatbot-7f9c-1")]);
            let series = |suffix: &str, le: Option<&str>| {
                let name = format!("{}{suffix}", histogram.prometheus_name);
                let mut pairs = base.clone();
                pairs.push(("__name__", &name));
                pairs.extend(le.map(|le| ("le", le)));
                labels(&pairs)
            };
            let mut cumulative = 0;
            for (le, count) in histogram.les.iter().zip(point.bucket_counts) {
                cumulative += count;
                let bucket = series("_bucket", Some(le));
                assert_eq!(storage.samples(&bucket), [Sample { t: T_MS, v: cumulative as f64 }], "{bucket}");
                expected_series.push(bucket);
            }
            let count = point.bucket_counts.iter().sum::<u64>() as f64;
            assert_eq!(cumulative as f64, count);
            for (suffix, value) in [("_sum", point.sum), ("_count", count)] {
                let series = series(suffix, None);
                assert_eq!(storage.samples(&series), [Sample { t: T_MS, v: value }], "{series}");
                expected_series.push(series);
            }
        }
    }
    let target_info = labels(&[
        ("__name__", "target_info"),
        ("instance", "chatbot-7f9c-1"),
        ("job", "chatbot"),
        ("telemetry_sdk_language", "python"),
        ("telemetry_sdk_name", "opentelemetry"),
    ]);
    assert_eq!(storage.samples(&target_info), [Sample { t: T_MS, v: 1.0 }]);
    expected_series.push(target_info);
    expected_series.sort();
    assert_eq!(storage.series(), expected_series);
}

#[test]
fn gen_ai_series_have_the_documented_names() {
    // A spot check in the spelling of the design document, independent of the tables above.
    let body = gen_ai_protobuf();
    assert!(!body.is_empty());
    let wanted = [
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_client_token_usage",
        "gen_ai_server_time_to_first_token_seconds",
        "gen_ai_server_time_per_output_token_seconds",
    ];
    assert_eq!(GEN_AI.iter().map(|h| h.prometheus_name).collect::<Vec<_>>(), wanted);
}

#[tokio::test]
async fn gen_ai_metrics_from_protobuf_are_stored_bucket_for_bucket() {
    let server = server(1 << 20);
    let reply = server.post(PROTOBUF, None, gen_ai_protobuf()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.content_type, PROTOBUF);
    let response = proto::ExportMetricsServiceResponse::decode(&reply.body[..]).expect("protobuf response");
    assert_eq!(response.partial_success, None);
    assert_gen_ai_stored(&server.storage);
    let metrics = server.metrics_text();
    assert!(metrics.contains(r#"infersight_otlp_requests_total{encoding="protobuf"} 1"#), "{metrics}");
    assert!(metrics.contains("infersight_otlp_samples_total 87"), "{metrics}");
}

#[tokio::test]
async fn gen_ai_metrics_from_json_are_stored_bucket_for_bucket() {
    let server = server(1 << 20);
    let reply = server.post(JSON, None, gen_ai_json()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json(), json!({}));
    assert_gen_ai_stored(&server.storage);
    assert!(server.metrics_text().contains(r#"infersight_otlp_requests_total{encoding="json"} 1"#));
}

#[tokio::test]
async fn gzipped_bodies_are_inflated() {
    let server = server(1 << 20);
    let reply = server.post(&format!("{PROTOBUF}; charset=binary"), Some("gzip"), gzip(&gen_ai_protobuf())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = server.post(JSON, Some("gzip"), gzip(&gen_ai_json())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_gen_ai_stored(&server.storage);
}

#[tokio::test]
async fn untranslatable_points_are_a_partial_success_in_the_request_encoding() {
    let server = server(1 << 20);
    let body = json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "ok", "gauge": {"dataPoints": [{"timeUnixNano": "1000000", "asInt": "1"}]}},
        {"name": "temperature", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": [
            {"count": "2", "scale": 0, "negative": {"bucketCounts": ["2"]}}
        ]}},
    ]}]}]});
    let reply = server.post(JSON, None, body.to_string().into_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"partialSuccess": {
            "rejectedDataPoints": "1",
            "errorMessage": "metric \"temperature\": exponential histogram has 2 observations in negative buckets",
        }})
    );
    assert_eq!(server.storage.samples(&labels(&[("__name__", "ok")])), [Sample { t: 1, v: 1.0 }]);

    let request = decode_json_request(&body);
    let reply = server.post(PROTOBUF, None, request.encode_to_vec()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let response = proto::ExportMetricsServiceResponse::decode(&reply.body[..]).expect("protobuf response");
    let partial = response.partial_success.expect("partial success");
    assert_eq!(partial.rejected_data_points, 1);
    assert!(partial.error_message.contains("negative buckets"), "{partial:?}");
    let metrics = server.metrics_text();
    assert!(metrics.contains(r#"infersight_otlp_points_rejected_total{reason="negative_buckets"} 2"#), "{metrics}");
}

fn decode_json_request(json: &serde_json::Value) -> ExportMetricsServiceRequest {
    receivers::otlp::decode_json(json.to_string().as_bytes()).expect("valid OTLP/JSON")
}

#[tokio::test]
async fn undecodable_bodies_are_bad_requests_with_a_status() {
    let server = server(1 << 20);
    let reply = server.post(PROTOBUF, None, b"\x0a\xff\x01 not protobuf".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.content_type, PROTOBUF);
    let status = proto::Status::decode(&reply.body[..]).expect("google.rpc.Status");
    assert_eq!(status.code, 3);
    assert!(
        status.message.starts_with("request body is not a valid protobuf ExportMetricsServiceRequest: "),
        "{status:?}"
    );

    let reply = server.post(JSON, None, b"{\"resourceMetrics\": {}}".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(body["code"], 3);
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with("request body is not a valid OTLP/JSON ExportMetricsServiceRequest: invalid type"),
        "{message}"
    );

    let reply = server.post(JSON, Some("gzip"), b"not gzip".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json()["message"].as_str().expect("message").starts_with("request body is not valid gzip"));
    assert_eq!(server.storage.num_samples(), 0);
    let metrics = server.metrics_text();
    for reason in ["bad_protobuf", "bad_json", "bad_gzip"] {
        assert!(metrics.contains(&format!("infersight_otlp_rejected_total{{reason=\"{reason}\"}} 1")), "{metrics}");
    }
}

#[tokio::test]
async fn unknown_formats_are_unsupported_media_types() {
    let server = server(1 << 20);
    for content_type in ["text/plain", "application/x-protobuf-json", ""] {
        let reply = server.post(content_type, None, gen_ai_protobuf()).await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert_eq!(reply.content_type, "text/plain; charset=utf-8");
        assert!(reply.text().starts_with("unsupported Content-Type"), "{}", reply.text());
    }
    let reply = server.post(PROTOBUF, Some("snappy"), gen_ai_protobuf()).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let status = proto::Status::decode(&reply.body[..]).expect("google.rpc.Status");
    assert_eq!(status.message, "unsupported Content-Encoding \"snappy\": expected gzip or none");
    assert_eq!(server.storage.num_samples(), 0);
    assert!(server.metrics_text().contains(r#"infersight_otlp_requests_total{encoding="unknown"} 3"#));
}

#[tokio::test]
async fn requests_over_the_limit_are_refused() {
    let server = server(1000);
    let reply = server.post(JSON, None, vec![b' '; 1001]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["message"], "request body is larger than the limit of 1000 bytes");
    // Small when compressed, too large once inflated.
    let reply = server.post(JSON, Some("gzip"), gzip(&vec![b' '; 5000])).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["message"], "request body decompresses to more than the limit of 1000 bytes");
    assert_eq!(server.storage.num_samples(), 0);
    assert!(server.metrics_text().contains(r#"infersight_otlp_rejected_total{reason="too_large"} 2"#));
}

#[tokio::test]
async fn unavailable_storage_asks_senders_to_retry_without_counting_deltas_twice() {
    let server = server(1 << 20);
    let body = json!({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "tokens", "sum": {"aggregationTemporality": 1, "isMonotonic": true, "dataPoints": [
            {"timeUnixNano": "1000000", "asInt": "5"}
        ]}},
    ]}]}]})
    .to_string()
    .into_bytes();
    server.storage.set_fail_commits(true);
    let reply = server.post(JSON, None, body.clone()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["code"], 14);
    assert!(server.metrics_text().contains(r#"infersight_otlp_rejected_total{reason="storage_unavailable"} 1"#));

    server.storage.set_fail_commits(false);
    let reply = server.post(JSON, None, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(server.storage.samples(&labels(&[("__name__", "tokens_total")])), [Sample { t: 1, v: 5.0 }]);
}

#[tokio::test]
async fn issue_20_a_gzip_bomb_is_refused_once_it_inflates_past_the_limit() {
    // A gigabyte of zeros in about a megabyte of gzip.
    let bomb = testkit::bomb::gzip_zeros(1024);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let server = server(OtlpConfig::default().max_decompressed_bytes);
    let reply = server.post(JSON, Some("gzip"), bomb.clone()).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["message"], "request body decompresses to more than the limit of 33554432 bytes");
    assert_eq!(reply.json()["code"], 8, "RESOURCE_EXHAUSTED");
    let reply = server.post(PROTOBUF, Some("gzip"), bomb).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let status = proto::Status::decode(&reply.body[..]).expect("a google.rpc.Status");
    assert_eq!(status.message, "request body decompresses to more than the limit of 33554432 bytes");
    assert_eq!(server.storage.num_samples(), 0);
    assert!(server.metrics_text().contains(r#"infersight_otlp_rejected_total{reason="too_large"} 2"#));
}
