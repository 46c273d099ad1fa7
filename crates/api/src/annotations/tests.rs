//! Annotations posted, listed by range and model, and queried as the `infersight_annotation` series.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use testkit::MemStorage;
use tower::ServiceExt;

use crate::{ApiState, router};

async fn send(app: axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

fn post(body: Value) -> Request<Body> {
    Request::post("/api/v1/infersight/annotations")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri.replace('"', "%22").replace('{', "%7B").replace('}', "%7D")).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn annotations_are_stored_listed_and_written_as_a_series() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(records::Store::open(&dir.path().join("records.db")).expect("open"));
    let storage = MemStorage::new();
    let app =
        router(ApiState::new(Arc::new(storage.clone())).with_records(store).with_appendable(Arc::new(storage.clone())));
    let deploy = json!({"time": 1_700_000_000, "text": "llama 3.1 8B fp8 to canary", "tags": ["deploy", "canary"], "model": "llama"});
    let (status, body) = send(app.clone(), post(deploy)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], 1);
    assert_eq!(body["data"]["time_ms"], 1_700_000_000_000_i64);
    let rollback = json!({"time": "2023-11-14T23:13:20Z", "text": "rollback"});
    assert_eq!(send(app.clone(), post(rollback)).await.0, StatusCode::OK);

    let (_, body) = send(app.clone(), get("/api/v1/infersight/annotations?start=1699999999&end=1700003600")).await;
    let texts: Vec<&str> = body["data"].as_array().expect("list").iter().filter_map(|a| a["text"].as_str()).collect();
    assert_eq!(texts, ["llama 3.1 8B fp8 to canary", "rollback"]);
    let (_, body) =
        send(app.clone(), get("/api/v1/infersight/annotations?start=1699999999&end=1700003600&model=llama")).await;
    assert_eq!(body["data"].as_array().expect("list").len(), 1);

    let (_, body) = send(app.clone(), get("/api/v1/query?query=infersight_annotation&time=1700000060")).await;
    let result = &body["data"]["result"];
    assert_eq!(result.as_array().expect("vector").len(), 1, "{body}");
    assert_eq!(
        result[0]["metric"],
        json!({"__name__": "infersight_annotation", "text": "llama 3.1 8B fp8 to canary", "tags": "deploy,canary", "gen_ai_request_model": "llama"})
    );
    // The value is the annotation's own time, for Grafana's "series value as timestamp".
    assert_eq!(result[0]["value"][1], "1700000000");
}

#[tokio::test]
async fn bad_annotations_are_bad_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(records::Store::open(&dir.path().join("records.db")).expect("open"));
    let app = router(ApiState::new(Arc::new(MemStorage::new())).with_records(store));
    for (body, message) in [
        (json!({"text": "  "}), "text must be 1 to 1000 characters"),
        (json!({"text": "x", "time": "yesterday"}), "time \"yesterday\" is neither RFC 3339 nor Unix seconds"),
        (json!({"text": "x", "tags": ["a,b"]}), "without commas"),
        (json!({"txt": "x"}), "unknown field `txt`"),
    ] {
        let (status, answer) = send(app.clone(), post(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["error"].as_str().expect("message").contains(message), "{body}: {answer}");
    }
    let without = router(ApiState::new(Arc::new(MemStorage::new())));
    assert_eq!(send(without, post(json!({"text": "x"}))).await.0, StatusCode::NOT_FOUND);
}
