//! Drives the push endpoints through their routers, against an in-memory store:
//! remote write here, OTLP in [`otlp`].

mod otlp;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use prometheus_client::registry::Registry;
use prost::Message;
use receivers::remote_write::proto::{v1, v2};
use receivers::{Metrics, RemoteWriteConfig, RemoteWriteState, router};
use series::{Labels, Sample};
use testkit::MemStorage;
use tower::ServiceExt;

const V1: &str = "application/x-protobuf;proto=prometheus.WriteRequest";
const V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

struct Server {
    storage: MemStorage,
    router: Router,
    registry: Registry,
}

fn server(max_decompressed_bytes: usize) -> Server {
    let storage = MemStorage::new();
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let state = RemoteWriteState::new(Arc::new(storage.clone()), RemoteWriteConfig { max_decompressed_bytes }, metrics);
    Server { storage, router: router(state), registry }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Server {
    async fn post(&self, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = Request::post("/api/v1/write").header("content-encoding", "snappy");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        self.send(request.body(Body::from(body)).expect("valid request")).await
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("readable body");
        Reply { status, headers, body: String::from_utf8(body.to_vec()).expect("UTF-8 body") }
    }

    fn metrics_text(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encodable");
        text
    }
}

fn snappy(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(bytes).expect("compressible")
}

fn v1_series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels.iter().map(|&(name, value)| v1::Label { name: name.into(), value: value.into() }).collect(),
        samples: samples.iter().map(|&(timestamp, value)| v1::Sample { value, timestamp }).collect(),
        ..Default::default()
    }
}

fn v1_body(timeseries: Vec<v1::TimeSeries>) -> Vec<u8> {
    snappy(&v1::WriteRequest { timeseries, metadata: Vec::new() }.encode_to_vec())
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn assert_error(reply: &Reply, status: StatusCode, error_type: &str, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON error body");
    assert_eq!(body["status"], "error");
    assert_eq!(body["errorType"], error_type);
    let error = body["error"].as_str().expect("error message");
    assert!(error.contains(message), "{error:?} does not contain {message:?}");
}

const UP: &[(&str, &str)] = &[("__name__", "up"), ("job", "vllm"), ("instance", "gpu-0:8000")];

#[tokio::test]
async fn v1_samples_are_stored() {
    let server = server(1 << 20);
    let body = v1_body(vec![
        v1_series(UP, &[(1000, 1.0), (2000, 0.0)]),
        v1_series(&[("model_name", "llama"), ("__name__", "vllm:num_requests_running"), ("empty", "")], &[(1000, 3.0)]),
    ]);
    let reply = server.post(Some(V1), body).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert!(reply.headers.get("x-prometheus-remote-write-samples-written").is_none());
    assert_eq!(server.storage.samples(&labels(UP)), vec![Sample { t: 1000, v: 1.0 }, Sample { t: 2000, v: 0.0 }]);
    let running = labels(&[("__name__", "vllm:num_requests_running"), ("model_name", "llama")]);
    assert_eq!(server.storage.samples(&running), vec![Sample { t: 1000, v: 3.0 }]);
    assert_eq!(server.storage.num_samples(), 3);

    // Without a Content-Type, as old senders do, the request is read as 1.0.
    let reply = server.post(None, v1_body(vec![v1_series(UP, &[(3000, 1.0)])])).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(server.storage.num_samples(), 4);
    assert!(server.metrics_text().contains(r#"infersight_remote_write_requests_total{version="1.0"} 2"#));
}

#[tokio::test]
async fn v2_samples_are_stored_and_counted_in_headers() {
    let server = server(1 << 20);
    let symbols = ["", "__name__", "up", "job", "vllm", "instance", "gpu-0:8000", "trace_id", "abc"];
    let request = v2::Request {
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        timeseries: vec![
            v2::TimeSeries {
                labels_refs: vec![1, 2, 5, 6, 3, 4],
                samples: vec![v2::Sample { value: 1.0, timestamp: 1000 }, v2::Sample { value: 1.0, timestamp: 2000 }],
                exemplars: vec![v2::Exemplar { labels_refs: vec![7, 8], value: 1.0, timestamp: 1000 }],
                ..Default::default()
            },
            v2::TimeSeries {
                labels_refs: vec![1, 2, 3, 2],
                histograms: vec![v2::Histogram { count_int: 4, sum: 2.0, schema: 3, timestamp: 1000 }],
                ..Default::default()
            },
        ],
    };
    let reply = server.post(Some(V2), snappy(&request.encode_to_vec())).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(reply.headers["x-prometheus-remote-write-samples-written"], "2");
    assert_eq!(reply.headers["x-prometheus-remote-write-histograms-written"], "0");
    assert_eq!(reply.headers["x-prometheus-remote-write-exemplars-written"], "0");
    assert_eq!(server.storage.samples(&labels(UP)), vec![Sample { t: 1000, v: 1.0 }, Sample { t: 2000, v: 1.0 }]);
    assert_eq!(server.storage.series(), vec![labels(UP)]);
    let metrics = server.metrics_text();
    assert!(metrics.contains("infersight_remote_write_histograms_dropped_total 1"), "{metrics}");
    assert!(metrics.contains("infersight_remote_write_exemplars_dropped_total 1"), "{metrics}");
    assert!(metrics.contains("infersight_remote_write_samples_total 2"), "{metrics}");
}

#[tokio::test]
async fn body_that_is_not_snappy_is_bad_data() {
    let server = server(1 << 20);
    let reply = server.post(Some(V1), b"\xff\xff\xff\xff\xff\xff not snappy".to_vec()).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_data", "request body is not snappy block data");
    let reply = server.post(Some(V2), b"\xff\xff\xff\xff\xff\xff not snappy".to_vec()).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_data", "snappy");
    assert_eq!(reply.headers["x-prometheus-remote-write-samples-written"], "0");
}

#[tokio::test]
async fn body_that_is_not_protobuf_is_bad_data() {
    let server = server(1 << 20);
    let reply = server.post(Some(V1), snappy(b"\x0a\xff\x01 not protobuf")).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_data", "request body is not valid protobuf: ");
    assert!(server.metrics_text().contains(r#"infersight_remote_write_rejected_total{reason="bad_protobuf"} 1"#));
}

#[tokio::test]
async fn requests_over_the_limit_are_refused() {
    let server = server(1000);
    let big = v1_body(vec![v1_series(&[("__name__", "up"), ("pad", &"x".repeat(2000))], &[(1, 1.0)])]);
    let reply = server.post(Some(V1), big).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "bad_data", "more than the limit of 1000 bytes");
    // A body no snappy block within the limit could be is refused before it is read whole.
    let reply = server.post(Some(V1), vec![0; 5000]).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "bad_data", "request body is larger than the limit");
    assert_eq!(server.storage.num_samples(), 0);
    assert!(server.metrics_text().contains(r#"infersight_remote_write_rejected_total{reason="too_large"} 2"#));
}

#[tokio::test]
async fn unknown_formats_are_unsupported_media_types() {
    let server = server(1 << 20);
    let body = v1_body(vec![v1_series(UP, &[(1, 1.0)])]);
    for content_type in ["application/json", "application/x-protobuf;proto=io.prometheus.write.v3.Request"] {
        let reply = server.post(Some(content_type), body.clone()).await;
        assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_data", "unsupported Content-Type");
    }
    let request = Request::post("/api/v1/write")
        .header("content-type", V1)
        .header("content-encoding", "gzip")
        .body(Body::from(body))
        .expect("valid request");
    let reply = server.send(request).await;
    assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_data", "unsupported Content-Encoding \"gzip\"");
    assert_eq!(server.storage.num_samples(), 0);
}

#[tokio::test]
async fn invalid_labels_reject_the_whole_request_naming_the_series() {
    let server = server(1 << 20);
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("__name__", "up"), ("bad-name", "x")],
            r#"invalid label name "bad-name" in series {__name__="up", bad-name="x"}"#,
        ),
        (&[("__name__", ""), ("job", "x")], r#"missing metric name in series {__name__="", job="x"}"#),
        (&[("job", "x")], r#"missing metric name in series {job="x"}"#),
        (&[("__name__", "a-b")], r#"invalid metric name "a-b" in series {__name__="a-b"}"#),
        (
            &[("__name__", "up"), ("job", "a"), ("job", "b")],
            r#"duplicate label name "job" in series {__name__="up", job="a", job="b"}"#,
        ),
    ];
    for &(bad, message) in cases {
        // The valid series comes first: it must not be stored either.
        let body = v1_body(vec![v1_series(UP, &[(1, 1.0)]), v1_series(bad, &[(1, 1.0)])]);
        let reply = server.post(Some(V1), body).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "bad_data", message);
        assert_eq!(server.storage.num_samples(), 0, "{message}");
    }
}

#[tokio::test]
async fn unavailable_storage_asks_senders_to_retry() {
    let server = server(1 << 20);
    server.storage.set_fail_commits(true);
    let body = v1_body(vec![v1_series(UP, &[(1, 1.0)])]);
    let reply = server.post(Some(V1), body.clone()).await;
    assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable", "storage is unavailable");
    assert_eq!(server.storage.num_samples(), 0);
    assert!(
        server.metrics_text().contains(r#"infersight_remote_write_rejected_total{reason="storage_unavailable"} 1"#)
    );

    server.storage.set_fail_commits(false);
    let reply = server.post(Some(V1), body).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(server.storage.num_samples(), 1);
}

#[tokio::test]
async fn resent_samples_are_accepted() {
    let server = server(1 << 20);
    for value in [1.0, 2.0] {
        let reply = server.post(Some(V1), v1_body(vec![v1_series(UP, &[(1000, value), (1000, value)])])).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
    assert_eq!(server.storage.samples(&labels(UP)), vec![Sample { t: 1000, v: 2.0 }]);
}

#[tokio::test]
async fn stale_markers_are_stored_as_values() {
    let server = server(1 << 20);
    let reply = server.post(Some(V1), v1_body(vec![v1_series(UP, &[(1000, 1.0), (2000, series::STALE_NAN)])])).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let samples = server.storage.samples(&labels(UP));
    assert!(series::is_stale_nan(samples[1].v), "{samples:?}");
}

#[tokio::test]
async fn issue_20_a_snappy_bomb_is_refused_by_its_header_before_it_is_decompressed() {
    // A gigabyte of zeros in 50 MB, within the compressed bound of a 64 MiB limit.
    let bomb = testkit::bomb::snappy_zeros(1 << 30);
    let large = server(64 << 20);
    let reply = large.post(Some(V1), bomb.clone()).await;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "bad_data",
        "request body decompresses to 1073741824 bytes, more than the limit of 67108864 bytes",
    );
    // At the default limit the same body is larger than any block within it can be, and is not read whole.
    let server = server(RemoteWriteConfig::default().max_decompressed_bytes);
    let reply = server.post(Some(V1), bomb).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "bad_data", "request body is larger than the limit");
    // A header that claims 4 GiB over a few bytes: refused before any allocation.
    let reply = server.post(Some(V2), testkit::bomb::snappy_lying_header(u32::MAX)).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "bad_data", "decompresses to 4294967295 bytes");
    assert_eq!(reply.headers["x-prometheus-remote-write-samples-written"], "0");
    assert_eq!(server.storage.num_samples(), 0);
    assert!(server.metrics_text().contains(r#"infersight_remote_write_rejected_total{reason="too_large"} 2"#));
}
