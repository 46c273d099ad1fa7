//! Integration tests: the API's router over an in-memory store, compared with
//! what Prometheus answers for the same data.

mod exchanges;
mod query;

use std::sync::Arc;

use api::{ApiState, Metrics};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use series::{Labels, Querier, Queryable};
use testkit::MemStorage;
use tower::ServiceExt;

/// A store with a few series, samples at the given milliseconds.
fn storage() -> MemStorage {
    let storage = MemStorage::new();
    let add = |pairs: &[(&str, &str)], samples: &[(i64, f64)]| {
        storage.add(Labels::from_pairs(pairs.iter().copied()), samples);
    };
    add(&[("__name__", "up"), ("job", "prometheus"), ("instance", "localhost:9090")], &[(1_000, 1.0), (2_000, 1.0)]);
    add(&[("__name__", "up"), ("job", "node"), ("instance", "localhost:9100")], &[(1_000, 0.0)]);
    add(&[("__name__", "vllm:num_requests_running"), ("model_name", "llama"), ("instance", "gpu0")], &[(5_000, 3.0)]);
    add(&[("__name__", "process_start_time_seconds"), ("job", "prometheus")], &[(100_000, 1.0)]);
    storage
}

fn app() -> Router {
    api::router(ApiState::new(Arc::new(storage())))
}

/// The status, content type and body (as JSON when it is JSON) of one request.
async fn send(router: Router, request: Request<Body>) -> (StatusCode, String, Value) {
    let response = router.oneshot(request).await.expect("the router is infallible");
    let status = response.status();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().expect("ASCII").to_owned()).unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8(bytes.to_vec()).expect("UTF-8")));
    (status, content_type, body)
}

/// GET `uri`, written as a person would type it: quotes and braces are
/// percent-encoded here, as a browser or curl does.
async fn get(uri: &str) -> (StatusCode, Value) {
    let encoded = uri.replace('"', "%22").replace('{', "%7B").replace('}', "%7D");
    let (status, content_type, body) = send(app(), Request::get(encoded).body(Body::empty()).expect("request")).await;
    assert_eq!(content_type, "application/json", "GET {uri}");
    (status, body)
}

async fn post_form(uri: &str, form: &str) -> (StatusCode, Value) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("request");
    let (status, _, body) = send(app(), request).await;
    (status, body)
}

fn success(data: Value) -> Value {
    json!({"status": "success", "data": data})
}

fn bad_data(message: &str) -> Value {
    json!({"status": "error", "errorType": "bad_data", "error": message})
}

const UP_PROMETHEUS: &str = r#"{"__name__":"up","instance":"localhost:9090","job":"prometheus"}"#;
const UP_NODE: &str = r#"{"__name__":"up","instance":"localhost:9100","job":"node"}"#;

fn parse(golden: &str) -> Value {
    serde_json::from_str(golden).expect("golden JSON")
}

#[tokio::test]
async fn series_lists_label_sets_of_matching_series() {
    let (status, body) = get("/api/v1/series?match[]=up").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, success(json!([parse(UP_PROMETHEUS), parse(UP_NODE)])));
}

#[tokio::test]
async fn series_answer_is_byte_for_byte_prometheus() {
    let request =
        Request::get("/api/v1/series?match%5B%5D=%7Bjob%3D%22node%22%7D").body(Body::empty()).expect("request");
    let response = app().oneshot(request).await.expect("infallible");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    assert_eq!(std::str::from_utf8(&bytes).expect("UTF-8"), format!(r#"{{"status":"success","data":[{UP_NODE}]}}"#));
}

#[tokio::test]
async fn series_unions_several_selectors_without_duplicates() {
    let (_, body) = get(r#"/api/v1/series?match[]=up&match[]={job="prometheus"}"#).await;
    let expect = json!([
        {"__name__": "process_start_time_seconds", "job": "prometheus"},
        parse(UP_PROMETHEUS),
        parse(UP_NODE),
    ]);
    assert_eq!(body, success(expect));
}

#[tokio::test]
async fn series_keeps_only_series_with_samples_in_range() {
    let (_, body) = get("/api/v1/series?match[]={__name__=~\".%2B\"}&start=3&end=2015-07-01T20:10:51Z").await;
    let expect = json!([
        {"__name__": "process_start_time_seconds", "job": "prometheus"},
        {"__name__": "vllm:num_requests_running", "instance": "gpu0", "model_name": "llama"},
    ]);
    assert_eq!(body, success(expect));

    let (_, body) = get("/api/v1/series?match[]=up&start=1.5&end=1.999").await;
    assert_eq!(body, success(json!([])));
    let (_, body) = get("/api/v1/series?match[]=up&start=1.5&end=2").await;
    assert_eq!(body, success(json!([parse(UP_PROMETHEUS)])));
}

#[tokio::test]
async fn series_accepts_a_post_form() {
    let (status, body) = post_form("/api/v1/series?match[]=up", "match[]=vllm:num_requests_running&start=4").await;
    assert_eq!(status, StatusCode::OK);
    let expect = json!([{"__name__": "vllm:num_requests_running", "instance": "gpu0", "model_name": "llama"}]);
    assert_eq!(body, success(expect));
}

#[tokio::test]
async fn empty_results_are_empty_arrays() {
    assert_eq!(get("/api/v1/series?match[]=nothing").await.1, success(json!([])));
    assert_eq!(get("/api/v1/labels?match[]=nothing").await.1, success(json!([])));
    assert_eq!(get("/api/v1/label/job/values?match[]=nothing").await.1, success(json!([])));
}

#[tokio::test]
async fn limit_truncates_with_a_warning() {
    let (_, body) = get("/api/v1/series?match[]=up&limit=1").await;
    let expect =
        json!({"status": "success", "data": [parse(UP_PROMETHEUS)], "warnings": ["results truncated due to limit"]});
    assert_eq!(body, expect);

    let (_, body) = get("/api/v1/labels?limit=2").await;
    let expect =
        json!({"status": "success", "data": ["__name__", "instance"], "warnings": ["results truncated due to limit"]});
    assert_eq!(body, expect);

    // A limit the answer fits in adds no warning.
    assert_eq!(get("/api/v1/label/job/values?limit=2").await.1, success(json!(["node", "prometheus"])));
    assert_eq!(get("/api/v1/label/job/values?limit=0").await.1, success(json!(["node", "prometheus"])));
}

#[tokio::test]
async fn labels_lists_sorted_names() {
    let (status, body) = get("/api/v1/labels").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, success(json!(["__name__", "instance", "job", "model_name"])));

    let (_, body) = get("/api/v1/labels?match[]=up&match[]=vllm:num_requests_running").await;
    assert_eq!(body, success(json!(["__name__", "instance", "job", "model_name"])));
    let (_, body) = get("/api/v1/labels?match[]=process_start_time_seconds").await;
    assert_eq!(body, success(json!(["__name__", "job"])));
    let (_, body) = get("/api/v1/labels?start=50").await;
    assert_eq!(body, success(json!(["__name__", "job"])));

    let (_, body) = post_form("/api/v1/labels", "match[]=vllm:num_requests_running").await;
    assert_eq!(body, success(json!(["__name__", "instance", "model_name"])));
}

#[tokio::test]
async fn label_values_lists_sorted_values() {
    let (_, body) = get("/api/v1/label/__name__/values").await;
    assert_eq!(body, success(json!(["process_start_time_seconds", "up", "vllm:num_requests_running"])));
    let (_, body) = get("/api/v1/label/job/values?match[]=up").await;
    assert_eq!(body, success(json!(["node", "prometheus"])));
    let (_, body) = get(r#"/api/v1/label/instance/values?match[]=up{job="node"}&match[]={model_name="llama"}"#).await;
    assert_eq!(body, success(json!(["gpu0", "localhost:9100"])));
    let (_, body) = get("/api/v1/label/job/values?end=1.5").await;
    assert_eq!(body, success(json!(["node", "prometheus"])));
    let (_, body) = get("/api/v1/label/job/values?start=-292273086-05-16T16:47:06Z&end=1").await;
    assert_eq!(body, success(json!(["node", "prometheus"])));
}

#[tokio::test]
async fn series_requires_match() {
    let (status, body) = get("/api/v1/series").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, bad_data("no match[] parameter provided"));
    assert_eq!(post_form("/api/v1/series", "start=1").await.1, bad_data("no match[] parameter provided"));
}

#[tokio::test]
async fn bad_times_and_limits_are_bad_data() {
    let (status, body) = get("/api/v1/series?match[]=up&start=foo").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message =
        r#"invalid parameter "start": Invalid time value for 'start': cannot parse "foo" to a valid timestamp"#;
    assert_eq!(body, bad_data(message));

    let (_, body) = get("/api/v1/labels?end=2015-13-01T00:00:00Z").await;
    let message = r#"invalid parameter "end": Invalid time value for 'end': cannot parse "2015-13-01T00:00:00Z" to a valid timestamp"#;
    assert_eq!(body, bad_data(message));

    let (status, body) = get("/api/v1/label/job/values?limit=-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, bad_data(r#"invalid parameter "limit": limit must be non-negative"#));
}

#[tokio::test]
async fn bad_selectors_are_bad_data_with_the_parser_message() {
    let (status, body) = get("/api/v1/series?match[]=up{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        bad_data(r#"invalid parameter "match[]": 1:4: parse error: unexpected end of input inside braces"#)
    );

    let (_, body) = get("/api/v1/labels?match[]=rate(up[5m])").await;
    assert_eq!(body, bad_data(r#""rate(up[5m])" is not a metric selector"#));
}

#[tokio::test]
async fn selectors_must_have_a_non_empty_matcher() {
    let (status, body) = get(r#"/api/v1/series?match[]={job=~".*"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, bad_data(r#"invalid parameter "match[]": match[] must contain at least one non-empty matcher"#));

    // Prometheus names the parameter only on /series.
    let (_, body) = get(r#"/api/v1/labels?match[]=up&match[]={job=""}"#).await;
    assert_eq!(body, bad_data("match[] must contain at least one non-empty matcher"));
}

#[tokio::test]
async fn label_names_in_the_path_are_validated() {
    let (status, body) = get("/api/v1/label/0job/values").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, bad_data(r#"invalid label name: "0job""#));
}

/// A store that cannot be read.
struct BrokenStorage;

impl Queryable for BrokenStorage {
    fn querier(&self) -> series::Result<Box<dyn Querier + '_>> {
        Err(series::Error::Unavailable {
            reason: "write-ahead log replay in progress".into(),
            source: std::io::Error::other("not ready"),
        })
    }
}

#[tokio::test]
async fn storage_failures_are_unavailable() {
    let router = api::router(ApiState::new(Arc::new(BrokenStorage)));
    let (status, _, body) = send(router, Request::get("/api/v1/labels").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let expect = json!({
        "status": "error",
        "errorType": "unavailable",
        "error": "storage is unavailable: write-ahead log replay in progress: not ready",
    });
    assert_eq!(body, expect);
}

#[tokio::test]
async fn health_and_readiness_answer_in_plain_text() {
    let state = ApiState::new(Arc::new(storage()));
    let router = api::router(state.clone());
    let probe = |uri: &str| Request::get(uri).body(Body::empty()).expect("request");

    let (status, content_type, body) = send(router.clone(), probe("/-/healthy")).await;
    assert_eq!((status, body), (StatusCode::OK, json!("infersight is Healthy.\n")));
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let (status, _, body) = send(router.clone(), probe("/-/ready")).await;
    assert_eq!((status, body), (StatusCode::OK, json!("infersight is Ready.\n")));

    state.set_ready(false);
    let (status, _, body) = send(router.clone(), probe("/-/ready")).await;
    assert_eq!((status, body), (StatusCode::SERVICE_UNAVAILABLE, json!("Service Unavailable")));
    let (status, _, _) = send(router, probe("/-/healthy")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn label_values_is_get_only() {
    let request = Request::builder().method(Method::POST).uri("/api/v1/label/job/values").body(Body::empty());
    let (status, _, _) = send(app(), request.expect("request")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn requests_are_measured_by_route_not_path() {
    let mut registry = Registry::default();
    let metrics = Arc::new(Metrics::new(&mut registry));
    let router = api::instrument(app(), metrics);
    for uri in ["/api/v1/label/job/values", "/api/v1/label/instance/values", "/api/v1/series", "/nowhere"] {
        send(router.clone(), Request::get(uri).body(Body::empty()).expect("request")).await;
    }

    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encoding to a String");
    let lines: Vec<&str> = text.lines().filter(|line| line.starts_with("infersight_http_requests_total")).collect();
    let mut lines = lines.into_iter().map(str::to_owned).collect::<Vec<_>>();
    lines.sort();
    let expect = [
        r#"infersight_http_requests_total{handler="/api/v1/label/{name}/values",code="200"} 2"#,
        r#"infersight_http_requests_total{handler="/api/v1/series",code="400"} 1"#,
        r#"infersight_http_requests_total{handler="unmatched",code="404"} 1"#,
    ];
    assert_eq!(lines, expect);
    assert!(
        text.contains(r#"infersight_http_request_duration_seconds_count{handler="/api/v1/series",code="400"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn backfill_reports_progress_and_time_left_then_done() {
    let (status, body) = get("/api/v1/infersight/backfill").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "success", "data": {"state": "none"}}));

    let figures = |running: bool| api::BackfillStatus {
        running,
        from_ms: 1_000,
        to_ms: 21_600_000,
        progress: 0.25,
        elapsed_seconds: 5.0,
        remaining_seconds: Some(15.0),
    };
    for (running, expect) in [
        (
            true,
            json!({"state": "running", "progress": 0.25, "from_ms": 1_000, "to_ms": 21_600_000,
                "elapsed_seconds": 5.0, "remaining_seconds": 15.0}),
        ),
        (
            false,
            json!({"state": "done", "progress": 1.0, "from_ms": 1_000, "to_ms": 21_600_000,
                "elapsed_seconds": 5.0, "remaining_seconds": 0.0}),
        ),
    ] {
        let router = api::router(ApiState::new(Arc::new(storage())).with_backfill(move || figures(running)));
        let request = Request::get("/api/v1/infersight/backfill").body(Body::empty()).expect("request");
        let (status, _, body) = send(router, request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"], expect);
    }
}
