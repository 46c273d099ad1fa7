//! `GET /api/v1/rules` and `GET /api/v1/alerts` answer as Prometheus does,
//! and alerts reach Alertmanager and webhooks in their formats.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use parking_lot::Mutex;
use rules::{AlertingConfig, ManagerOptions, Notifier, NotifyMetrics};
use serde_json::Value;
use series::memory::MemStorage;
use tower::ServiceExt;

use crate::evaluation::{add_series, manager, manager_with};

const MIN: i64 = 60_000;

const RULES: &str = r#"
groups:
  - name: g
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 1m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} is down"
"#;

async fn get(router: axum::Router, uri: &str) -> (StatusCode, Value) {
    let response = router
        .oneshot(Request::get(uri).body(Body::empty()).expect("request builds"))
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body reads");
    (status, serde_json::from_slice(&bytes).expect("the body is JSON"))
}

fn store_with_down_target() -> MemStorage {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="vllm"}"#, 10, |_| 0.0);
    store
}

#[tokio::test]
async fn rules_endpoint_lists_groups_rules_and_alerts() {
    let store = store_with_down_target();
    let manager = manager(&store, RULES);
    manager.evaluate_all_at(2 * MIN);
    manager.evaluate_all_at(3 * MIN);
    let (status, body) = get(manager.router(), "/api/v1/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "success");
    let group = &body["data"]["groups"][0];
    assert_eq!(group["name"], "g");
    assert_eq!(group["file"], "test.yml");
    assert_eq!(group["interval"], 30.0);
    assert_eq!(group["lastEvaluation"], "1970-01-01T00:03:00Z");
    let record = &group["rules"][0];
    assert_eq!(record["type"], "recording");
    assert_eq!(record["name"], "job:up:sum");
    assert_eq!(record["query"], "sum by (job) (up)");
    assert_eq!(record["health"], "ok");
    assert!(record.get("lastError").is_none());
    let alert = &group["rules"][1];
    assert_eq!(alert["type"], "alerting");
    assert_eq!(alert["state"], "firing");
    assert_eq!(alert["duration"], 60.0);
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["annotations"]["summary"], "{{ $labels.job }} is down");
    let active = &alert["alerts"][0];
    assert_eq!(active["state"], "firing");
    assert_eq!(active["activeAt"], "1970-01-01T00:02:00Z");
    assert_eq!(active["value"], "0e+00");
    assert_eq!(active["labels"]["alertname"], "Down");
    assert_eq!(active["annotations"]["summary"], "vllm is down");

    let (_, body) = get(manager.router(), "/api/v1/rules?type=record").await;
    let rules = body["data"]["groups"][0]["rules"].as_array().expect("rules is a list");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["type"], "recording");
    let (_, body) = get(manager.router(), "/api/v1/rules?type=alert&exclude_alerts=true").await;
    let rules = body["data"]["groups"][0]["rules"].as_array().expect("rules is a list");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["alerts"], serde_json::json!([]));
    let (status, body) = get(manager.router(), "/api/v1/rules?type=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorType"], "bad_data");
}

#[tokio::test]
async fn alerts_endpoint_lists_pending_and_firing_alerts() {
    let store = store_with_down_target();
    let manager = manager(&store, RULES);
    let (_, body) = get(manager.router(), "/api/v1/alerts").await;
    assert_eq!(body["data"]["alerts"], serde_json::json!([]));
    manager.evaluate_all_at(2 * MIN);
    let (status, body) = get(manager.router(), "/api/v1/alerts").await;
    assert_eq!(status, StatusCode::OK);
    let alert = &body["data"]["alerts"][0];
    assert_eq!(alert["state"], "pending");
    assert_eq!(alert["labels"]["job"], "vllm");
}

#[derive(Default, Clone)]
struct Received {
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn receiver() -> (String, Received) {
    let received = Received::default();
    let state = received.clone();
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let state = state.clone();
        async move {
            let path = request.uri().path().to_owned();
            let bytes = axum::body::to_bytes(request.into_body(), 1 << 20).await.expect("body reads");
            state.bodies.lock().push((path, serde_json::from_slice(&bytes).expect("alerts are JSON")));
            StatusCode::OK
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("loopback binds");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn firing_alerts_reach_alertmanager_and_webhooks() {
    let (url, received) = receiver().await;
    let config = AlertingConfig {
        alertmanagers: vec![url.clone()],
        webhooks: vec![format!("{url}/hook")],
        external_url: Some("http://infersight:9090".to_owned()),
        external_labels: [("cluster".to_owned(), "eu-1".to_owned())].into(),
        ..AlertingConfig::default()
    };
    let settings = config.validate("alerting").expect("valid config");
    let notifier = Notifier::new(settings.clone(), NotifyMetrics::unregistered()).expect("client builds");
    let store = store_with_down_target();
    let options = ManagerOptions { restore_for_state: false, ..ManagerOptions::from_settings(&settings) };
    let manager = manager_with(&store, RULES, options).with_notifier(notifier.clone());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(notifier.clone().run(shutdown.clone()));
    manager.evaluate_all_at(2 * MIN);
    manager.evaluate_all_at(3 * MIN);
    for _ in 0..200 {
        if received.bodies.lock().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    task.await.expect("the notifier stops");
    let bodies = received.bodies.lock().clone();
    let alertmanager = &bodies.iter().find(|(path, _)| path == "/api/v2/alerts").expect("alertmanager was called").1;
    let alert = &alertmanager[0];
    assert_eq!(alert["labels"]["alertname"], "Down");
    assert_eq!(alert["labels"]["cluster"], "eu-1");
    assert_eq!(alert["startsAt"], "1970-01-01T00:03:00Z");
    assert_eq!(alert["endsAt"], "1970-01-01T00:07:00Z", "valid for four resend delays");
    let generator = alert["generatorURL"].as_str().expect("a generator URL");
    assert!(generator.starts_with("http://infersight:9090/#/explore?query=up+%3D%3D+0&from="), "{generator}");
    let webhook = &bodies.iter().find(|(path, _)| path == "/hook").expect("the webhook was called").1;
    assert_eq!(webhook["version"], "4");
    assert_eq!(webhook["status"], "firing");
    assert_eq!(webhook["groupKey"], "{}:{alertname=\"Down\"}");
    assert_eq!(webhook["commonLabels"]["job"], "vllm");
    assert_eq!(webhook["externalURL"], "http://infersight:9090");
    assert_eq!(webhook["alerts"][0]["status"], "firing");
    assert_eq!(webhook["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
}

#[test]
fn a_full_queue_drops_the_oldest_alerts_and_counts_them() {
    let settings =
        AlertingConfig { queue_capacity: 2, ..AlertingConfig::default() }.validate("alerting").expect("valid");
    let metrics = NotifyMetrics::unregistered();
    let notifier = Notifier::new(settings, metrics.clone()).expect("client builds");
    let alert = |name: &str| rules::Notification {
        labels: [("alertname".to_owned(), name.to_owned())].into(),
        annotations: Default::default(),
        starts_at_ms: 0,
        ends_at_ms: 0,
        resolved: false,
        generator_url: String::new(),
    };
    notifier.send(vec![alert("a"), alert("b"), alert("c"), alert("d"), alert("e")]);
    assert_eq!(notifier.queue_len(), 2);
    assert_eq!(metrics.dropped(), 3);
}

#[test]
fn config_validation_reports_every_problem_with_its_key() {
    let config = AlertingConfig {
        alertmanagers: vec!["not a url".to_owned()],
        resend_delay: "1 minute".to_owned(),
        queue_capacity: 0,
        ..AlertingConfig::default()
    };
    let problems = config.validate("alerting").expect_err("invalid");
    let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["alerting.resend_delay", "alerting.alertmanagers[0]", "alerting.queue_capacity"]);
    let parsed: AlertingConfig =
        toml::from_str("alertmanagers = [\"http://am:9093\"]\nresend_delay = \"2m\"\n").expect("TOML parses");
    assert_eq!(parsed.validate("alerting").expect("valid").resend_delay, Duration::from_secs(120));
    assert!(toml::from_str::<AlertingConfig>("nope = 1\n").is_err(), "unknown keys are refused");
    let files = rules::validate_rule_files(&[
        rules::RuleFilesConfig { path: Some("rules/*.yml".to_owned()), ..Default::default() },
        rules::RuleFilesConfig { builtin: true, interval: Some("30s".to_owned()), ..Default::default() },
        rules::RuleFilesConfig::default(),
    ])
    .expect_err("the third entry names nothing");
    assert_eq!(files[0].0, "rule_files[2].path");
}

#[test]
fn alerts_are_sent_when_they_fire_every_resend_delay_and_when_they_resolve() {
    let settings = AlertingConfig::default().validate("alerting").expect("valid");
    let notifier = Notifier::new(settings.clone(), NotifyMetrics::unregistered()).expect("client builds");
    let store = MemStorage::new();
    add_series(&store, r#"up{job="vllm"}"#, 20, |m| if m < 6 { 0.0 } else { 1.0 });
    let options = ManagerOptions { restore_for_state: false, ..ManagerOptions::from_settings(&settings) };
    let manager = manager_with(&store, RULES, options).with_notifier(notifier.clone());
    manager.evaluate_all_at(2 * MIN);
    assert_eq!(notifier.queue_len(), 0, "pending alerts are not sent");
    manager.evaluate_all_at(3 * MIN);
    assert_eq!(notifier.queue_len(), 1, "sent when it fires");
    manager.evaluate_all_at(3 * MIN + 30_000);
    assert_eq!(notifier.queue_len(), 1, "not re-sent within the resend delay");
    manager.evaluate_all_at(4 * MIN + 30_000);
    assert_eq!(notifier.queue_len(), 2, "re-sent after the resend delay");
    manager.evaluate_all_at(7 * MIN);
    assert_eq!(notifier.queue_len(), 3, "sent again when it resolves");
}
