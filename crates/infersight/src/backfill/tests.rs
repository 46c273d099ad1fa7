//! The default rule pack on the simulator's clock: each scripted incident
//! fires the alerts it should, within their `for` windows, and no others,
//! and the webhook receiver gets Alertmanager's JSON.
//!
//! One fleet runs seven hours of simulated time with its incidents staged one
//! after another on different replicas, GPUs, models and zones, with quiet
//! time between them. The rules are evaluated on the same simulated time as
//! the data is written, each group on its interval, exactly as a live server
//! would evaluate them; notifications go to a real HTTP receiver.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use promql::Value;
use series::Queryable;
use sim::{
    Clock, EngineKind, Fleet, LoadConfig, Millis, ModelConfig, ModelLoad, ReplicaConfig, ScenarioConfig, ScenarioKind,
    SimConfig,
};
use tokio_util::sync::CancellationToken;

use super::BackfillSink;
use crate::serve::Stores;

const MINUTE: i64 = 60_000;
/// Start of the simulation: a whole hour, Unix milliseconds.
const T0: i64 = 1_795_420_800_000;
const LLAMA: &str = "meta-llama/Llama-3.1-8B-Instruct";
const QWEN: &str = "Qwen/Qwen2.5-14B-Instruct";

fn replica(name: &str, engine: EngineKind, model: &str, zone: &str) -> ReplicaConfig {
    ReplicaConfig {
        name: name.to_owned(),
        engine,
        model: model.to_owned(),
        zone: zone.to_owned(),
        ..ReplicaConfig::default()
    }
}

fn load(model: &str, rate_per_s: f64) -> ModelLoad {
    ModelLoad {
        model: model.to_owned(),
        rate_per_s,
        diurnal_amplitude: 0.0,
        prompt_tokens_median: 600.0,
        output_tokens_median: 150.0,
        ..ModelLoad::default()
    }
}

/// An incident `start` minutes after T0 lasting `minutes`.
fn incident(name: ScenarioKind, target: &str, start: i64, minutes: i64) -> ScenarioConfig {
    ScenarioConfig {
        name,
        target: target.to_owned(),
        start: Millis(start * MINUTE),
        duration: Millis(minutes * MINUTE),
    }
}

/// The incidents, in time order, each with the alerts it must fire.
///
/// An alert belongs to the last incident that started before it first
/// fired. The drift test compares the last 30 minutes with the 30 minutes
/// two hours earlier, so it judges from minute 150 on: the quality incidents
/// start after that. (Two hours after a quality incident, the baseline moves
/// back before the windows it found drifted, so the incident does not alarm twice.)
fn incidents() -> Vec<(ScenarioConfig, &'static [&'static str])> {
    vec![
        (
            incident(ScenarioKind::KvSaturation, "vllm-llama-a", 20, 30),
            &[
                "ErrorRatioSpike",
                "KVCacheSaturated",
                "LatencyUpKVCacheSaturated",
                "QueueGrowing",
                "TTFTBudgetBurnFast",
                "TTFTBudgetBurnSlow",
            ],
        ),
        (incident(ScenarioKind::ThermalThrottle, "sglang-qwen/gpu0", 70, 15), &["GPUThermalThrottling"]),
        (incident(ScenarioKind::XidCrash, "vllm-llama-b/gpu0", 100, 8), &["GPUXidError", "TargetDown"]),
        // Traffic moving between zones, and a burst the fleet absorbs, alert nobody.
        (incident(ScenarioKind::ZoneShift, "us-east-1a", 120, 12), &[]),
        (incident(ScenarioKind::TrafficBurst, QWEN, 138, 10), &[]),
        (
            incident(ScenarioKind::ModelSwap, "sglang-qwen", 155, 60),
            &["QualityDownLatencyNormal", "QualityDriftDetected", "QualityScoreDegraded", "RefusalRateSpike"],
        ),
        (incident(ScenarioKind::PiiLeak, "vllm-llama-a", 240, 12), &["PIILeakDetected", "QualityDriftDetected"]),
    ]
}

/// How long after its incident ends an alert may first fire: the longest
/// `for` of the pack (15m) and the windows its rules look back over.
const FIRING_GRACE_MINUTES: i64 = 30;

const END_MINUTES: i64 = 280;

fn fleet_config() -> SimConfig {
    SimConfig {
        models: vec![
            ModelConfig { name: LLAMA.to_owned(), ..ModelConfig::default() },
            ModelConfig { name: QWEN.to_owned(), ..ModelConfig::default() },
        ],
        replicas: vec![
            replica("vllm-llama-a", EngineKind::Vllm, LLAMA, "us-east-1a"),
            replica("vllm-llama-b", EngineKind::Vllm, LLAMA, "us-east-1b"),
            replica("sglang-qwen", EngineKind::Sglang, QWEN, "us-east-1b"),
        ],
        load: LoadConfig { models: vec![load(LLAMA, 3.0), load(QWEN, 1.0)] },
        scenarios: incidents().into_iter().map(|(scenario, _)| scenario).collect(),
        internal_traffic: false,
        ..SimConfig::default()
    }
}

/// The backfill, with the rules evaluated on its simulated time: at each
/// scrape round, every group evaluation due since the last round, over the
/// data stored up to that round (what a live server sees).
struct WithRules {
    backfill: BackfillSink,
    manager: rules::Manager,
    /// The time evaluated up to.
    done_ms: i64,
}

impl sim::Sink for WithRules {
    fn scrape(&mut self, scrape: sim::Scrape<'_>) {
        let t = scrape.t_ms;
        if self.done_ms < t - 1 {
            self.manager.evaluate_between(self.done_ms, t - 1);
            self.done_ms = t - 1;
        }
        self.backfill.scrape(scrape);
    }

    fn exchange(&mut self, exchange: inference::Exchange) {
        self.backfill.exchange(exchange);
    }
}

/// A webhook receiver that keeps every JSON body posted to it.
async fn webhook_receiver() -> (SocketAddr, Arc<Mutex<Vec<serde_json::Value>>>) {
    let bodies: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let kept = Arc::clone(&bodies);
    let app = axum::Router::new().route(
        "/hook",
        post(move |Json(body): Json<serde_json::Value>| {
            let kept = Arc::clone(&kept);
            async move { kept.lock().expect("receiver lock").push(body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
    let addr = listener.local_addr().expect("receiver address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, bodies)
}

/// One alert as it fired: from the `ALERTS{alertstate="firing"}` series.
#[derive(Debug)]
struct Fired {
    labels: BTreeMap<String, String>,
    first_ms: i64,
    last_ms: i64,
}

impl Fired {
    fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_incident_fires_exactly_its_alerts_and_the_webhook_gets_alertmanager_json() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (hook, bodies) = webhook_receiver().await;
    let fleet = Fleet::new(fleet_config(), Clock::manual(T0)).expect("valid fleet");
    let listen: SocketAddr = "127.0.0.1:9464".parse().expect("address");
    let gateway: SocketAddr = "127.0.0.1:9465".parse().expect("address");
    let backfill = Duration::from_secs(END_MINUTES as u64 * 60);
    let mut config = crate::demo::demo_config(listen, gateway, dir.path(), &fleet.replicas(), backfill)
        .expect("the demo config is valid");
    config.alerting.webhooks = vec![format!("http://{hook}/hook")];
    config.alerting.external_url = format!("http://{listen}");

    let db = Arc::new(
        tsdb::Db::open(
            &dir.path().join("data"),
            config.storage.clone(),
            tsdb::Metrics::new(&mut prometheus_client::registry::Registry::default()),
        )
        .expect("open the store"),
    );
    let records = Arc::new(records::Store::open(&dir.path().join("records.db")).expect("open the records store"));
    let notifier = rules::Notifier::new(config.alerting.clone(), rules::NotifyMetrics::unregistered())
        .expect("valid alerting settings");
    let shutdown = CancellationToken::new();
    let notifier_task = tokio::spawn(notifier.clone().run(shutdown.clone()));
    let queue = notifier.clone();
    let options = rules::ManagerOptions {
        restore_for_state: false,
        clock: rules::Clock::from_fn(|| T0),
        ..rules::ManagerOptions::from_settings(&config.alerting)
    };
    let manager = rules::Manager::new(db.clone(), db.clone(), options, rules::RuleMetrics::unregistered())
        .with_notifier(notifier);
    manager.load(&config.rule_files).expect("the pack loads");

    let stores = Stores { db: Arc::clone(&db), records, rules: None };
    let (jobs, quality) = (config.scrape.clone(), config.quality.clone());
    let run_fleet = fleet.clone();
    tokio::task::spawn_blocking(move || {
        let backfill = BackfillSink::new(&run_fleet, &jobs, listen, stores, quality, Vec::new());
        let mut sink = WithRules { backfill, manager, done_ms: T0 };
        run_fleet.run_backfill(T0, T0 + END_MINUTES * MINUTE, 15_000, &mut sink);
        sink.backfill.finish(T0 + END_MINUTES * MINUTE);
    })
    .await
    .expect("backfill");
    // Let the notifier deliver what the last evaluations queued.
    for _ in 0..200 {
        if queue.queue_len() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    notifier_task.await.expect("the notifier stops");

    let fired = fired_alerts(&db, T0, T0 + END_MINUTES * MINUTE);
    let report: Vec<String> = fired
        .iter()
        .map(|a| {
            let minute = |t: i64| (t - T0) as f64 / MINUTE as f64;
            format!("{:>5.1} → {:>5.1} min  {:?}", minute(a.first_ms), minute(a.last_ms), a.labels)
        })
        .collect();
    let report = report.join("\n");
    let plan = incidents();
    for (index, (incident, expected)) in plan.iter().enumerate() {
        let start = T0 + incident.start.0;
        let next = plan.get(index + 1).map_or(i64::MAX, |(next, _)| T0 + next.start.0);
        let own: Vec<&Fired> = fired.iter().filter(|a| start <= a.first_ms && a.first_ms < next).collect();
        let names: BTreeSet<&str> = own.iter().map(|a| a.name()).collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(names, expected, "{} on {} fired other alerts:\n{report}", incident.name, incident.target);
        let latest = start + incident.duration.0 + FIRING_GRACE_MINUTES * MINUTE;
        for alert in own {
            assert!(alert.first_ms <= latest, "{} fired too late for {}:\n{report}", alert.name(), incident.name);
        }
    }
    let first_incident = T0 + plan[0].0.start.0;
    assert!(fired.iter().all(|a| a.first_ms >= first_incident), "alerts before any incident:\n{report}");

    // Every alert that fired reached the webhook, in Alertmanager's format.
    let received: Vec<serde_json::Value> = bodies.lock().expect("receiver lock").clone();
    let mut notified: BTreeSet<String> = BTreeSet::new();
    let mut resolved = 0;
    for message in &received {
        assert_eq!(message["version"], "4", "{message}");
        assert_eq!(message["receiver"], "infersight");
        assert!(message["groupKey"].as_str().is_some_and(|k| k.contains("alertname=")), "{message}");
        let status = message["status"].as_str().expect("status");
        assert!(status == "firing" || status == "resolved", "{message}");
        assert_eq!(message["externalURL"], format!("http://{listen}"));
        let alerts = message["alerts"].as_array().expect("alerts");
        assert!(!alerts.is_empty());
        for alert in alerts {
            notified.insert(alert["labels"]["alertname"].as_str().expect("alertname").to_owned());
            assert!(alert["labels"]["severity"].is_string() && alert["labels"]["signal"].is_string(), "{alert}");
            for annotation in ["summary", "description", "runbook"] {
                assert!(alert["annotations"][annotation].is_string(), "{annotation} missing: {alert}");
            }
            assert!(alert["startsAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{alert}");
            assert!(alert["endsAt"].is_string() && alert["fingerprint"].is_string(), "{alert}");
            let link = alert["generatorURL"].as_str().expect("generatorURL");
            assert!(link.starts_with(&format!("http://{listen}/")), "{link}");
            resolved += usize::from(alert["status"] == "resolved");
        }
    }
    let fired_names: BTreeSet<String> = fired.iter().map(|a| a.name().to_owned()).collect();
    assert_eq!(notified, fired_names, "every fired alert is notified, and only those");
    assert!(resolved > 0, "resolutions are sent too");
}

/// Every firing alert over `[from, to]`, from the stored `ALERTS` series.
fn fired_alerts(db: &tsdb::Db, from: i64, to: i64) -> Vec<Fired> {
    let querier = Queryable::querier(db).expect("querier");
    let engine = promql::Engine::new(promql::EngineOptions::default());
    let (value, _) =
        engine.range_query(querier.as_ref(), r#"ALERTS{alertstate="firing"}"#, from, to, 30_000).expect("ALERTS query");
    let Value::Matrix(series) = value else { panic!("a range query returns a matrix") };
    series
        .into_iter()
        .filter(|s| !s.samples.is_empty())
        .map(|s| Fired {
            labels: s.labels.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect(),
            first_ms: s.samples[0].t,
            last_ms: s.samples[s.samples.len() - 1].t,
        })
        .collect()
}
