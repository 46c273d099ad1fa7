//! Evaluation semantics, driven at chosen times: recording rules, alert
//! states, `ALERTS` series, stale markers, limits, failures, restore after
//! restart, reload, the scheduler and notifications.

use std::sync::Arc;
use std::time::Duration;

use rules::{AlertState, Clock, Health, Manager, ManagerOptions, RuleMetrics};
use series::memory::MemStorage;
use series::{Labels, is_stale_nan};

const MIN: i64 = 60_000;

pub(crate) fn labels(text: &str) -> Labels {
    rules::unittest::parse_series(text).expect("test series parse")
}

/// Adds one sample per minute from 0 to `minutes` with the values `value(minute)`.
pub(crate) fn add_series(store: &MemStorage, series: &str, minutes: i64, value: impl Fn(i64) -> f64) {
    let samples: Vec<(i64, f64)> = (0..=minutes).map(|m| (m * MIN, value(m))).collect();
    store.add(labels(series), &samples);
}

pub(crate) fn manager_with(store: &MemStorage, rules_yaml: &str, options: ManagerOptions) -> Manager {
    let manager = Manager::new(Arc::new(store.clone()), Arc::new(store.clone()), options, RuleMetrics::unregistered());
    let groups = rules::file::parse_file("test.yml", rules_yaml).expect("test rules are valid");
    manager.set_groups(groups);
    manager
}

pub(crate) fn manager(store: &MemStorage, rules_yaml: &str) -> Manager {
    manager_with(store, rules_yaml, ManagerOptions { restore_for_state: false, ..ManagerOptions::default() })
}

fn value_at(store: &MemStorage, series: &str, t: i64) -> Option<f64> {
    store.samples(&labels(series)).into_iter().find(|s| s.t == t).map(|s| s.v)
}

#[test]
fn recording_rules_write_their_series_and_mark_vanished_ones_stale() {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="a"}"#, 10, |_| 1.0);
    add_series(&store, r#"up{job="b"}"#, 10, |m| if m < 3 { 1.0 } else { 0.0 });
    let manager = manager(
        &store,
        "groups:\n  - name: g\n    rules:\n      - record: job:up:ok\n        expr: up == 1\n        labels: {tier: core}\n",
    );
    manager.evaluate_all_at(2 * MIN);
    assert_eq!(value_at(&store, r#"job:up:ok{job="a", tier="core"}"#, 2 * MIN), Some(1.0));
    assert_eq!(value_at(&store, r#"job:up:ok{job="b", tier="core"}"#, 2 * MIN), Some(1.0));
    manager.evaluate_all_at(4 * MIN);
    assert_eq!(value_at(&store, r#"job:up:ok{job="a", tier="core"}"#, 4 * MIN), Some(1.0));
    let stale = value_at(&store, r#"job:up:ok{job="b", tier="core"}"#, 4 * MIN).expect("a stale marker is written");
    assert!(is_stale_nan(stale));
    manager.evaluate_all_at(5 * MIN);
    assert_eq!(value_at(&store, r#"job:up:ok{job="b", tier="core"}"#, 5 * MIN), None, "stale markers are written once");
}

const ALERT: &str = r#"
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} is down ({{ $value }})"
"#;

#[test]
fn alerts_go_pending_then_firing_then_resolved_with_alerts_series() {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="a"}"#, 20, |m| if (2..6).contains(&m) { 0.0 } else { 1.0 });
    let manager = manager(&store, ALERT);
    manager.evaluate_all_at(MIN);
    assert!(manager.alerts("Down").is_empty());

    manager.evaluate_all_at(2 * MIN);
    let alerts = manager.alerts("Down");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].state, AlertState::Pending);
    assert_eq!(alerts[0].active_at_ms, 2 * MIN);
    assert_eq!(alerts[0].labels, labels(r#"{alertname="Down", job="a", severity="page"}"#));
    assert_eq!(alerts[0].annotations["summary"], "a is down (0)");
    let pending = r#"ALERTS{alertname="Down", alertstate="pending", job="a", severity="page"}"#;
    assert_eq!(value_at(&store, pending, 2 * MIN), Some(1.0));
    let for_state = r#"ALERTS_FOR_STATE{alertname="Down", job="a", severity="page"}"#;
    assert_eq!(value_at(&store, for_state, 2 * MIN), Some(120.0));

    manager.evaluate_all_at(3 * MIN);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Pending, "1m of 2m");
    manager.evaluate_all_at(4 * MIN);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Firing);
    let firing = r#"ALERTS{alertname="Down", alertstate="firing", job="a", severity="page"}"#;
    assert_eq!(value_at(&store, firing, 4 * MIN), Some(1.0));
    assert!(is_stale_nan(value_at(&store, pending, 4 * MIN).expect("pending series goes stale")));

    manager.evaluate_all_at(7 * MIN);
    let alerts = manager.alerts("Down");
    assert_eq!(alerts[0].state, AlertState::Inactive, "resolved alerts are kept to send the resolution");
    assert_eq!(alerts[0].resolved_at_ms, Some(7 * MIN));
    assert!(is_stale_nan(value_at(&store, firing, 7 * MIN).expect("firing series goes stale")));
    manager.evaluate_all_at(23 * MIN);
    assert!(manager.alerts("Down").is_empty(), "resolved alerts are forgotten after 15 minutes");
}

#[test]
fn keep_firing_for_holds_a_firing_alert_after_its_condition_clears() {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="a"}"#, 20, |m| if m < 3 { 0.0 } else { 1.0 });
    let manager = manager(
        &store,
        "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        keep_firing_for: 3m\n",
    );
    manager.evaluate_all_at(0);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Firing, "for: 0 fires at once");
    manager.evaluate_all_at(4 * MIN);
    let alert = &manager.alerts("Down")[0];
    assert_eq!(alert.state, AlertState::Firing);
    assert_eq!(alert.keep_firing_since_ms, Some(4 * MIN));
    manager.evaluate_all_at(6 * MIN);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Firing, "2m of 3m");
    manager.evaluate_all_at(7 * MIN);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Inactive);
}

#[test]
fn limits_and_failing_queries_fail_the_rule_but_not_the_group() {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="a"}"#, 5, |_| 1.0);
    add_series(&store, r#"up{job="b"}"#, 5, |_| 1.0);
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = RuleMetrics::new(&mut registry);
    let manager = Manager::new(
        Arc::new(store.clone()),
        Arc::new(store.clone()),
        ManagerOptions { restore_for_state: false, ..ManagerOptions::default() },
        metrics,
    );
    let groups = rules::file::parse_file(
        "test.yml",
        r#"
groups:
  - name: limited
    limit: 1
    rules:
      - record: too_many
        expr: up
      - record: bad
        expr: label_replace(up, "x", "$1", "job", "(")
      - record: fine
        expr: sum(up)
"#,
    )
    .expect("valid rules");
    manager.set_groups(groups);
    manager.evaluate_all_at(2 * MIN);
    let data = rules::rules_data(&manager, None).expect("no filters");
    let group = &data.groups[0];
    assert_eq!(group.rules[0].health, "err");
    assert_eq!(group.rules[0].last_error.as_deref(), Some("exceeded limit 1 with 2 series"));
    assert_eq!(group.rules[1].health, "err");
    assert!(
        group.rules[1].last_error.as_deref().is_some_and(|e| e.contains("regular expression")),
        "{:?}",
        group.rules[1]
    );
    assert_eq!(group.rules[2].health, "ok");
    assert_eq!(value_at(&store, "fine", 2 * MIN), Some(2.0));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("metrics encode");
    assert!(text.contains(r#"infersight_rule_evaluation_failures_total{rule_group="test.yml;limited"} 2"#), "{text}");
    assert!(text.contains(r#"infersight_rule_evaluations_total{rule_group="test.yml;limited"} 3"#), "{text}");
    assert!(text.contains("infersight_rule_group_interval_seconds"), "{text}");
}

#[test]
fn alert_state_is_restored_from_alerts_for_state_after_a_restart() {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="a"}"#, 60, |_| 0.0);
    // The previous process saw the alert active since minute 0 and stopped at minute 15.
    let for_state = r#"ALERTS_FOR_STATE{alertname="Down", job="a"}"#;
    add_series(&store, for_state, 15, |_| 0.0);
    let rules_yaml = "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 30m\n";
    let restored = manager_with(&store, rules_yaml, ManagerOptions::default());
    restored.evaluate_all_at(20 * MIN);
    let alert = &restored.alerts("Down")[0];
    // 15m spent pending before the outage; the 5m outage does not count.
    assert_eq!(alert.active_at_ms, 5 * MIN);
    restored.evaluate_all_at(35 * MIN);
    assert_eq!(restored.alerts("Down")[0].state, AlertState::Firing);

    let fresh = manager(&store, rules_yaml);
    fresh.evaluate_all_at(20 * MIN);
    assert_eq!(fresh.alerts("Down")[0].active_at_ms, 20 * MIN, "without restore the alert starts over");
}

#[test]
fn reload_keeps_the_state_of_unchanged_alerts_and_a_failed_reload_keeps_the_rules() {
    let store = MemStorage::new();
    add_series(&store, r#"up{job="a"}"#, 20, |_| 0.0);
    let dir = std::env::temp_dir().join(format!("rules-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir can be created");
    let path = dir.join("alerts.yml");
    let files =
        [rules::RuleFiles { source: rules::RuleSource::Glob(format!("{}/*.yml", dir.display())), interval: None }];
    let manager = manager(&store, "groups: []\n");

    std::fs::write(&path, ALERT).expect("temp dir is writable");
    assert_eq!(manager.load(&files).expect("valid rules"), 1);
    manager.evaluate_all_at(2 * MIN);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Pending);

    std::fs::write(&path, format!("{ALERT}      - record: extra\n        expr: vector(1)\n")).expect("writable");
    manager.load(&files).expect("valid rules");
    manager.evaluate_all_at(3 * MIN);
    assert_eq!(manager.alerts("Down")[0].active_at_ms, 2 * MIN, "the alert kept its state across the reload");
    manager.evaluate_all_at(4 * MIN);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Firing);
    assert_eq!(value_at(&store, "extra", 4 * MIN), Some(1.0));

    std::fs::write(&path, "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n")
        .expect("writable");
    let error = manager.load(&files).expect_err("the file is invalid");
    assert!(error.to_string().contains("alerts.yml:4: group \"g\", rule \"x\": could not parse expression"), "{error}");
    assert_eq!(manager.num_groups(), 1);
    assert_eq!(manager.alerts("Down")[0].state, AlertState::Firing, "a failed reload keeps the previous rules");

    std::fs::write(&path, "groups: []\n").expect("writable");
    manager.load(&files).expect("valid rules");
    let firing = r#"ALERTS{alertname="Down", alertstate="firing", job="a", severity="page"}"#;
    let last = store.samples(&labels(firing)).last().copied().expect("the alert was written");
    assert!(is_stale_nan(last.v), "series of removed groups are marked stale");
}

#[test]
fn a_rule_sees_what_an_earlier_rule_of_its_group_recorded_in_the_same_evaluation() {
    let store = MemStorage::new();
    add_series(&store, "x", 10, |m| m as f64);
    let manager = manager(
        &store,
        "groups:\n  - name: g\n    rules:\n      - record: double\n        expr: x * 2\n      - record: double_plus_one\n        expr: double + 1\n",
    );
    manager.evaluate_all_at(3 * MIN);
    assert_eq!(value_at(&store, "double", 3 * MIN), Some(6.0));
    assert_eq!(value_at(&store, "double_plus_one", 3 * MIN), Some(7.0), "as Prometheus, not one interval late");
}

#[test]
fn query_offset_moves_the_query_and_the_written_samples_back() {
    let store = MemStorage::new();
    add_series(&store, "x", 10, |m| m as f64);
    let manager =
        manager(&store, "groups:\n  - name: g\n    query_offset: 1m\n    rules:\n      - record: y\n        expr: x\n");
    manager.evaluate_all_at(5 * MIN);
    assert_eq!(value_at(&store, "y", 4 * MIN), Some(4.0));
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_evaluates_each_group_on_its_aligned_interval() {
    let store = MemStorage::new();
    add_series(&store, "x", 10, |_| 1.0);
    let start = tokio::time::Instant::now();
    let clock = Clock::from_fn(move || 60 * MIN + start.elapsed().as_millis() as i64);
    let options = ManagerOptions { restore_for_state: false, clock, ..ManagerOptions::default() };
    let manager = manager_with(
        &store,
        "groups:\n  - name: g\n    interval: 10s\n    rules:\n      - record: y\n        expr: vector(1)\n",
        options,
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(manager.clone().run(shutdown.clone()));
    tokio::time::sleep(Duration::from_secs(35)).await;
    shutdown.cancel();
    task.await.expect("the scheduler stops cleanly");
    let times: Vec<i64> = store.samples(&labels("y")).iter().map(|s| s.t).collect();
    assert!(times.len() >= 3, "{times:?}");
    assert!(times.windows(2).all(|w| w[1] - w[0] == 10_000), "evaluations are 10s apart: {times:?}");
    let data = rules::rules_data(&manager, None).expect("no filters");
    assert_eq!(data.groups[0].rules[0].health, Health::Ok.as_str());
}

#[test]
fn stepping_through_simulated_time_evaluates_every_grid_point_of_every_group() {
    let store = MemStorage::new();
    let manager = manager(
        &store,
        "groups:\n  - name: fast\n    interval: 10s\n    rules:\n      - record: fast\n        expr: vector(1)\n\
         \n  - name: slow\n    interval: 1m\n    rules:\n      - record: slow\n        expr: fast * 2\n",
    );
    assert_eq!(manager.evaluate_between(0, 5 * MIN), 30 + 5);
    assert_eq!(manager.evaluate_between(5 * MIN, 5 * MIN), 0, "an empty window evaluates nothing");
    let fast: Vec<i64> = store.samples(&labels("fast")).iter().map(|s| s.t).collect();
    let slow: Vec<i64> = store.samples(&labels("slow")).iter().map(|s| s.t).collect();
    assert_eq!(fast.len(), 30);
    assert!(fast.windows(2).all(|w| w[1] - w[0] == 10_000), "{fast:?}");
    assert_eq!(slow.len(), 5);
    assert!(slow.windows(2).all(|w| w[1] - w[0] == MIN), "{slow:?}");
    assert!(
        slow.iter().all(|t| store.samples(&labels("slow")).iter().any(|s| s.t == *t && s.v == 2.0)),
        "the slow group sees what the fast group recorded before it"
    );
}
