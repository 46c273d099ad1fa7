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
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backfill::BackfillSink;
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
pub(crate) fn demo_config(
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
    // `replica` names each target, so the dashboard shows `vllm-llama-1a`
    // rather than a loopback address with an ephemeral port.
    for replica in replicas {
        let engine = replica.engine.as_str();
        groups.entry(engine).or_default().push(serde_json::json!({
            "targets": [replica.instance],
            "labels": {"availability_zone": replica.zone, "replica": replica.name},
        }));
        if seen_dcgm.insert(replica.dcgm_instance.clone()) {
            groups.entry("dcgm").or_default().push(serde_json::json!({
                "targets": [replica.dcgm_instance],
                "labels": {"availability_zone": replica.zone, "replica": replica.name},
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
    // Every replica also answers as the simulator's judge; probes ask every
    // model once a minute, so a silent model swap shows within two runs.
    if let Some(replica) = replicas.first() {
        let _ = write!(
            toml,
            "\n[[quality.judge]]\nname = \"sim\"\nurl = \"http://{addr}/v1\"\nmodel = {model:?}\n\
             rubrics = [\"helpfulness\", \"safety\", \"over_refusal\"]\nsample_rate = 0.2\nconcurrency = 4\n\
             \n[[probes]]\nname = \"golden\"\ninterval = \"1m\"\ntimeout = \"30s\"\n",
            addr = replica.instance,
            model = sim::judge::JUDGE_MODEL,
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
    let problems = |problems: Vec<crate::config::Problem>| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("demo config: {}", list.join("; "))
    };
    RawConfig::parse(&toml).map_err(problems)?.validate().map_err(problems)
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs.is_multiple_of(3600) { format!("{}h", secs / 3600) } else { format!("{}m", secs / 60) }
}
