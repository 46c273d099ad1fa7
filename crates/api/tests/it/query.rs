//! PromQL over HTTP, and the requests Grafana's Prometheus data source makes.

use serde_json::json;

use super::{bad_data, get, post_form, success};

#[tokio::test]
async fn instant_query_answers_a_vector_with_string_values() {
    let (status, body) = get("/api/v1/query?query=up&time=2").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        success(json!({"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "instance": "localhost:9090", "job": "prometheus"}, "value": [2, "1"]},
            {"metric": {"__name__": "up", "instance": "localhost:9100", "job": "node"}, "value": [2, "0"]},
        ]}))
    );
}

#[tokio::test]
async fn scalars_strings_and_fractional_times() {
    let (_, body) = get("/api/v1/query?query=1%2B1&time=1.5").await;
    assert_eq!(body, success(json!({"resultType": "scalar", "result": [1.5, "2"]})));
    let (_, body) = get("/api/v1/query?query=%22hi%22&time=3").await;
    assert_eq!(body, success(json!({"resultType": "string", "result": [3, "hi"]})));
}

#[tokio::test]
async fn range_query_answers_a_matrix() {
    let (status, body) = post_form("/api/v1/query_range", "query=sum(up)&start=1&end=3&step=1").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        success(json!({"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1, "1"], [2, "1"], [3, "1"]]},
        ]}))
    );
}

#[tokio::test]
async fn query_errors_use_prometheus_types_and_words() {
    let (status, body) = get("/api/v1/query?query=sum(").await;
    assert_eq!(status, 400);
    assert_eq!(body["errorType"], "bad_data");
    assert!(body["error"].as_str().is_some_and(|e| e.starts_with("invalid parameter \"query\": ")), "{body}");

    let (status, body) = get("/api/v1/query?query=sum(up)+bar").await;
    let message = r#"invalid parameter "query": 1:9: parse error: unexpected identifier "bar""#;
    assert_eq!((status.as_u16(), body), (400, bad_data(message)));

    let (_, body) = post_form("/api/v1/format_query", "query=up+%2B").await;
    let message = r#"invalid parameter "query": 1:5: parse error: unexpected end of input"#;
    assert_eq!(body, bad_data(message));

    let (status, body) = post_form("/api/v1/query_range", "query=up&start=10&end=1&step=1").await;
    assert_eq!((status.as_u16(), body), (400, bad_data("end timestamp must not be before start time")));

    let (status, body) = post_form("/api/v1/query_range", "query=up&start=0&end=100000&step=1").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().is_some_and(|e| e.starts_with("exceeded maximum resolution of 11,000 points")));

    let (status, body) = post_form("/api/v1/query_range", "query=up&start=0&end=10&step=0").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().is_some_and(|e| e.starts_with("zero or negative query resolution step")));

    let (status, body) = get("/api/v1/query?query=up&timeout=abc").await;
    assert_eq!(status, 400, "{body}");
}

/// The calls Grafana's Prometheus data source makes when a dashboard loads,
/// in its order and encoding (form POSTs for queries and series).
#[tokio::test]
async fn grafana_data_source_calls_answer_as_prometheus_does() {
    let (status, body) = get("/api/v1/status/buildinfo").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["version"], env!("CARGO_PKG_VERSION"));

    let (status, body) = post_form("/api/v1/labels", "start=0&end=200").await;
    assert_eq!(status, 200);
    assert_eq!(body, success(json!(["__name__", "instance", "job", "model_name"])));

    let (_, body) = get("/api/v1/label/__name__/values?start=0&end=200").await;
    assert_eq!(body, success(json!(["process_start_time_seconds", "up", "vllm:num_requests_running"])));

    let (_, body) = post_form("/api/v1/series", "match%5B%5D=vllm%3Anum_requests_running&start=0&end=200").await;
    assert_eq!(
        body,
        success(json!([{"__name__": "vllm:num_requests_running", "instance": "gpu0", "model_name": "llama"}]))
    );

    let (status, body) = get("/api/v1/metadata").await;
    assert_eq!((status.as_u16(), body), (200, success(json!({}))));

    // Groups come out in the order their first series is met, as in Prometheus.
    let (_, body) = post_form("/api/v1/query", "query=sum+by+(job)+(up)&time=2").await;
    assert_eq!(
        body,
        success(json!({"resultType": "vector", "result": [
            {"metric": {"job": "prometheus"}, "value": [2, "1"]},
            {"metric": {"job": "node"}, "value": [2, "0"]},
        ]}))
    );

    let (_, body) = post_form("/api/v1/query_range", "query=vllm%3Anum_requests_running&start=4&end=6&step=1").await;
    assert_eq!(
        body,
        success(json!({"resultType": "matrix", "result": [
            {"metric": {"__name__": "vllm:num_requests_running", "instance": "gpu0", "model_name": "llama"},
             "values": [[5, "3"], [6, "3"]]},
        ]}))
    );

    let (_, body) = post_form("/api/v1/format_query", "query=sum(up)+by+(job)").await;
    assert_eq!(body, success(json!("sum by (job) (up)")));
}

#[tokio::test]
async fn tsdb_status_counts_series_by_metric_name_and_label_pair() {
    let (status, body) = get("/api/v1/status/tsdb?limit=2").await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(
        data["seriesCountByMetricName"],
        json!([{"name": "up", "value": 2}, {"name": "process_start_time_seconds", "value": 1}])
    );
    assert_eq!(data["labelValueCountByLabelName"][0], json!({"name": "__name__", "value": 3}));
    assert_eq!(data["headStats"]["numLabelPairs"], 9);
}
