//! `/api/v1/infersight/exchanges`: searching and reading sampled exchanges.

use std::sync::Arc;
use std::time::Duration;

use api::ApiState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use inference::{Exchange, GapSummary, Operation, Timings, Usage};
use records::{Evidence, ScoreRecord, ScoreTarget, Store};
use serde_json::{Value, json};
use testkit::MemStorage;

use crate::send;

fn exchange(time_ms: i64, model: &str, status: u16, e2e_ms: u64) -> Exchange {
    Exchange {
        id: String::new(),
        time_ms,
        operation: Operation::Chat,
        request_model: model.to_owned(),
        response_model: None,
        upstream: "a".to_owned(),
        provider: "vllm".to_owned(),
        gateway_key: String::new(),
        user: None,
        session: None,
        stream: false,
        status,
        error_type: (status >= 500).then(|| "502".to_owned()),
        finish_reason: Some("stop".to_owned()),
        timings: Timings { ttft: None, e2e: Duration::from_millis(e2e_ms), gaps: GapSummary::default() },
        usage: Some(Usage { input_tokens: 5, output_tokens: 7 }),
        prompt: "user: <script>alert(1)</script>".to_owned(),
        response: "Mail [EMAIL_ADDRESS]".to_owned(),
    }
}

/// A router over a records store holding three exchanges (ids 1, 2, 3); the
/// first is flagged by `pii`.
fn app(dir: &tempfile::TempDir) -> Router {
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let first = store.insert(&exchange(1_000_000, "llama", 200, 300)).expect("insert");
    store.insert(&exchange(2_000_000, "llama", 502, 50)).expect("insert");
    store.insert(&exchange(3_000_000, "qwen", 200, 4_000)).expect("insert");
    let pii = ScoreRecord {
        scorer: "pii".to_owned(),
        target: ScoreTarget::Response,
        value: 1.0,
        label: true,
        evidence: vec![Evidence { start: 5, end: 20, kind: "EMAIL_ADDRESS".to_owned() }],
        version: "pii-rules-3".to_owned(),
    };
    store.insert_scores(first, &[pii]).expect("scores");
    api::router(ApiState::new(Arc::new(MemStorage::new())).with_records(Arc::new(store)))
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(app.clone(), Request::get(uri).body(Body::empty()).expect("request")).await;
    (status, body)
}

fn ids(body: &Value) -> Vec<i64> {
    body["data"]["exchanges"].as_array().expect("exchanges").iter().map(|e| e["id"].as_i64().expect("id")).collect()
}

#[tokio::test]
async fn search_answers_newest_first_in_the_api_envelope() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(&dir);
    let (status, body) = get(&app, "/api/v1/infersight/exchanges").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "success");
    assert_eq!(ids(&body), vec![3, 2, 1]);
    assert_eq!(body["data"]["next_before"], Value::Null);
    let newest = &body["data"]["exchanges"][0];
    assert_eq!(newest["request_model"], "qwen");
    assert_eq!(newest["timings"]["e2e"], 4.0);
    assert_eq!(newest["usage"], json!({"input_tokens": 5, "output_tokens": 7}));
}

#[tokio::test]
async fn search_filters_by_each_parameter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(&dir);
    for (query, expected) in [
        ("model=llama", vec![2, 1]),
        ("start=1500&end=2500", vec![2]),
        ("status=error", vec![2]),
        ("status=200", vec![3, 1]),
        ("min_latency=1s", vec![3]),
        ("min_latency=0.2", vec![3, 1]),
        ("flagged=pii", vec![1]),
        ("flagged=any", vec![1]),
        ("limit=2", vec![3, 2]),
        ("before=3&limit=1", vec![2]),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/infersight/exchanges?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(ids(&body), expected, "{query}");
    }
    let (_, body) = get(&app, "/api/v1/infersight/exchanges?limit=2").await;
    assert_eq!(body["data"]["next_before"], 2, "a further page follows");
}

#[tokio::test]
async fn one_exchange_comes_with_its_scores_and_text_as_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(&dir);
    let (status, body) = get(&app, "/api/v1/infersight/exchanges/1").await;
    assert_eq!(status, StatusCode::OK);
    let data = &body["data"];
    assert_eq!(data["prompt"], "user: <script>alert(1)</script>", "text is data, never markup");
    assert_eq!(
        data["scores"],
        json!([{"scorer": "pii", "target": "response", "value": 1.0, "label": true,
                "evidence": [{"start": 5, "end": 20, "type": "EMAIL_ADDRESS"}], "version": "pii-rules-3"}])
    );
}

#[tokio::test]
async fn bad_parameters_and_unknown_ids_answer_with_prometheus_error_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(&dir);
    for (uri, status, error_type) in [
        ("/api/v1/infersight/exchanges?status=teapot", StatusCode::BAD_REQUEST, "bad_data"),
        ("/api/v1/infersight/exchanges?min_latency=soon", StatusCode::BAD_REQUEST, "bad_data"),
        ("/api/v1/infersight/exchanges?start=yesterday", StatusCode::BAD_REQUEST, "bad_data"),
        ("/api/v1/infersight/exchanges?before=x", StatusCode::BAD_REQUEST, "bad_data"),
        ("/api/v1/infersight/exchanges/abc", StatusCode::BAD_REQUEST, "bad_data"),
        ("/api/v1/infersight/exchanges/99", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (got, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert_eq!(body["status"], "error", "{uri}");
        assert_eq!(body["errorType"], error_type, "{uri}");
    }
}

#[tokio::test]
async fn a_server_without_records_says_so() {
    let router = api::router(ApiState::new(Arc::new(MemStorage::new())));
    let (status, _, body) =
        send(router, Request::get("/api/v1/infersight/exchanges").body(Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "this server keeps no exchange records");
}

async fn post_feedback(app: &Router, id: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::post(format!("/api/v1/infersight/exchanges/{id}/feedback"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let (status, _, body) = send(app.clone(), request).await;
    (status, body)
}

#[tokio::test]
async fn feedback_is_stored_with_kept_exchanges_counted_for_recent_ones_and_refused_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("records.db")).expect("records store"));
    let kept = store
        .insert(&Exchange { id: "00c0ffee00c0ffee".to_owned(), ..exchange(1_000, "llama", 200, 300) })
        .expect("insert");
    let verdict = records::JudgementRecord {
        judge: "local".to_owned(),
        rubric: "correctness".to_owned(),
        rubric_version: 1,
        judge_model: "judge-model".to_owned(),
        score: 0.1,
        label: "incorrect".to_owned(),
        failed: true,
        reason: "Lyon is not the capital.".to_owned(),
        input_tokens: 100,
        output_tokens: 20,
        dollars: None,
        cached: false,
        time_ms: 1_500,
    };
    store.insert_judgement(kept, &verdict).expect("judged");
    let recent = Arc::new(inference::Recent::new(10));
    recent.insert("00c0ffee00c0ffee", "llama");
    recent.insert("0000000000000bad", "qwen");
    let mut registry = prometheus_client::registry::Registry::default();
    let feedback = api::Feedback::new(&mut registry, Some(recent), 100);
    let app = api::router(
        ApiState::new(Arc::new(MemStorage::new())).with_records(Arc::clone(&store)).with_feedback(feedback),
    );

    let (status, body) =
        post_feedback(&app, "00c0ffee00c0ffee", r#"{"value": "down", "comment": "<b>wrong</b> city"}"#).await;
    assert_eq!((status, &body["data"]), (StatusCode::OK, &json!({"stored": true})));
    let (status, _) = post_feedback(&app, &kept.to_string(), r#"{"score": 0.8}"#).await;
    assert_eq!(status, StatusCode::OK, "the records id works too");
    let (status, body) = post_feedback(&app, "0000000000000bad", r#"{"value": "up"}"#).await;
    assert_eq!((status, &body["data"]), (StatusCode::OK, &json!({"stored": false})), "counted, nowhere to store");

    for (id, body, expected) in [
        ("ffffffffffffffff", r#"{"value": "up"}"#, StatusCode::NOT_FOUND),
        ("00c0ffee00c0ffee", r#"{"value": "meh"}"#, StatusCode::BAD_REQUEST),
        ("00c0ffee00c0ffee", r#"{"score": 1.5}"#, StatusCode::BAD_REQUEST),
        ("00c0ffee00c0ffee", r#"{"value": "up", "score": 1}"#, StatusCode::BAD_REQUEST),
        ("00c0ffee00c0ffee", r#"{"value": "up", "stars": 5}"#, StatusCode::BAD_REQUEST),
        ("00c0ffee00c0ffee", "not json", StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = post_feedback(&app, id, body).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["status"], "error", "{answer}");
    }
    let long = format!(r#"{{"value": "up", "comment": "{}"}}"#, "x".repeat(2_001));
    assert_eq!(post_feedback(&app, "00c0ffee00c0ffee", &long).await.0, StatusCode::BAD_REQUEST);

    let record = store.get(kept).expect("read").expect("stored");
    let given: Vec<(&str, Option<f64>, &str)> =
        record.feedback.iter().map(|f| (f.value.as_str(), f.score, f.comment.as_str())).collect();
    assert_eq!(given, [("down", None, "<b>wrong</b> city"), ("score", Some(0.8), "")]);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    for line in [
        r#"infersight_feedback_total{gen_ai_request_model="llama",value="down"} 1"#,
        r#"infersight_feedback_total{gen_ai_request_model="llama",value="score"} 1"#,
        r#"infersight_feedback_total{gen_ai_request_model="qwen",value="up"} 1"#,
        // The judge failed the answer: the thumb down agrees, the 0.8 does not.
        r#"infersight_feedback_judge_agreement_total{gen_ai_request_model="llama",gen_ai_evaluation_name="judge_correctness",agreement="agree"} 1"#,
        r#"infersight_feedback_judge_agreement_total{gen_ai_request_model="llama",gen_ai_evaluation_name="judge_correctness",agreement="disagree"} 1"#,
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert!(!text.contains("wrong"), "comments never reach metrics");
}

#[tokio::test]
async fn issue_20_every_read_of_exchange_text_is_audited_and_counted_by_reader() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("records.db")).expect("records store"));
    let first = store.insert(&exchange(1_000_000, "llama", 200, 300)).expect("insert");
    let second = store.insert(&exchange(2_000_000, "qwen", 200, 300)).expect("insert");
    let mut registry = prometheus_client::registry::Registry::default();
    let reads = api::ExchangeReads::new(&mut registry);
    let app = api::router(
        ApiState::new(Arc::new(MemStorage::new())).with_records(Arc::clone(&store)).with_exchange_reads(reads),
    );
    let alice = access::Principal { name: "alice".into(), roles: [access::Role::Exchanges].into_iter().collect() };
    let mut request = Request::get("/api/v1/infersight/exchanges").body(Body::empty()).expect("request");
    request.extensions_mut().insert(alice);
    let (status, _, _) = send(app.clone(), request).await;
    assert_eq!(status, StatusCode::OK);
    // Without a principal (no authentication configured): anonymous.
    assert_eq!(get(&app, &format!("/api/v1/infersight/exchanges/{first}")).await.0, StatusCode::OK);
    // Nothing read, nothing audited.
    assert_eq!(get(&app, "/api/v1/infersight/exchanges/999").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/api/v1/infersight/exchanges?model=none").await.0, StatusCode::OK);

    let seen: Vec<(String, i64, String)> =
        store.reads(10).expect("reads").into_iter().map(|r| (r.reader, r.exchange_id, r.how)).collect();
    assert_eq!(
        seen,
        [
            ("anonymous".to_owned(), first, "get".to_owned()),
            ("alice".to_owned(), first, "search".to_owned()),
            ("alice".to_owned(), second, "search".to_owned()),
        ]
    );
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(text.contains("infersight_exchange_reads_total{user=\"alice\"} 2"), "{text}");
    assert!(text.contains("infersight_exchange_reads_total{user=\"anonymous\"} 1"), "{text}");
}

/// The API behind the guard the binary puts in front of it, over a records
/// store holding two exchanges of alice (one scored, one in session `s-a`)
/// and one of bob, and a bearer token for each role.
struct Guarded {
    _dir: tempfile::TempDir,
    app: Router,
    store: Arc<Store>,
    registry: prometheus_client::registry::Registry,
    admin: String,
    exchanges: String,
    metrics: String,
}

fn guarded() -> Guarded {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("records.db")).expect("records store"));
    let of = |time_ms, user: &str, session: &str| Exchange {
        user: Some(user.to_owned()),
        session: Some(session.to_owned()),
        ..exchange(time_ms, "llama", 200, 300)
    };
    let first = store.insert(&of(1_000_000, "alice@example.com", "s-a")).expect("insert");
    store.insert(&of(2_000_000, "bob", "s-b")).expect("insert");
    store.insert(&of(3_000_000, "alice@example.com", "s-a2")).expect("insert");
    let pii = ScoreRecord {
        scorer: "pii".to_owned(),
        target: ScoreTarget::Response,
        value: 1.0,
        label: true,
        evidence: Vec::new(),
        version: "pii-rules-3".to_owned(),
    };
    store.insert_scores(first, &[pii]).expect("scores");
    let mut registry = prometheus_client::registry::Registry::default();
    let state = ApiState::new(Arc::new(MemStorage::new()))
        .with_records(Arc::clone(&store))
        .with_exchange_erasures(api::ExchangeErasures::new(&mut registry));
    let mut credentials = access::Credentials::default();
    let mut token = |name: &str, role| credentials.add_internal_token(name, [role].into_iter().collect());
    let (admin, exchanges, metrics) = (
        token("dpo", access::Role::Admin),
        token("analyst", access::Role::Exchanges),
        token("grafana", access::Role::Metrics),
    );
    let guard = access::Guard::new(
        &access::WebSettings::default(),
        credentials,
        access::Metrics::new(&mut registry),
        Arc::new(|| 0),
    );
    let app = Arc::new(guard).protect(api::router(state));
    Guarded { _dir: dir, app, store, registry, admin, exchanges, metrics }
}

impl Guarded {
    async fn send(&self, method: &str, uri: &str, token: &str) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = send(self.app.clone(), request).await;
        (status, body)
    }

    fn metrics_text(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encode");
        text
    }
}

#[tokio::test]
async fn issue_20_an_admin_erases_a_users_exchanges_and_is_told_how_many() {
    let api = guarded();
    let (status, body) = api.send("DELETE", "/api/v1/infersight/exchanges?user=alice%40example.com", &api.admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "success", "data": {"erased": 2}}));
    assert!(api.store.get(1).expect("read").is_none() && api.store.get(3).expect("read").is_none());
    assert_eq!(api.store.count().expect("count"), 1, "bob's exchange stays");

    // A data-subject access request finds what is left of each of them.
    let (status, body) = api.send("GET", "/api/v1/infersight/exchanges?user=alice%40example.com", &api.exchanges).await;
    assert_eq!((status, ids(&body)), (StatusCode::OK, vec![]));
    let (_, body) = api.send("GET", "/api/v1/infersight/exchanges?user=bob", &api.exchanges).await;
    assert_eq!(ids(&body), vec![2]);
    assert_eq!(body["data"]["exchanges"][0]["user"], "bob");
    assert_eq!(body["data"]["exchanges"][0]["session"], "s-b");
    let (_, body) = api.send("GET", "/api/v1/infersight/exchanges?session=s-b", &api.exchanges).await;
    assert_eq!(ids(&body), vec![2]);

    let text = api.metrics_text();
    assert!(text.contains("infersight_exchanges_erased_total 2"), "{text}");
    assert!(!text.contains("alice"), "no user id in any series:\n{text}");
}

#[tokio::test]
async fn issue_20_erasing_by_session_and_by_time_range_in_any_time_format() {
    let api = guarded();
    let (_, body) = api.send("DELETE", "/api/v1/infersight/exchanges?session=s-a2", &api.admin).await;
    assert_eq!(body["data"]["erased"], 1);
    let (_, body) = api
        .send(
            "DELETE",
            "/api/v1/infersight/exchanges?start=1970-01-01T00:16:40Z&end=1500&user=alice%40example.com",
            &api.admin,
        )
        .await;
    assert_eq!(body["data"]["erased"], 1, "alice's exchange at 1000s, both ends inclusive: {body}");
    assert_eq!(api.store.count().expect("count"), 1);
    let (_, body) = api.send("DELETE", "/api/v1/infersight/exchanges?start=0&end=9999", &api.admin).await;
    assert_eq!(body["data"]["erased"], 1, "a time range alone erases everyone's in it");
    assert!(api.metrics_text().contains("infersight_exchanges_erased_total 3"));
}

#[tokio::test]
async fn issue_20_only_the_admin_role_erases() {
    let api = guarded();
    let erase = "/api/v1/infersight/exchanges?user=bob";
    assert_eq!(api.send("DELETE", erase, &api.exchanges).await.0, StatusCode::FORBIDDEN, "exchanges role");
    assert_eq!(api.send("DELETE", erase, &api.metrics).await.0, StatusCode::FORBIDDEN, "metrics role");
    assert_eq!(api.send("DELETE", erase, "not-a-token").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.send("GET", erase, &api.admin).await.0, StatusCode::FORBIDDEN, "admin alone reads no text");
    assert_eq!(api.store.count().expect("count"), 3, "nothing erased");
    assert!(api.metrics_text().contains("infersight_exchanges_erased_total 0"));
}

#[tokio::test]
async fn issue_20_an_erasure_without_criteria_or_with_bad_ones_is_refused_and_erases_nothing() {
    let api = guarded();
    for query in [
        "",
        "?user=",
        "?session=&user=",
        "?start=0",
        "?end=9999",
        "?start=yesterday&end=9999",
        "?start=2000&end=1000",
        "?user=alice%40example.com&model=llama",
        "?user=alice%40example.com&limit=1",
    ] {
        let (status, body) = api.send("DELETE", &format!("/api/v1/infersight/exchanges{query}"), &api.admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {body}");
        assert_eq!((&body["status"], &body["errorType"]), (&json!("error"), &json!("bad_data")), "{query:?}");
        assert!(!body.to_string().contains("alice"), "the error repeats no user id: {body}");
    }
    assert_eq!(api.store.count().expect("count"), 3);
}
