//! Backfill: a simulated fleet's history written into the store the way
//! the live paths would have written it.
//!
//! The simulator runs on simulated time, as fast as it computes, and hands
//! each scrape page and each exchange to [`BackfillSink`]: pages go through
//! the scrape jobs' labelling, exchanges through the gateway's metrics and
//! the quality pipeline (and its judges, answered in process), and those
//! metrics are stored as the self-scrape would have read them. [`run`]
//! drives it beside a serving server, which writes live data into the same
//! store meanwhile: the history ends where the live data begins, and each
//! span of it where the next begins. Its test
//! also evaluates the rules on the same simulated time, so alerts fire (and
//! are sent) as they would have live.

mod progress;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, mpsc};

use anyhow::Context;
use collectors::exposition::Format;
use collectors::scrape::{Replay, ScrapeJob};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

pub(crate) use progress::Progress;

use crate::serve::Stores;

/// Simulated time written per call into the simulator: progress is
/// reported, and a shutdown noticed, at least this often.
const CHUNK_MS: i64 = 60_000;

/// `max_tokens` of a probe's request, as the probe client asks.
const PROBE_MAX_TOKENS: u32 = 512;

/// A judge of the configuration, for the backfill to judge its history with.
#[derive(Clone)]
pub(crate) struct BackfillJudge {
    /// Its settings; the URL goes unused, the answers come from `answer`.
    pub config: judge::JudgeConfig,
    /// Its rubrics.
    pub rubrics: Vec<judge::Rubric>,
    /// Default share judged.
    pub sample_rate: f64,
    /// Shares of particular models.
    pub model_rates: HashMap<String, f64>,
    /// What the judge's model answers.
    pub answer: judge::Answerer,
}

/// One span of the history and the fleet that simulates it, a fleet of
/// its own: it starts cold at `from_ms` (its counters from zero, a reset
/// that `rate` reads as one, as where live data starts).
pub(crate) struct Span {
    /// The fleet, on simulated time.
    pub fleet: sim::Fleet,
    /// Start, Unix milliseconds.
    pub from_ms: i64,
    /// End, where the next span (or the live data) starts.
    pub to_ms: i64,
}

/// A backfill to run beside the server: its spans, written in this order,
/// and the settings the live data is written with.
pub(crate) struct Plan {
    /// The spans, adjoining, in the order to write them.
    pub spans: Vec<Span>,
    /// Time between scrapes, as the live jobs scrape.
    pub scrape_interval_ms: i64,
    /// The server's scrape jobs.
    pub jobs: Vec<ScrapeJob>,
    /// The server's address, its self-scrape's `instance`.
    pub listen: SocketAddr,
    /// The quality pipeline's settings.
    pub quality: pipeline::Config,
    /// The judges, answered in process.
    pub judges: Vec<BackfillJudge>,
    /// The golden probes, their requests sent into the fleet.
    pub probes: Vec<probe::ProbeSpec>,
}

/// Writes the plan's spans into `stores`, one after another on a blocking
/// thread, each through a sink of its own, reporting to `progress`, until
/// done or `shutdown`; returns what the simulator did.
///
/// # Errors
///
/// When the blocking task fails (a panic).
pub(crate) async fn run(
    plan: Plan,
    stores: Stores,
    progress: Arc<Progress>,
    shutdown: CancellationToken,
) -> anyhow::Result<sim::BackfillReport> {
    let reporting = Arc::clone(&progress);
    let report = tokio::task::spawn_blocking(move || {
        let mut total = sim::BackfillReport { scrapes: 0, exchanges: 0, elapsed: std::time::Duration::ZERO };
        for span in &plan.spans {
            let mut sink = BackfillSink::new(
                &span.fleet,
                &plan.jobs,
                plan.listen,
                stores.clone(),
                plan.quality.clone(),
                plan.judges.clone(),
            )
            .with_probes(plan.probes.clone(), span.from_ms)
            .threaded();
            let mut t = span.from_ms;
            while t < span.to_ms && !shutdown.is_cancelled() {
                let next = (t + CHUNK_MS).min(span.to_ms);
                let report = span.fleet.run_backfill(t, next, plan.scrape_interval_ms, &mut sink);
                total.scrapes += report.scrapes;
                total.exchanges += report.exchanges;
                total.elapsed += report.elapsed;
                reporting.advance(next - t);
                t = next;
            }
            sink.finish(t);
        }
        total
    })
    .await;
    progress.finish();
    let report = report.context("backfill task")?;
    info!(
        scrapes = report.scrapes,
        exchanges = report.exchanges,
        elapsed_s = progress.status().elapsed_seconds,
        "Backfill done"
    );
    Ok(report)
}

/// Writes what the backfill produces as the live path would have: pages
/// through the scrape jobs' labelling, exchanges through the gateway's
/// metrics and the quality pipeline, and those metrics as the self-scrape
/// would have read them.
///
/// The pages are stored on the simulator's thread; the exchanges go to a
/// [`Quality`] worker, on a thread of its own when [`BackfillSink::threaded`]
/// (the simulator and the pipeline then share the cores, each in time
/// order), else in the caller's thread, one step after the other.
pub(crate) struct BackfillSink {
    db: Arc<tsdb::Db>,
    engines: BTreeMap<String, Replay>,
    gpus: BTreeMap<String, (Replay, i64)>,
    /// The last scrape round handed on, for the self-scrape.
    last_round: i64,
    quality: Downstream,
    probes: Option<ProbeSchedule>,
}

/// Where the exchanges go.
enum Downstream {
    /// Processed at once.
    Inline(Box<Quality>),
    /// Sent to the worker's thread; `None` once finished.
    Thread(Option<(mpsc::SyncSender<Event>, std::thread::JoinHandle<()>)>),
}

/// What the simulator's thread hands the quality worker, in time order.
enum Event {
    Exchange(Box<inference::Exchange>),
    /// A scrape round at this time: the self-scrape reads the metrics now.
    Round(i64),
    /// The end: a last self-scrape just before this time.
    Finish(i64),
}

/// Events in flight to the worker before the simulator waits for it.
const EVENT_QUEUE: usize = 4096;

/// The gateway's metrics, the quality pipeline (with its judges and drift
/// test), the golden probes' checks, and the self-scrape that stores them.
struct Quality {
    db: Arc<tsdb::Db>,
    pipeline: pipeline::Pipeline,
    /// Whether the pipeline has judges, whose queue this drains.
    judging: bool,
    /// The runtime that the judges' calls run on (they are async).
    runtime: tokio::runtime::Handle,
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
    probes: Option<ProbeAnswers>,
}

/// The golden probes' schedule on simulated time: each run's requests go
/// into the fleet as the probe client's would through the gateway. A run
/// asks all its items of every model at once (live, one after another:
/// the same questions, a little more load at once). A request's id names
/// its run and item: `probe:<probe>:<model>:<round>:<item>`.
struct ProbeSchedule {
    probes: Vec<probe::ProbeSpec>,
    /// Per probe: when its next run starts, and which run it is.
    next: Vec<(i64, usize)>,
}

/// The probes' answers, checked and recorded as the probe client does once
/// every item of a run is answered.
struct ProbeAnswers {
    prober: probe::Prober,
    /// Runs waiting for answers, by probe, model and round; the answers in item order.
    runs: HashMap<(usize, usize, usize), Vec<Option<ProbeAnswer>>>,
}

/// What one item of a probe's run got.
type ProbeAnswer = Result<probe::Answer, probe::Failure>;

impl ProbeSchedule {
    /// The requests of the runs that start in `[from_ms, to_ms)`.
    fn requests(&mut self, from_ms: i64, to_ms: i64) -> Vec<sim::ClientRequest> {
        let mut requests = Vec::new();
        for (idx, spec) in self.probes.iter().enumerate() {
            let (next, round) = &mut self.next[idx];
            while *next < to_ms {
                let at_ms = (*next).max(from_ms);
                for (model_idx, model) in spec.models.iter().enumerate() {
                    for (pos, item) in spec.items_of_round(*round).iter().enumerate() {
                        let prompt: Vec<String> =
                            item.messages.iter().map(|m| format!("{}: {}", m.role, m.content)).collect();
                        requests.push(sim::ClientRequest {
                            id: format!("probe:{idx}:{model_idx}:{round}:{pos}"),
                            at_ms,
                            model: model.clone(),
                            prompt: prompt.join("\n"),
                            max_tokens: Some(PROBE_MAX_TOKENS),
                            stream: true,
                        });
                    }
                }
                *next += i64::try_from(spec.interval.as_millis()).unwrap_or(i64::MAX).max(1);
                *round += 1;
            }
        }
        requests
    }
}

impl ProbeAnswers {
    /// Takes the answer in `exchange` if it is a probe's, and records the
    /// run once every item has its answer; false when it is not a probe's.
    fn answer(&mut self, exchange: &inference::Exchange) -> bool {
        let Some(rest) = exchange.id.strip_prefix("probe:") else { return false };
        let parts: Vec<usize> = rest.split(':').filter_map(|part| part.parse().ok()).collect();
        let &[idx, model_idx, round, pos] = parts.as_slice() else { return false };
        let Some(spec) = self.prober.probes().get(idx) else { return false };
        let answer = if exchange.timings.e2e > spec.timeout {
            Err(probe::Failure::Timeout)
        } else if exchange.error_type.as_deref() == Some("stream_interrupted") {
            Err(probe::Failure::BadStream("the stream broke".to_owned()))
        } else if exchange.is_error() {
            Err(probe::Failure::Status(exchange.status))
        } else {
            Ok(probe::Answer {
                text: exchange.response.clone(),
                ttft: exchange.timings.ttft,
                duration: exchange.timings.e2e,
            })
        };
        let items = spec.items_of_round(round);
        let answers = self.runs.entry((idx, model_idx, round)).or_insert_with(|| vec![None; items.len()]);
        if let Some(slot) = answers.get_mut(pos) {
            *slot = Some(answer);
        }
        if answers.iter().all(Option::is_some) {
            let answers = self.runs.remove(&(idx, model_idx, round)).unwrap_or_default();
            let answers: Vec<(&probe::Item, ProbeAnswer)> =
                items.into_iter().zip(answers.into_iter().flatten()).collect();
            if let Some(model) = spec.models.get(model_idx) {
                self.prober.record_run(spec, model, &answers);
            }
        }
        true
    }
}

impl BackfillSink {
    /// A sink for `fleet`'s history, the pipeline in the caller's thread.
    /// Call it on a blocking thread of the runtime (judges' calls are async).
    pub(crate) fn new(
        fleet: &sim::Fleet,
        jobs: &[ScrapeJob],
        listen: SocketAddr,
        stores: Stores,
        quality: pipeline::Config,
        judges: Vec<BackfillJudge>,
    ) -> BackfillSink {
        let job = |name: &str| jobs.iter().find(|j| j.job_name == name).cloned();
        let mut engines = BTreeMap::new();
        let mut gpus = BTreeMap::new();
        let mut addresses = BTreeMap::new();
        for replica in fleet.replicas() {
            addresses.insert(replica.name.clone(), replica.instance.clone());
            // The target labels of the demo's file_sd groups (demo.rs), so history and live series are the same series.
            let labels = BTreeMap::from([
                ("availability_zone".to_owned(), replica.zone.clone()),
                ("replica".to_owned(), replica.name.clone()),
            ]);
            if let Some(job) = job(replica.engine.as_str()) {
                engines.insert(replica.name.clone(), Replay::new(job, &replica.instance, &labels));
            }
            if let Some(job) = job("dcgm") {
                gpus.entry(replica.dcgm_instance.clone())
                    .or_insert_with(|| (Replay::new(job, &replica.dcgm_instance, &labels), i64::MIN));
            }
        }
        let self_scrape = job("infersight").map(|job| Replay::new(job, &listen.to_string(), &BTreeMap::new()));
        let quality = Quality::new(Arc::clone(&stores.db), stores.records, quality, judges, addresses, self_scrape);
        BackfillSink {
            db: stores.db,
            engines,
            gpus,
            last_round: i64::MIN,
            quality: Downstream::Inline(Box::new(quality)),
            probes: None,
        }
    }

    /// The same sink running `probes` from `from_ms` on, their metrics
    /// written with the self-scrape and their traffic labelled as the
    /// gateway labels it (`infersight_client="probe"`, kept from the pipeline).
    pub(crate) fn with_probes(mut self, probes: Vec<probe::ProbeSpec>, from_ms: i64) -> BackfillSink {
        let Downstream::Inline(quality) = &mut self.quality else { return self };
        if probes.is_empty() {
            return self;
        }
        let metrics = probe::Metrics::new(&mut quality.registry);
        match probe::Prober::new(probes.clone(), String::new(), None, metrics) {
            Ok(prober) => {
                quality.probes = Some(ProbeAnswers { prober, runs: HashMap::new() });
                self.probes = Some(ProbeSchedule { next: vec![(from_ms, 0); probes.len()], probes });
            }
            Err(err) => warn!(error = %err, "Cannot build the probes; the history has none"),
        }
        self
    }

    /// The same sink with its pipeline on a thread of its own.
    pub(crate) fn threaded(mut self) -> BackfillSink {
        let Downstream::Inline(quality) = std::mem::replace(&mut self.quality, Downstream::Thread(None)) else {
            return self;
        };
        let (events, queue) = mpsc::sync_channel(EVENT_QUEUE);
        let spawned = std::thread::Builder::new().name("backfill-quality".to_owned()).spawn(move || {
            let mut quality = quality;
            for event in queue {
                quality.handle(event);
            }
        });
        match spawned {
            Ok(worker) => self.quality = Downstream::Thread(Some((events, worker))),
            // The worker went with the closure; the history gets engine data only.
            Err(err) => error!(error = %err, "Cannot start the backfill's pipeline thread; its exchanges are dropped"),
        }
        self
    }

    fn send(&mut self, event: Event) {
        match &mut self.quality {
            Downstream::Inline(quality) => quality.handle(event),
            Downstream::Thread(Some((events, _))) => {
                // The worker only stops when the queue closes, so a send fails only after a panic there.
                let _ = events.send(event);
            }
            Downstream::Thread(None) => {}
        }
    }

    /// Scores the last exchanges and takes a last self-scrape just before
    /// `end_ms`, where the live data begins, and waits for the worker.
    /// No stale markers: the live server's series go on where these end
    /// (its counters from zero, a reset that `rate` reads as one).
    pub(crate) fn finish(&mut self, end_ms: i64) {
        self.send(Event::Finish(end_ms));
        if let Downstream::Thread(worker) = &mut self.quality
            && let Some((events, worker)) = worker.take()
        {
            drop(events);
            if worker.join().is_err() {
                warn!("The backfill's pipeline thread panicked; part of the history's quality data is missing");
            }
        }
    }
}

impl Quality {
    fn new(
        db: Arc<tsdb::Db>,
        records: Arc<records::Store>,
        mut config: pipeline::Config,
        judges: Vec<BackfillJudge>,
        addresses: BTreeMap<String, String>,
        self_scrape: Option<Replay>,
    ) -> Quality {
        let drift_interval_ms = i64::try_from(config.drift.interval.as_millis()).unwrap_or(i64::MAX);
        let mut registry = Registry::default();
        let judge_metrics = judge::Metrics::new(&mut registry);
        // A cache of its own: a backfill's inputs do not repeat, and the
        // records store's cache is the live judges' to fill.
        let cache: Arc<dyn judge::Cache> = Arc::new(judge::MemoryCache::default());
        config.judges = judges
            .into_iter()
            .map(|spec| pipeline::judging::JudgeSetup {
                judge: Arc::new(judge::Judge::in_process(
                    spec.config,
                    spec.answer,
                    Arc::clone(&cache),
                    judge_metrics.clone(),
                )),
                rubrics: spec.rubrics,
                sample_rate: spec.sample_rate,
                model_rates: spec.model_rates,
            })
            .collect();
        let judging = !config.judges.is_empty();
        let pipeline = pipeline::Pipeline::new(config, records, pipeline::Metrics::new(&mut registry));
        let gateway = proxy::Metrics::new(&mut registry);
        Quality {
            db,
            pipeline,
            judging,
            runtime: tokio::runtime::Handle::current(),
            gateway,
            addresses,
            registry,
            self_scrape,
            last_self_scrape: i64::MIN,
            last_drift: i64::MIN,
            drift_interval_ms,
            pending: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            probes: None,
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Exchange(exchange) => self.exchange(*exchange),
            Event::Round(t_ms) => self.scrape_self(t_ms),
            Event::Finish(end_ms) => {
                if self.last_self_scrape < end_ms - 1 {
                    self.scrape_self(end_ms - 1);
                } else {
                    self.flush_exchanges();
                }
            }
        }
    }

    fn exchange(&mut self, exchange: inference::Exchange) {
        let probed = !exchange.id.is_empty() && self.probes.as_mut().is_some_and(|probes| probes.answer(&exchange));
        let labels = proxy::ExchangeLabels {
            request_model: &exchange.request_model,
            response_model: exchange.response_model.as_deref().unwrap_or_default(),
            server_address: self.addresses.get(&exchange.upstream).map_or("", String::as_str),
            client: if probed { "probe" } else { "" },
            key: &exchange.gateway_key,
        };
        let chunks = exchange.timings.ttft.map_or(0, |_| u64::from(exchange.timings.gaps.count) + 1);
        self.gateway.observe(&exchange, &labels, chunks);
        if !probed {
            self.pending.push(exchange);
        }
    }

    /// Scores and keeps the pending exchanges, on every core, and judges
    /// those the judges picked.
    fn flush_exchanges(&mut self) {
        self.pipeline.process_all(&self.pending, self.threads);
        self.pending.clear();
        if self.judging {
            // In process, a judge's call never waits on anything but the
            // records store; this thread is not one of the runtime's workers.
            self.runtime.block_on(self.pipeline.judge_queued());
        }
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
        if self.last_round < t {
            self.last_round = t;
            self.send(Event::Round(t));
        }
    }

    fn exchange(&mut self, exchange: inference::Exchange) {
        self.send(Event::Exchange(Box::new(exchange)));
    }

    fn requests(&mut self, from_ms: i64, to_ms: i64) -> Vec<sim::ClientRequest> {
        self.probes.as_mut().map_or_else(Vec::new, |probes| probes.requests(from_ms, to_ms))
    }
}

#[cfg(test)]
mod tests;
