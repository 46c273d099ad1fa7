//! `infersight demo`: a simulated fleet, the server watching it, traffic through the gateway, and hours of history.
//!
//! Everything runs in this process on loopback: the simulator's replicas
//! and GPU exporters, infersight with scrape presets pointed at them, the
//! gateway routing to them, the quality pipeline, and a load generator
//! with a diurnal curve. The server serves at once; beside it, copies of
//! the fleet (same seed, same incidents) run over the past hours on
//! simulated time and write them into the store the way a scrape, the
//! gateway, the pipeline and its judges would have, ending where the live
//! fleet starts: the last minutes first, so every chart's right edge has
//! data within seconds, then the hours before, while live data flows.
//! Its progress is a line on a terminal's stderr, a self-metric and
//! `/api/v1/infersight/backfill`, which the dashboard shows as a banner.
//! The data lives in a temporary directory removed at exit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backfill::{self, BackfillJudge, Progress};
use crate::config::{Config, RawConfig};
use crate::serve::{self, Extras, Stores, now_ms};
use crate::simulate::print_incidents;

/// The scrape interval of the demo's jobs, live and backfilled.
const SCRAPE_INTERVAL_MS: i64 = 15_000;

/// The rule group generated from `[cost]` (crates/infersight/src/config/cost.rs).
const COST_GROUP: &str = "infersight-cost";

/// The demo's price of an H100 GPU-hour, as clouds rent them on demand.
const DEMO_GPU_HOUR_DOLLARS: f64 = 2.5;

/// The most recent history, written first: every chart's right edge and
/// every `rate()` at now have data within a second or two.
const RECENT_MS: i64 = 15 * 60_000;

/// How often the progress line on a terminal is redrawn.
const PROGRESS_REDRAW: Duration = Duration::from_millis(250);

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

    let mut extras = Extras::default();
    let from = now - i64::try_from(backfill.as_millis()).unwrap_or(i64::MAX);
    let deploys = fleet.deploys();
    let mut history = None;
    if from < now {
        let plan = backfill::Plan {
            spans: history_spans(&fleet, from, now)?,
            scrape_interval_ms: SCRAPE_INTERVAL_MS,
            jobs: config.scrape.clone(),
            listen,
            quality: config.quality.clone(),
            judges: simulated_judges(&config),
            probes: config.probes.as_ref().map_or_else(Vec::new, |probes| probes.specs.clone()),
        };
        let progress = Arc::new(Progress::new(from, now));
        extras.progress = Some(Arc::clone(&progress));
        history = Some((plan, Arc::clone(&progress), humanize(backfill)));
        if std::io::stderr().is_terminal() {
            extras.tasks.push(Box::new(move |shutdown: CancellationToken| -> serve::Task<()> {
                Box::pin(draw_progress(progress, shutdown))
            }));
        }
    }
    // The deploy markers of the past first (so a chart drawn during the
    // backfill shows them), then the history, then the markers to come, each at its time.
    extras.background = Some(Box::new(move |stores: Stores, shutdown: CancellationToken| -> serve::Task<()> {
        Box::pin(async move {
            let (past, future): (Vec<_>, Vec<_>) = deploys.into_iter().partition(|d| d.at_ms <= now);
            past.iter().for_each(|deploy| mark_deploy(&stores, deploy));
            if let Some((plan, reporting, span)) = history {
                match backfill::run(plan, stores.clone(), Arc::clone(&reporting), shutdown.clone()).await {
                    Ok(_) => {
                        let took = reporting.status().elapsed_seconds;
                        println!("infersight demo: {span} of history written in {took:.1} s");
                        if let Some(rules) = stores.rules.clone() {
                            let from_ms = reporting.status().from_ms;
                            let evaluated =
                                tokio::task::spawn_blocking(move || cost_history(&rules, from_ms, now)).await;
                            info!(evaluations = evaluated.unwrap_or_default(), "Cost rules evaluated over the history");
                        }
                    }
                    Err(err) => warn!(error = %format!("{err:#}"), "Backfill failed"),
                }
            }
            for deploy in future {
                let wait = u64::try_from(deploy.at_ms - now_ms()).unwrap_or(0);
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(wait)) => mark_deploy(&stores, &deploy),
                }
            }
        })
    }));
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
    let writing = (from < now).then(|| humanize(backfill));
    extras.tasks.push(Box::new(move |_shutdown: CancellationToken| -> serve::Task<()> {
        Box::pin(async move {
            println!();
            println!("infersight demo is running. Open http://{listen}/");
            println!("  Prometheus API: http://{listen}/api/v1/query   gateway (OpenAI API): http://{gateway}/v1");
            if let Some(span) = writing {
                println!(
                    "  Writing {span} of simulated history in the background; the charts fill as it goes \
                     (progress: http://{listen}/api/v1/infersight/backfill)."
                );
            }
            println!("  Incidents (relative to now):");
            print_incidents(&banner_fleet);
            println!("  Ctrl-C stops everything.");
        })
    }));
    serve::serve(config, extras).await
}

/// Evaluates the generated cost rules over the written history, once a
/// minute, as the live rule manager would have: the Cost view and the
/// Compare view's $ per 1M tokens then cover the hours before the demo
/// started. Other rules are left alone (their alerts belong to live time).
/// Returns the number of evaluations.
fn cost_history(rules: &rules::Manager, from_ms: i64, to_ms: i64) -> usize {
    const STEP_MS: i64 = 60_000;
    let mut at = (from_ms.div_euclid(STEP_MS) + 1) * STEP_MS;
    let mut evaluations = 0;
    while at < to_ms {
        if !rules.evaluate_group_at(COST_GROUP, at) {
            break;
        }
        evaluations += 1;
        at += STEP_MS;
    }
    evaluations
}

/// Writes a deploy's marker: an annotation tagged `deploy` on the model
/// that takes the traffic, as `POST /api/v1/infersight/annotations` would.
fn mark_deploy(stores: &Stores, deploy: &sim::Deploy) {
    let record = records::AnnotationRecord {
        id: 0,
        time_ms: deploy.at_ms,
        text: deploy.text.clone(),
        tags: vec!["deploy".to_owned()],
        model: deploy.to.clone(),
    };
    let appendable: &dyn series::Appendable = stores.db.as_ref();
    match api::record_annotation(&stores.records, Some(appendable), record) {
        Ok(record) => info!(id = record.id, model = %record.model, "Deploy marker written"),
        Err(err) => warn!(error = %err, "Cannot write the deploy marker"),
    }
}

/// The history's spans in the order to write them: the last
/// [`RECENT_MS`] first, then the hours before, each by a fleet of its own
/// with the live fleet's config and anchor (so the same incidents) and its
/// replicas' addresses. A span boundary lies between two scrapes, so no
/// scrape time is written by both spans.
fn history_spans(live: &sim::Fleet, from: i64, now: i64) -> anyhow::Result<Vec<backfill::Span>> {
    let fleet = || -> anyhow::Result<sim::Fleet> {
        let fleet =
            sim::Fleet::new(sim::SimConfig::demo(), sim::Clock::manual(now)).context("building the history's fleet")?;
        for replica in live.replicas() {
            fleet.set_addresses(&replica.name, replica.instance.clone(), replica.dcgm_instance.clone());
        }
        Ok(fleet)
    };
    let split = (now - RECENT_MS).div_euclid(SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS + SCRAPE_INTERVAL_MS / 2;
    if split <= from {
        return Ok(vec![backfill::Span { fleet: fleet()?, from_ms: from, to_ms: now }]);
    }
    Ok(vec![
        backfill::Span { fleet: fleet()?, from_ms: split, to_ms: now },
        backfill::Span { fleet: fleet()?, from_ms: from, to_ms: split },
    ])
}

/// The configuration's judges, answered by the simulator's judge in
/// process: the demo's judges are the simulator's, so the history gets the
/// verdicts a replica's API would have given.
fn simulated_judges(config: &Config) -> Vec<BackfillJudge> {
    let answer: judge::Answerer = Arc::new(|messages: &[judge::Message]| {
        // The messages as a replica's API joins them, so the verdict is the one it would give.
        let prompt: Vec<String> =
            messages.iter().map(|message| format!("{}: {}", message.role, message.content)).collect();
        let answer = sim::judge::answer(&prompt.join("\n"));
        Ok(judge::Completion {
            text: answer.content,
            input_tokens: answer.input_tokens,
            output_tokens: answer.output_tokens,
        })
    });
    config
        .judges
        .iter()
        .filter(|spec| spec.config.model == sim::judge::JUDGE_MODEL)
        .map(|spec| BackfillJudge {
            config: spec.config.clone(),
            rubrics: spec.rubrics.clone(),
            sample_rate: spec.sample_rate,
            model_rates: spec.model_rates.clone(),
            answer: Arc::clone(&answer),
        })
        .collect()
}

/// Redraws the backfill's progress on stderr (a terminal) until it ends.
async fn draw_progress(progress: Arc<Progress>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(PROGRESS_REDRAW);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let finished = progress.is_finished();
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[K{}", progress.line());
        if finished {
            let _ = writeln!(stderr);
            return;
        }
        let _ = stderr.flush();
    }
    let _ = writeln!(std::io::stderr());
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
        "[server]\nlisten = \"{listen}\"\n{open}\n[storage]\npath = {data:?}\n\n[collectors]\nnvml = false\n\n[[rule_files]]\nbuiltin = true\n\n\
         [quality]\nscore_rate = 0.3\nsample_rate = 0.3\n\n[quality.drift]\ninterval = \"5m\"\nwindow = \"30m\"\nbaseline_offset = \"{offset_min}m\"\n\n\
         [gateway]\nlisten = \"{gateway}\"\n",
        data = data_dir.join("data").display().to_string(),
        // The demo holds only simulated traffic: on an address beyond
        // loopback it serves without authentication, warned about at start.
        open = if listen.ip().is_loopback() { "" } else { "allow_unauthenticated = true\n" },
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
    // Each replica's GPUs are a priced pool serving its model, so every
    // model has a cost, $ per 1M output tokens and quality per dollar (the
    // FP8 build serves half of Llama's traffic on half the GPUs).
    for replica in replicas {
        let _ = write!(
            toml,
            "\n[[cost.gpu]]\nname = {name:?}\nlabels = {{ replica = {name:?} }}\nper_hour = {DEMO_GPU_HOUR_DOLLARS}\nmodel = {model:?}\n",
            name = replica.name,
            model = replica.model,
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
