//! `infersight demo`: a simulated fleet, the server watching it, traffic through the gateway, and hours of history.
//!
//! Everything runs in this process on loopback: the simulator's replicas
//! and GPU exporters, infersight with scrape presets pointed at them, the
//! gateway routing to them, the quality pipeline, and a load generator
//! with a diurnal curve. Before serving, the same simulation is run over
//! the past hours on simulated time and written into the store the way a
//! scrape, the gateway and the pipeline would have written it, so every
//! chart is full when the dashboard opens. The data lives in a temporary
//! directory removed at exit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use collectors::exposition::Format;
use collectors::scrape::{Replay, ScrapeJob};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{Config, RawConfig};
use crate::serve::{self, Extras, Stores, now_ms};
use crate::simulate::print_incidents;

/// The scrape interval of the demo's jobs, live and backfilled.
const SCRAPE_INTERVAL_MS: i64 = 15_000;

/// Runs the demo until SIGINT or SIGTERM.
pub fn run(listen: SocketAddr, backfill: Duration) -> anyhow::Result<()> {
    let data_dir = std::env::temp_dir().join(format!("infersight-demo-{}", std::process::id()));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let result = runtime.block_on(demo(listen, backfill, &data_dir));
    drop(runtime);
    if let Err(err) = std::fs::remove_dir_all(&data_dir) {
        warn!(dir = %data_dir.display(), error = %err, "Cannot remove the demo's data directory");
    }
    result
}

async fn demo(listen: SocketAddr, backfill: Duration, data_dir: &Path) -> anyhow::Result<()> {
    let now = now_ms();
    let fleet = sim::Fleet::new(sim::SimConfig::demo(), sim::Clock::realtime(now)).context("building the fleet")?;
    let sim_server = sim::server::SimServer::bind(&fleet).await.context("binding the simulator")?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let gateway = SocketAddr::new(listen.ip(), listen.port().wrapping_add(1));
    let config = demo_config(listen, gateway, data_dir, &fleet.replicas(), backfill)?;

    let from = now - i64::try_from(backfill.as_millis()).unwrap_or(i64::MAX);
    let replay_jobs = config.scrape.clone();
    let replay_fleet = fleet.clone();
    let quality = config.quality.clone();
    let prepare = move |stores: Stores| -> serve::Task<anyhow::Result<()>> {
        Box::pin(async move {
            if from >= now {
                return Ok(());
            }
            println!("infersight demo: writing {} of simulated history…", humanize(backfill));
            let report = tokio::task::spawn_blocking(move || {
                let mut sink = BackfillSink::new(&replay_fleet, &replay_jobs, listen, stores, quality);
                let report = replay_fleet.run_backfill(from, now, SCRAPE_INTERVAL_MS, &mut sink);
                sink.finish();
                report
            })
            .await
            .context("backfill task")?;
            info!(
                scrapes = report.scrapes,
                exchanges = report.exchanges,
                elapsed_s = report.elapsed.as_secs_f64(),
                "Backfill done"
            );
            Ok(())
        })
    };

    let mut extras = Extras { prepare: Some(Box::new(prepare)), tasks: Vec::new() };
    extras.tasks.push(Box::new(move |shutdown: CancellationToken| -> serve::Task<()> {
        Box::pin(async move {
            if let Err(err) = sim_server.run(shutdown).await {
                warn!(error = %err, "Simulator stopped");
            }
        })
    }));
    let load = sim::loadgen::LoadGen::new(fleet.clone(), &format!("http://{gateway}"), None, 256);
    extras.tasks.push(Box::new(move |shutdown: CancellationToken| -> serve::Task<()> {
        Box::pin(async move {
            let stats = load.run(shutdown).await;
            info!(
                sent = stats.sent,
                ok = stats.ok,
                failed = stats.failed,
                dropped = stats.dropped,
                "Load generator stopped"
            );
        })
    }));
    let banner_fleet = fleet.clone();
    extras.tasks.push(Box::new(move |_shutdown: CancellationToken| -> serve::Task<()> {
        Box::pin(async move {
            println!();
            println!("infersight demo is running. Open http://{listen}/");
            println!("  Prometheus API: http://{listen}/api/v1/query   gateway (OpenAI API): http://{gateway}/v1");
            println!("  Incidents (relative to now):");
            print_incidents(&banner_fleet);
            println!("  Ctrl-C stops everything.");
        })
    }));
    serve::serve(config, extras).await
}

/// The server's configuration for the demo: scrape jobs with file_sd
/// groups per zone, the gateway's upstreams, and quality settings that make
/// drift visible within the demo's hours.
fn demo_config(
    listen: SocketAddr,
    gateway: SocketAddr,
    data_dir: &Path,
    replicas: &[sim::ReplicaInfo],
    backfill: Duration,
) -> anyhow::Result<Config> {
    // The drift baseline must lie within the history: half of it, 30 min to 2 h back.
    let offset_min = (backfill.as_secs() / 60 / 2).clamp(30, 120);
    let mut groups: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    let mut seen_dcgm = std::collections::HashSet::new();
    for replica in replicas {
        let engine = replica.engine.as_str();
        groups.entry(engine).or_default().push(serde_json::json!({
            "targets": [replica.instance],
            "labels": {"availability_zone": replica.zone},
        }));
        if seen_dcgm.insert(replica.dcgm_instance.clone()) {
            groups.entry("dcgm").or_default().push(serde_json::json!({
                "targets": [replica.dcgm_instance],
                "labels": {"availability_zone": replica.zone},
            }));
        }
    }
    let mut toml = format!(
        "[server]\nlisten = \"{listen}\"\n\n[storage]\npath = {data:?}\n\n[collectors]\nnvml = false\n\n[[rule_files]]\nbuiltin = true\n\n\
         [quality]\nscore_rate = 0.3\nsample_rate = 0.3\n\n[quality.drift]\ninterval = \"5m\"\nwindow = \"30m\"\nbaseline_offset = \"{offset_min}m\"\n\n\
         [gateway]\nlisten = \"{gateway}\"\n",
        data = data_dir.join("data").display().to_string(),
    );
    for replica in replicas {
        let _ = write!(
            toml,
            "\n[[gateway.upstream]]\nname = {name:?}\nurl = \"http://{addr}/v1\"\nmodels = [{model:?}]\nprovider = {provider:?}\n",
            name = replica.name,
            addr = replica.instance,
            model = replica.model,
            provider = replica.engine.as_str(),
        );
    }
    for (preset, groups) in &groups {
        let file = data_dir.join(format!("targets-{preset}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(groups)?)
            .with_context(|| format!("writing {}", file.display()))?;
        let _ = write!(
            toml,
            "\n[[scrape]]\npreset = {preset:?}\nfile_sd = [{file:?}]\n",
            file = file.display().to_string()
        );
    }
    let raw = RawConfig::parse(&toml).map_err(|p| anyhow::anyhow!("demo config: {p}"))?;
    raw.validate().map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("demo config: {}", list.join("; "))
    })
}

/// Writes what the backfill produces as the live path would have: pages
/// through the scrape jobs' labelling, exchanges through the gateway's
/// metrics and the quality pipeline, and those metrics as the self-scrape
/// would have read them.
struct BackfillSink {
    db: Arc<tsdb::Db>,
    engines: BTreeMap<String, Replay>,
    gpus: BTreeMap<String, (Replay, i64)>,
    pipeline: pipeline::Pipeline,
    gateway: proxy::Metrics,
    /// Upstream (replica) name → its `host:port`, the `server_address` label.
    addresses: BTreeMap<String, String>,
    registry: Registry,
    self_scrape: Option<Replay>,
    last_self_scrape: i64,
    /// When the drift test last ran, in simulated time.
    last_drift: i64,
    drift_interval_ms: i64,
    /// Exchanges waiting to be scored, a scrape interval's worth at most.
    pending: Vec<inference::Exchange>,
    threads: usize,
}

impl BackfillSink {
    fn new(
        fleet: &sim::Fleet,
        jobs: &[ScrapeJob],
        listen: SocketAddr,
        stores: Stores,
        quality: pipeline::Config,
    ) -> BackfillSink {
        let job = |name: &str| jobs.iter().find(|j| j.job_name == name).cloned();
        let mut engines = BTreeMap::new();
        let mut gpus = BTreeMap::new();
        let mut addresses = BTreeMap::new();
        for replica in fleet.replicas() {
            addresses.insert(replica.name.clone(), replica.instance.clone());
            let labels = BTreeMap::from([("availability_zone".to_owned(), replica.zone.clone())]);
            if let Some(job) = job(replica.engine.as_str()) {
                engines.insert(replica.name.clone(), Replay::new(job, &replica.instance, &labels));
            }
            if let Some(job) = job("dcgm") {
                gpus.entry(replica.dcgm_instance.clone())
                    .or_insert_with(|| (Replay::new(job, &replica.dcgm_instance, &labels), i64::MIN));
            }
        }
        let drift_interval_ms = i64::try_from(quality.drift.interval.as_millis()).unwrap_or(i64::MAX);
        let mut registry = Registry::default();
        let pipeline = pipeline::Pipeline::new(quality, stores.records, pipeline::Metrics::new(&mut registry));
        let gateway = proxy::Metrics::new(&mut registry);
        let self_scrape = job("infersight").map(|job| Replay::new(job, &listen.to_string(), &BTreeMap::new()));
        BackfillSink {
            db: stores.db,
            engines,
            gpus,
            pipeline,
            gateway,
            addresses,
            registry,
            self_scrape,
            last_self_scrape: i64::MIN,
            last_drift: i64::MIN,
            drift_interval_ms,
            pending: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// Scores and keeps the pending exchanges, on every core.
    fn flush_exchanges(&mut self) {
        self.pipeline.process_all(&self.pending, self.threads);
        self.pending.clear();
    }

    /// The gateway's and the pipeline's metrics as a self-scrape at `t_ms` reads them.
    fn scrape_self(&mut self, t_ms: i64) {
        self.flush_exchanges();
        if self.last_drift == i64::MIN {
            self.last_drift = t_ms;
        } else if t_ms - self.last_drift >= self.drift_interval_ms {
            self.pipeline.run_drift(t_ms);
            self.last_drift = t_ms;
        }
        let Some(replay) = &mut self.self_scrape else { return };
        let mut page = String::new();
        if prometheus_client::encoding::text::encode(&mut page, &self.registry).is_ok() {
            let _ = replay.page(&*self.db, Some(&page), Format::Text, t_ms);
        }
        self.last_self_scrape = t_ms;
    }

    /// Marks the backfilled self-metrics stale: the live server's own
    /// counters start again from zero.
    fn finish(&mut self) {
        self.flush_exchanges();
        if let Some(replay) = &mut self.self_scrape {
            let _ = replay.page(&*self.db, None, Format::Text, self.last_self_scrape + 1);
        }
    }
}

impl sim::Sink for BackfillSink {
    fn scrape(&mut self, scrape: sim::Scrape<'_>) {
        let t = scrape.t_ms;
        if let Some(replay) = self.engines.get_mut(&scrape.replica.name) {
            let _ = replay.page(&*self.db, scrape.engine_page, Format::Text, t);
        }
        if let Some((replay, last)) = self.gpus.get_mut(&scrape.replica.dcgm_instance)
            && *last < t
        {
            let _ = replay.page(&*self.db, Some(scrape.dcgm_page), Format::Text, t);
            *last = t;
        }
        if self.last_self_scrape < t {
            self.scrape_self(t);
        }
    }

    fn exchange(&mut self, exchange: inference::Exchange) {
        let labels = proxy::ExchangeLabels {
            request_model: &exchange.request_model,
            response_model: exchange.response_model.as_deref().unwrap_or_default(),
            server_address: self.addresses.get(&exchange.upstream).map_or("", String::as_str),
        };
        let chunks = exchange.timings.ttft.map_or(0, |_| u64::from(exchange.timings.gaps.count) + 1);
        self.gateway.observe(&exchange, &labels, chunks);
        self.pending.push(exchange);
    }
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs.is_multiple_of(3600) { format!("{}h", secs / 3600) } else { format!("{}m", secs / 60) }
}
