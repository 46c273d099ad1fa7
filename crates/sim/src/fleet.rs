//! The fleet: replicas, traffic and incidents advanced together, in backfill or live.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use inference::{Exchange, Operation, Timings};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{SimConfig, Style};
use crate::engine::{Event, Finish, Job};
use crate::error::Result;
use crate::replica::{Replica, ReplicaInfo, Source, Tag};
use crate::rng::Rng;
use crate::scenario::{Deploy, Incident, ScenarioKind};
use crate::text::{self, Prompt, Voice};
use crate::traffic::{Arrival, Traffic};

/// Most exchanges kept for [`Fleet::drain_exchanges`] while live; older ones are dropped.
const LIVE_EXCHANGE_CAP: usize = 50_000;
/// XID reported by the crash scenario ("GPU has fallen off the bus").
const CRASH_XID: u32 = 79;

/// One scrape of one replica during a backfill.
#[derive(Debug, Clone, Copy)]
pub struct Scrape<'a> {
    /// Scrape time, Unix milliseconds.
    pub t_ms: i64,
    /// The replica scraped.
    pub replica: &'a ReplicaInfo,
    /// The engine's `/metrics` page; `None` while the replica is down (the scrape fails, `up` = 0).
    pub engine_page: Option<&'a str>,
    /// The node's DCGM exporter page (the exporter stays up when the engine crashes).
    pub dcgm_page: &'a str,
}

/// Receives what a backfill produces, in time order.
pub trait Sink {
    /// Every scrape interval, once per replica.
    fn scrape(&mut self, scrape: Scrape<'_>);
    /// Every finished request, as the gateway would have recorded it.
    fn exchange(&mut self, exchange: Exchange);
    /// Requests of clients other than the load profile's sent in
    /// `[from_ms, to_ms)` (a backfill's golden probes), asked once per
    /// simulation step: each comes back through [`Sink::exchange`] with its
    /// [`ClientRequest::id`] as the exchange's `id`. None by default.
    fn requests(&mut self, from_ms: i64, to_ms: i64) -> Vec<ClientRequest> {
        let _ = (from_ms, to_ms);
        Vec::new()
    }
}

/// A request a backfill's sink sends into the fleet, as an HTTP client would.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRequest {
    /// Comes back as the exchange's `id`.
    pub id: String,
    /// When it is sent, Unix milliseconds.
    pub at_ms: i64,
    /// Model asked for.
    pub model: String,
    /// The chat messages as a replica's API reads them: `role: content` lines.
    pub prompt: String,
    /// `max_tokens` of the request.
    pub max_tokens: Option<u32>,
    /// Whether it streams.
    pub stream: bool,
}

/// What a backfill did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackfillReport {
    /// Scrape rounds (each covers every replica).
    pub scrapes: u64,
    /// Exchanges handed to the sink.
    pub exchanges: u64,
    /// Real time it took.
    pub elapsed: std::time::Duration,
}

/// A request from an HTTP client, as the replica's API handler read it.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub(crate) operation: Operation,
    pub(crate) model: String,
    pub(crate) prompt: String,
    pub(crate) max_tokens: Option<u32>,
    pub(crate) stream: bool,
    pub(crate) request_bytes: u32,
}

/// An accepted HTTP request: the tokens it will produce and the channel that times them.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) events: mpsc::UnboundedReceiver<Event>,
    pub(crate) tokens: Vec<String>,
    pub(crate) prompt_tokens: u32,
    pub(crate) model: String,
    pub(crate) created_s: i64,
}

/// A simulated serving fleet. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Fleet {
    state: Arc<Mutex<State>>,
    clock: Clock,
    config: Arc<SimConfig>,
}

#[derive(Debug)]
struct State {
    replicas: Vec<Replica>,
    traffic: Traffic,
    schedule: Traffic,
    incidents: Vec<Incident>,
    deploys: Vec<Deploy>,
    now_ms: f64,
    anchor_ms: i64,
    started: bool,
    rng: Rng,
    arrivals: Vec<Arrival>,
    exchanges: VecDeque<Exchange>,
    /// Time of the last backfill scrape, so that a continued backfill does not scrape it twice.
    last_scrape_ms: Option<i64>,
}

/// What the incidents in effect do during one step.
#[derive(Debug, Default, Clone)]
struct Effects {
    kv_saturated: Vec<bool>,
    overheating: Vec<Option<u32>>,
    crashed: Vec<Option<u32>>,
    swapped: Vec<bool>,
    leaking: Vec<bool>,
    burst_models: Vec<String>,
    shifted_zones: Vec<String>,
}

impl Fleet {
    /// Builds the fleet. Simulated time starts at the clock's current time,
    /// which is also the anchor of the scenario timeline (offset 0); a
    /// backfill that starts earlier moves the start back.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the config does not validate.
    pub fn new(config: SimConfig, clock: Clock) -> Result<Fleet> {
        config.validate()?;
        let now_ms = clock.now_ms();
        let rng = Rng::new(config.seed);
        let incidents = config
            .scenarios
            .iter()
            .map(|s| Incident {
                kind: s.name,
                target: s.target.clone(),
                start_ms: now_ms + s.start.0,
                end_ms: now_ms + s.start.0 + s.duration.0,
            })
            .collect();
        let deploys: Vec<Deploy> = config
            .deploys
            .iter()
            .map(|d| Deploy {
                model: d.model.clone(),
                to: d.to.clone(),
                share: d.share,
                at_ms: now_ms + d.start.0,
                text: d.text.clone(),
            })
            .collect();
        let state = State {
            replicas: build_replicas(&config, now_ms as f64, &rng),
            traffic: Traffic::new(&config.load.models, &deploys, rng.fork(1)),
            schedule: Traffic::new(&config.load.models, &deploys, rng.fork(2)),
            deploys,
            incidents,
            now_ms: now_ms as f64,
            anchor_ms: now_ms,
            started: false,
            rng: rng.fork(3),
            arrivals: Vec::new(),
            exchanges: VecDeque::new(),
            last_scrape_ms: None,
        };
        Ok(Fleet { state: Arc::new(Mutex::new(state)), clock, config: Arc::new(config) })
    }

    /// The clock the fleet follows.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Offset 0 of the scenario timeline, Unix milliseconds.
    pub fn anchor_ms(&self) -> i64 {
        self.state.lock().anchor_ms
    }

    /// How far the simulation has computed, Unix milliseconds.
    pub fn sim_time_ms(&self) -> i64 {
        self.state.lock().now_ms as i64
    }

    /// Every replica's identity, in config order.
    pub fn replicas(&self) -> Vec<ReplicaInfo> {
        self.state.lock().replicas.iter().map(|r| r.info.clone()).collect()
    }

    /// Whether the replica is serving (not crashed).
    pub fn is_up(&self, replica: &str) -> bool {
        self.state.lock().replicas.iter().any(|r| r.info.name == replica && !r.down)
    }

    /// Records the addresses a replica's listeners were bound to, so that pages and
    /// [`ReplicaInfo::instance`] name them.
    pub fn set_addresses(&self, replica: &str, instance: String, dcgm_instance: String) {
        let mut state = self.state.lock();
        if let Some(r) = state.replicas.iter_mut().find(|r| r.info.name == replica) {
            r.info.instance = instance;
            r.info.dcgm_instance = dcgm_instance;
        }
    }

    /// The engine's `/metrics` page now; `None` for an unknown or crashed replica.
    pub fn engine_metrics(&self, replica: &str) -> Option<String> {
        let state = self.state.lock();
        let r = state.replicas.iter().find(|r| r.info.name == replica)?;
        (!r.down).then(|| r.render_engine(state.now_ms))
    }

    /// The DCGM exporter page of the replica's node now; `None` for an unknown replica.
    pub fn dcgm_metrics(&self, replica: &str) -> Option<String> {
        let state = self.state.lock();
        state.replicas.iter().find(|r| r.info.name == replica).map(Replica::render_dcgm)
    }

    /// Incidents scheduled or triggered so far.
    pub fn incidents(&self) -> Vec<Incident> {
        self.state.lock().incidents.clone()
    }

    /// The scripted deploys, in absolute time.
    pub fn deploys(&self) -> Vec<Deploy> {
        self.state.lock().deploys.clone()
    }

    /// Starts an incident now (`POST /sim/scenario`).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTarget`] when `target` names nothing the scenario can act on.
    pub fn trigger(&self, kind: ScenarioKind, target: &str, duration_ms: i64) -> Result<Incident> {
        kind.check_target(target, &self.config)?;
        let mut state = self.state.lock();
        let start_ms = (state.now_ms as i64).max(self.clock.now_ms());
        let incident = Incident { kind, target: target.to_owned(), start_ms, end_ms: start_ms + duration_ms.max(1) };
        state.incidents.push(incident.clone());
        Ok(incident)
    }

    /// The requests the load profile sends in `[from_ms, to_ms)`, for a load generator
    /// outside the simulator (the demo sends them through the gateway). Bursts apply;
    /// successive calls continue one random stream, so call with consecutive windows.
    pub fn arrivals(&self, from_ms: i64, to_ms: i64) -> Vec<Arrival> {
        let mut state = self.state.lock();
        let effects = state.effects(from_ms);
        let mut out = Vec::new();
        let factor = |model: &str| if effects.burst_models.iter().any(|m| m == model) { 3.0 } else { 1.0 };
        state.schedule.arrivals(from_ms as f64, to_ms as f64, &factor, &mut out);
        out
    }

    /// Exchanges of the simulator's own live traffic since the last call (at most the latest 50 000).
    pub fn drain_exchanges(&self) -> Vec<Exchange> {
        self.state.lock().exchanges.drain(..).collect()
    }

    /// Runs the simulation from `from_ms` to `to_ms` as fast as it computes,
    /// generating the load profile's traffic, and hands the sink every replica's
    /// pages each `scrape_interval_ms` (aligned to multiples of it) and every
    /// finished request. A fleet that has not run yet starts at `from_ms`; one
    /// that has continues from where it is.
    pub fn run_backfill(
        &self,
        from_ms: i64,
        to_ms: i64,
        scrape_interval_ms: i64,
        sink: &mut dyn Sink,
    ) -> BackfillReport {
        let started = Instant::now();
        let step = self.config.step.0 as f64;
        let interval = scrape_interval_ms.max(1);
        let mut report = BackfillReport { scrapes: 0, exchanges: 0, elapsed: std::time::Duration::ZERO };
        let mut next_scrape = {
            let mut state = self.state.lock();
            state.begin(from_ms as f64, &self.config);
            let mut next = (state.now_ms as i64).div_euclid(interval) * interval;
            if (next as f64) < state.now_ms || state.last_scrape_ms.is_some_and(|last| last >= next) {
                next += interval;
            }
            next
        };
        let mut exchanges = Vec::new();
        let mut pages: Vec<(ReplicaInfo, Option<String>, String)> = Vec::new();
        loop {
            // The lock is held for one step at a time, and never while the sink works
            // (but for handing over its requests), so that HTTP handlers of a live
            // fleet are not starved during a backfill.
            let scrape_at = {
                let mut state = self.state.lock();
                if state.now_ms >= to_ms as f64 {
                    break;
                }
                let t0 = state.now_ms;
                let t1 = (t0 + step).min(to_ms as f64);
                let config = &self.config;
                let clients: Vec<Arrival> = sink
                    .requests(t0 as i64, t1 as i64)
                    .into_iter()
                    .map(|request| {
                        let http = HttpRequest {
                            operation: Operation::Chat,
                            model: request.model,
                            prompt: request.prompt,
                            max_tokens: request.max_tokens,
                            stream: request.stream,
                            request_bytes: 0,
                        };
                        let arrival = state.client_arrival(config, request.at_ms as f64, &http.model, &http);
                        Arrival { id: request.id, ..arrival }
                    })
                    .collect();
                state.step(t0, t1, true, clients, &mut |exchange| exchanges.push(exchange));
                if (next_scrape as f64) <= t1 && next_scrape <= to_ms {
                    pages.extend(state.replicas.iter().map(|r| {
                        let engine_page = (!r.down).then(|| r.render_engine(next_scrape as f64));
                        (r.info.clone(), engine_page, r.render_dcgm())
                    }));
                    state.last_scrape_ms = Some(next_scrape);
                    Some(next_scrape)
                } else {
                    None
                }
            };
            report.exchanges += exchanges.len() as u64;
            for exchange in exchanges.drain(..) {
                sink.exchange(exchange);
            }
            if let Some(t_ms) = scrape_at {
                for (replica, engine_page, dcgm_page) in pages.drain(..) {
                    sink.scrape(Scrape {
                        t_ms,
                        replica: &replica,
                        engine_page: engine_page.as_deref(),
                        dcgm_page: &dcgm_page,
                    });
                }
                report.scrapes += 1;
                next_scrape += interval;
            }
        }
        report.elapsed = started.elapsed();
        report
    }

    /// Keeps the simulation one step ahead of the clock until `shutdown`:
    /// HTTP requests are served, the config's own traffic generated when
    /// `internal_traffic` is on, and incidents start and end on time.
    pub async fn run(&self, shutdown: CancellationToken) {
        let step = self.config.step.0;
        {
            let mut state = self.state.lock();
            let now = self.clock.now_ms() as f64;
            state.begin(now, &self.config);
        }
        loop {
            let now = self.clock.now_ms();
            self.advance_to(now + step);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.clock.sleep_until((now + step) as f64) => {}
            }
        }
    }

    /// Computes the simulation up to `t_ms` (live traffic per the config).
    pub fn advance_to(&self, t_ms: i64) {
        let t_ms = t_ms as f64;
        let step = self.config.step.0 as f64;
        let internal = self.config.internal_traffic;
        let mut state = self.state.lock();
        let start = t_ms.min(state.now_ms);
        state.begin(start, &self.config);
        let mut exchanges = Vec::new();
        while state.now_ms + step <= t_ms + 0.5 {
            let t0 = state.now_ms;
            state.step(t0, t0 + step, internal, Vec::new(), &mut |exchange| exchanges.push(exchange));
        }
        for exchange in exchanges {
            if state.exchanges.len() >= LIVE_EXCHANGE_CAP {
                state.exchanges.pop_front();
            }
            state.exchanges.push_back(exchange);
        }
    }

    /// Queues an HTTP request on a replica.
    pub(crate) fn accept(&self, replica: &str, request: HttpRequest) -> Option<Accepted> {
        let mut state = self.state.lock();
        let arrival_ms = (self.clock.now_ms() as f64).max(state.now_ms);
        let idx = state.replicas.iter().position(|r| r.info.name == replica && !r.down)?;
        let served = state.replicas[idx].model.name.clone();
        let arrival = state.client_arrival(&self.config, arrival_ms, &served, &request);
        let (tx, rx) = mpsc::unbounded_channel();
        let effects = state.effects(arrival_ms as i64);
        let tokens = state.submit(idx, arrival, Source::Http, Some(tx), request.request_bytes, &effects);
        let prompt_tokens = tokens.1;
        Some(Accepted {
            events: rx,
            tokens: tokens.0,
            prompt_tokens,
            model: state.replicas[idx].model.name.clone(),
            created_s: (arrival_ms / 1000.0) as i64,
        })
    }

    /// Counts a request the handler answered itself (`/v1/models`, errors) on the replica's HTTP stats.
    pub(crate) fn count_http(&self, replica: &str, handler: &'static str, method: &'static str, status: u16) {
        let mut state = self.state.lock();
        if let Some(r) = state.replicas.iter_mut().find(|r| r.info.name == replica && !r.down) {
            r.http.record(handler, method, status, 0.0, 200.0, 0.001);
        }
    }

    /// The model a replica serves.
    pub(crate) fn model_of(&self, replica: &str) -> Option<String> {
        self.state.lock().replicas.iter().find(|r| r.info.name == replica).map(|r| r.model.name.clone())
    }
}

fn build_replicas(config: &SimConfig, now_ms: f64, rng: &Rng) -> Vec<Replica> {
    config
        .replicas
        .iter()
        .enumerate()
        .filter_map(|(i, replica)| {
            let model = config.models.iter().find(|m| m.name == replica.model)?;
            Some(Replica::new(i, replica, model, now_ms, rng.fork(100 + i as u64)))
        })
        .collect()
}

impl State {
    /// A client's request as an arrival at `at_ms`: its answer's length
    /// drawn as the load profile of `served`, the model that answers, draws it.
    fn client_arrival(&mut self, config: &SimConfig, at_ms: f64, served: &str, request: &HttpRequest) -> Arrival {
        let load = config.load_for(served);
        let (median, sigma, default_max) =
            load.map_or((180.0, 0.6, 1024), |l| (l.output_tokens_median, l.output_tokens_sigma, l.max_tokens));
        let output_tokens = self.rng.lognormal(median, sigma).clamp(4.0, 16_000.0) as u32;
        Arrival {
            at_ms,
            model: request.model.clone(),
            operation: request.operation,
            prompt: request.prompt.clone(),
            prompt_tokens: text::count_tokens(&request.prompt) + 24,
            output_tokens,
            max_tokens: request.max_tokens.unwrap_or(default_max).max(1),
            stream: request.stream,
            builtin: text::match_prompt(&request.prompt),
            id: String::new(),
        }
    }

    /// Fixes the simulation's start before the first step.
    fn begin(&mut self, start_ms: f64, config: &SimConfig) {
        if self.started {
            return;
        }
        self.started = true;
        if start_ms < self.now_ms {
            let addresses: Vec<(String, String)> =
                self.replicas.iter().map(|r| (r.info.instance.clone(), r.info.dcgm_instance.clone())).collect();
            self.replicas = build_replicas(config, start_ms, &Rng::new(config.seed));
            for (r, (instance, dcgm)) in self.replicas.iter_mut().zip(addresses) {
                r.info.instance = instance;
                r.info.dcgm_instance = dcgm;
            }
        }
        self.now_ms = start_ms;
    }

    fn effects(&self, t_ms: i64) -> Effects {
        let n = self.replicas.len();
        let mut effects = Effects {
            kv_saturated: vec![false; n],
            overheating: vec![None; n],
            crashed: vec![None; n],
            swapped: vec![false; n],
            leaking: vec![false; n],
            ..Effects::default()
        };
        let replica_idx = |name: &str| self.replicas.iter().position(|r| r.info.name == name);
        for incident in self.incidents.iter().filter(|i| i.is_active(t_ms)) {
            let gpu_target = || {
                let (replica, gpu) = incident.target.split_once('/').unwrap_or((incident.target.as_str(), "gpu0"));
                let gpu = gpu.strip_prefix("gpu").and_then(|g| g.parse::<u32>().ok()).unwrap_or(0);
                replica_idx(replica).map(|idx| (idx, gpu))
            };
            match incident.kind {
                ScenarioKind::KvSaturation => {
                    if let Some(idx) = replica_idx(&incident.target) {
                        effects.kv_saturated[idx] = true;
                    }
                }
                ScenarioKind::ThermalThrottle => {
                    if let Some((idx, gpu)) = gpu_target() {
                        effects.overheating[idx] = Some(gpu);
                    }
                }
                ScenarioKind::XidCrash => {
                    if let Some((idx, gpu)) = gpu_target() {
                        effects.crashed[idx] = Some(gpu);
                    }
                }
                ScenarioKind::ModelSwap => {
                    if let Some(idx) = replica_idx(&incident.target) {
                        effects.swapped[idx] = true;
                    }
                }
                ScenarioKind::PiiLeak => {
                    if let Some(idx) = replica_idx(&incident.target) {
                        effects.leaking[idx] = true;
                    }
                }
                ScenarioKind::TrafficBurst => effects.burst_models.push(incident.target.clone()),
                ScenarioKind::ZoneShift => effects.shifted_zones.push(incident.target.clone()),
            }
        }
        effects
    }

    /// Advances from `t0` to `t1`: the load profile's arrivals when
    /// `traffic`, and `clients`' requests.
    fn step(&mut self, t0: f64, t1: f64, traffic: bool, clients: Vec<Arrival>, emit: &mut dyn FnMut(Exchange)) {
        let effects = self.effects(t0 as i64);
        for (idx, replica) in self.replicas.iter_mut().enumerate() {
            match (replica.down, effects.crashed[idx]) {
                (false, Some(gpu)) => replica.crash(gpu, CRASH_XID),
                (true, None) => replica.restart(t0),
                _ => {}
            }
            let blocks = replica.config.kv_blocks;
            replica.engine.set_usable_blocks(if effects.kv_saturated[idx] { blocks / 5 } else { blocks });
            // A swapped-in model of another size is a little slower per step, within 10 %.
            let slow = if effects.swapped[idx] { 1.06 } else { 1.0 };
            replica.engine.params.decode_base_ms = replica.config.decode_base_ms * slow;
            replica.engine.params.decode_ms_per_seq = replica.config.decode_ms_per_seq * slow;
        }
        if traffic {
            let mut arrivals = std::mem::take(&mut self.arrivals);
            arrivals.clear();
            let factor = |model: &str| if effects.burst_models.iter().any(|m| m == model) { 3.0 } else { 1.0 };
            self.traffic.arrivals(t0, t1, &factor, &mut arrivals);
            for arrival in arrivals.drain(..) {
                match self.route(&arrival.model, &effects) {
                    Some(idx) => {
                        self.submit(idx, arrival, Source::Internal, None, 0, &effects);
                    }
                    None => emit(unavailable(&arrival)),
                }
            }
            self.arrivals = arrivals;
        }
        for arrival in clients {
            match self.route(&arrival.model, &effects) {
                Some(idx) => {
                    self.submit(idx, arrival, Source::Internal, None, 0, &effects);
                }
                None => emit(Exchange { id: arrival.id.clone(), ..unavailable(&arrival) }),
            }
        }
        for (idx, replica) in self.replicas.iter_mut().enumerate() {
            replica.step(t0, t1, effects.overheating[idx]);
            for finished in std::mem::take(&mut replica.finished) {
                if let Some(exchange) = replica.exchange(finished) {
                    emit(exchange);
                }
            }
        }
        self.now_ms = t1;
    }

    /// Picks a replica for a model: a zone by weight (shifted zones get little), then the least loaded replica in it.
    fn route(&mut self, model: &str, effects: &Effects) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.replicas.len())
            .filter(|&i| self.replicas[i].model.name == model && !self.replicas[i].down)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut zones: Vec<&str> = Vec::new();
        for &i in &candidates {
            let zone = self.replicas[i].info.zone.as_str();
            if !zones.contains(&zone) {
                zones.push(zone);
            }
        }
        let weight = |zone: &str| if effects.shifted_zones.iter().any(|z| z == zone) { 0.1 } else { 1.0 };
        let total: f64 = zones.iter().map(|z| weight(z)).sum();
        let mut pick = self.rng.f64() * total;
        let mut zone = zones[zones.len() - 1];
        for z in &zones {
            pick -= weight(z);
            if pick < 0.0 {
                zone = z;
                break;
            }
        }
        candidates
            .into_iter()
            .filter(|&i| self.replicas[i].info.zone == zone)
            .min_by(|&a, &b| self.replicas[a].load().total_cmp(&self.replicas[b].load()))
    }

    /// Writes the answer and queues the request on replica `idx`; returns its tokens and prompt length.
    fn submit(
        &mut self,
        idx: usize,
        arrival: Arrival,
        source: Source,
        events: Option<mpsc::UnboundedSender<Event>>,
        request_bytes: u32,
        effects: &Effects,
    ) -> (Vec<String>, u32) {
        let replica = &mut self.replicas[idx];
        let mut voice = Voice {
            style: replica.model.style,
            refusal_rate: replica.model.refusal_rate,
            wrong_fact_rate: replica.model.wrong_fact_rate,
            pii_rate: replica.model.pii_rate,
        };
        if effects.swapped[idx] {
            voice = Voice { style: Style::Terse, refusal_rate: 0.22, wrong_fact_rate: 0.4, pii_rate: voice.pii_rate };
        }
        if effects.leaking[idx] {
            voice.pii_rate = 0.35;
        }
        let prompt: Option<&'static Prompt> = arrival.builtin;
        let answer = text::answer(prompt, &voice, arrival.output_tokens, &mut replica.rng);
        // Only a live HTTP client needs the answer split into tokens; internal traffic just counts them.
        let tokens: Vec<String> = if events.is_some() {
            text::tokens(&answer.text).into_iter().map(str::to_owned).collect()
        } else {
            Vec::new()
        };
        let n_tokens = text::count_tokens(&answer.text).max(1);
        let (output_tokens, finish) =
            if n_tokens > arrival.max_tokens { (arrival.max_tokens, Finish::Length) } else { (n_tokens, Finish::Stop) };
        let mut prompt_tokens = arrival.prompt_tokens;
        if effects.kv_saturated[idx] {
            // The saturation scenario is a surge of long-context requests.
            prompt_tokens =
                prompt_tokens.saturating_mul(6).min(replica.model.context_len.saturating_sub(output_tokens + 1));
        }
        let cached_tokens = if replica.rng.chance(0.6) { prompt_tokens.saturating_sub(1).min(224) } else { 0 };
        let prompt_text = match arrival.operation {
            Operation::TextCompletion => arrival.prompt.clone(),
            _ => format!("system: You are a helpful assistant.\nuser: {}", arrival.prompt),
        };
        let request_bytes =
            if request_bytes == 0 { 160 + arrival.prompt.len() as u32 + prompt_tokens * 4 } else { request_bytes };
        replica.engine.submit(Job {
            arrival_ms: arrival.at_ms,
            prompt_tokens,
            cached_tokens,
            output_tokens,
            max_tokens: arrival.max_tokens,
            finish,
            stream: arrival.stream,
            events,
            tag: Tag {
                id: arrival.id,
                operation: arrival.operation,
                request_model: arrival.model,
                prompt: prompt_text,
                response: answer.text,
                source,
                request_bytes,
            },
        });
        (tokens, prompt_tokens)
    }
}

/// The exchange of a request no replica could take.
fn unavailable(arrival: &Arrival) -> Exchange {
    Exchange {
        id: String::new(),
        time_ms: arrival.at_ms as i64,
        operation: arrival.operation,
        request_model: arrival.model.clone(),
        response_model: None,
        upstream: String::new(),
        provider: String::new(),
        gateway_key: String::new(),
        user: None,
        session: None,
        stream: arrival.stream,
        status: 503,
        error_type: Some("503".to_owned()),
        finish_reason: None,
        timings: Timings { ttft: None, e2e: std::time::Duration::from_millis(2), gaps: Default::default() },
        usage: None,
        prompt: format!("user: {}", arrival.prompt),
        response: String::new(),
    }
}
