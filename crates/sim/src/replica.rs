//! One simulated replica: an engine process, the GPUs of its node, and what both report.

use std::time::Duration;

use inference::{Exchange, Operation, Timings, Usage};
use serde::Serialize;

use crate::config::{EngineKind, ModelConfig, ReplicaConfig};
use crate::engine::{BLOCK_SIZE, Engine, EngineParams, Finish, Finished, IterationReport, Observer};
use crate::gpu::{self, Gpu, Load};
use crate::render::sglang::{self, SglangGauges, SglangStats};
use crate::render::vllm::{self, VllmGauges, VllmStats};
use crate::render::{HttpStats, ProcessInfo, dcgm};
use crate::rng::Rng;

/// Who a replica is: what a scrape target or an upstream is called.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaInfo {
    /// Replica name (gateway upstream name).
    pub name: String,
    /// Engine imitated.
    pub engine: EngineKind,
    /// Model served.
    pub model: String,
    /// Availability zone (`availability_zone` label).
    pub zone: String,
    /// `host:port` of the OpenAI API and engine `/metrics` (the scrape `instance`).
    pub instance: String,
    /// `host:port` of the node's DCGM exporter.
    pub dcgm_instance: String,
    /// Node name (`Hostname` on the DCGM page).
    pub hostname: String,
    /// Number of GPUs.
    pub gpus: u32,
}

/// Where a request came from, which decides who hears about it when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The simulator's own traffic: it becomes an exchange.
    Internal,
    /// A client over HTTP: the client measures it (the gateway, in the demo).
    Http,
}

/// What rides with a request through the engine.
#[derive(Debug)]
pub(crate) struct Tag {
    /// The exchange's id: a client request's own, empty for the load profile's.
    pub(crate) id: String,
    pub(crate) operation: Operation,
    pub(crate) request_model: String,
    pub(crate) prompt: String,
    pub(crate) response: String,
    pub(crate) source: Source,
    pub(crate) request_bytes: u32,
}

#[derive(Debug)]
pub(crate) enum Stats {
    Vllm(Box<VllmStats>),
    Sglang(Box<SglangStats>),
}

impl Stats {
    fn new(engine: EngineKind) -> Stats {
        match engine {
            EngineKind::Vllm => Stats::Vllm(Box::new(VllmStats::new())),
            EngineKind::Sglang => Stats::Sglang(Box::new(SglangStats::new())),
        }
    }
}

/// A replica and its node.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) info: ReplicaInfo,
    pub(crate) config: ReplicaConfig,
    pub(crate) model: ModelConfig,
    pub(crate) engine: Engine<Tag>,
    pub(crate) gpus: Vec<Gpu>,
    pub(crate) stats: Stats,
    pub(crate) http: HttpStats,
    pub(crate) process: ProcessInfo,
    pub(crate) down: bool,
    pub(crate) finished: Vec<Finished<Tag>>,
    pub(crate) gen_throughput: f64,
    pub(crate) rng: Rng,
    occupancy_sum: f64,
}

/// KV bytes per token per GPU, roughly Llama-8B's (GQA, fp16).
const KV_MIB_PER_TOKEN: f64 = 0.125;

impl Replica {
    pub(crate) fn new(index: usize, config: &ReplicaConfig, model: &ModelConfig, now_ms: f64, rng: Rng) -> Replica {
        let mut rng = rng;
        let hostname = format!("ip-10-0-{}-{}", 40 + index / 200, 17 + index % 200);
        let port = if config.port == 0 { 8000 + index as u16 } else { config.port };
        let dcgm_port = if config.dcgm_port == 0 { 9400 + index as u16 } else { config.dcgm_port };
        let info = ReplicaInfo {
            name: config.name.clone(),
            engine: config.engine,
            model: model.name.clone(),
            zone: config.zone.clone(),
            instance: format!("127.0.0.1:{port}"),
            dcgm_instance: format!("127.0.0.1:{dcgm_port}"),
            hostname,
            gpus: config.gpus,
        };
        let weights_mib = model.weights_gib * 1024.0 / f64::from(config.gpus);
        let host_seed = rng.next_u64();
        let gpus = (0..config.gpus).map(|i| Gpu::new(i, host_seed, weights_mib, &mut rng)).collect();
        Replica {
            info,
            config: config.clone(),
            model: model.clone(),
            engine: Engine::new(EngineParams::from_config(config), now_ms),
            gpus,
            stats: Stats::new(config.engine),
            http: HttpStats::new(),
            process: ProcessInfo { start_s: now_ms / 1000.0 - 3600.0, pid: 2000 + rng.below(30_000) as u32 },
            down: false,
            finished: Vec::new(),
            gen_throughput: 0.0,
            rng,
            occupancy_sum: 0.0,
        }
    }

    /// Outstanding work relative to capacity, for routing.
    pub(crate) fn load(&self) -> f64 {
        (self.engine.running() + self.engine.waiting()) as f64 / f64::from(self.config.max_batch.max(1))
    }

    /// Runs the engine through `[from_ms, to_ms)` and moves the GPUs along.
    pub(crate) fn step(&mut self, from_ms: f64, to_ms: f64, overheating: Option<u32>) {
        let slowdown = self.gpus.iter().map(Gpu::slowdown).fold(1.0, f64::max);
        if self.down {
            self.engine.idle_until(to_ms);
        } else {
            let params_b = self.model.weights_gib / 2.0 / f64::from(self.config.gpus);
            let mut observer = Collect { stats: &mut self.stats, finished: &mut self.finished, params_b };
            self.engine.run_until(to_ms, slowdown, &mut observer);
            self.occupancy_sum = self.engine.running() as f64 / f64::from(self.config.max_batch.max(1));
        }
        let dt_ms = (to_ms - from_ms).max(1.0);
        let (busy_ms, tokens) = self.engine.take_activity();
        let busy = (busy_ms / dt_ms).min(1.0);
        let occupancy = self.occupancy_sum.min(1.0);
        let kv_mib = f64::from(self.engine.used_blocks() * BLOCK_SIZE) * KV_MIB_PER_TOKEN / f64::from(self.config.gpus);
        for gpu in &mut self.gpus {
            let load = Load {
                busy: busy * (0.55 + 0.45 * occupancy.sqrt()),
                kv_mib,
                overheating: overheating == Some(gpu.index),
                engine_down: self.down,
            };
            gpu.step(dt_ms / 1000.0, load, &mut self.rng);
        }
        let instant = tokens as f64 / (dt_ms / 1000.0);
        self.gen_throughput += (instant - self.gen_throughput) * (1.0 - (-dt_ms / 5_000.0).exp());
    }

    /// The engine process dies: in-flight requests fail, the GPU reports `xid`.
    pub(crate) fn crash(&mut self, gpu: u32, xid: u32) {
        let mut observer = Collect { stats: &mut self.stats, finished: &mut self.finished, params_b: 0.0 };
        self.engine.crash(&mut observer);
        self.down = true;
        if let Some(gpu) = self.gpus.get_mut(gpu as usize) {
            gpu.xid = xid;
        }
    }

    /// A new engine process starts: counters from zero, new start time.
    pub(crate) fn restart(&mut self, now_ms: f64) {
        self.down = false;
        self.stats = Stats::new(self.config.engine);
        self.http = HttpStats::new();
        self.process.start_s = now_ms / 1000.0;
        self.process.pid += 1;
        self.gen_throughput = 0.0;
        for gpu in &mut self.gpus {
            gpu.xid = 0;
        }
    }

    /// The engine's `/metrics` page at `now_ms`.
    pub(crate) fn render_engine(&self, now_ms: f64) -> String {
        match &self.stats {
            Stats::Vllm(stats) => vllm::render(
                &self.model.name,
                stats,
                VllmGauges {
                    running: self.engine.running(),
                    waiting: self.engine.waiting(),
                    kv_usage: self.engine.kv_usage(),
                    num_gpu_blocks: self.config.kv_blocks,
                },
                &self.http,
                &self.process,
                now_ms / 1000.0,
            ),
            Stats::Sglang(stats) => sglang::render(
                &self.model.name,
                stats,
                SglangGauges {
                    running: self.engine.running(),
                    waiting: self.engine.waiting(),
                    used_tokens: u64::from(self.engine.used_blocks() * BLOCK_SIZE),
                    max_total_tokens: u64::from(self.engine.usable_blocks() * BLOCK_SIZE),
                    gen_throughput: self.gen_throughput,
                    weights_gb: self.model.weights_gib * 1.073_741_824 / f64::from(self.config.gpus),
                    kv_cache_gb: f64::from(self.config.kv_blocks * BLOCK_SIZE) * KV_MIB_PER_TOKEN
                        / 1024.0
                        / f64::from(self.config.gpus),
                    context_len: self.model.context_len,
                    pid: self.process.pid,
                },
                &self.http,
            ),
        }
    }

    /// The node's DCGM exporter page.
    pub(crate) fn render_dcgm(&self) -> String {
        dcgm::render(&self.info.hostname, &self.gpus)
    }

    /// Turns a finished request into the exchange a gateway in front of this replica would have recorded,
    /// and counts it on the engine's HTTP server.
    pub(crate) fn exchange(&mut self, mut finished: Finished<Tag>) -> Option<Exchange> {
        let response = std::mem::take(&mut finished.job.tag.response);
        let id = std::mem::take(&mut finished.job.tag.id);
        let tag = &finished.job.tag;
        let handler = match tag.operation {
            Operation::TextCompletion => "/v1/completions",
            _ => "/v1/chat/completions",
        };
        let ok = matches!(finished.finish, Finish::Stop | Finish::Length);
        let stream = finished.job.stream;
        let (status, error_type) = match finished.finish {
            Finish::Stop | Finish::Length => (200, None),
            Finish::Abort => (504, Some("timeout".to_owned())),
            Finish::Error if stream && finished.generated > 0 => (200, Some("stream_interrupted".to_owned())),
            Finish::Error => (502, Some("502".to_owned())),
        };
        let response = if finished.generated >= finished.job.output_tokens && finished.job.finish == Finish::Stop {
            response
        } else {
            crate::text::tokens(&response).into_iter().take(finished.generated as usize).collect()
        };
        if finished.finish != Finish::Error {
            // A dead process counts nothing; a timed-out client shows as a 200 that was cut short.
            let response_bytes =
                if stream { 180.0 * f64::from(finished.generated + 2) } else { 320.0 + response.len() as f64 };
            let status_seen = if finished.finish == Finish::Abort { 200 } else { status };
            self.http.record(
                handler,
                "POST",
                status_seen,
                f64::from(tag.request_bytes),
                response_bytes,
                finished.e2e_s(),
            );
        }
        if tag.source != Source::Internal {
            return None;
        }
        let ttft = if stream { finished.ttft_s().map(Duration::from_secs_f64) } else { None };
        Some(Exchange {
            id,
            time_ms: finished.job.arrival_ms as i64,
            operation: tag.operation,
            request_model: tag.request_model.clone(),
            response_model: ok.then(|| self.model.name.clone()),
            upstream: self.info.name.clone(),
            provider: self.info.engine.as_str().to_owned(),
            gateway_key: String::new(),
            user: None,
            session: None,
            stream,
            status,
            error_type,
            finish_reason: ok.then(|| finished.finish.as_str().to_owned()),
            timings: Timings {
                ttft,
                e2e: Duration::from_secs_f64(finished.e2e_s()),
                gaps: if stream { finished.gaps } else { Default::default() },
            },
            usage: ok.then_some(Usage {
                input_tokens: u64::from(finished.job.prompt_tokens),
                output_tokens: u64::from(finished.generated),
            }),
            prompt: std::mem::take(&mut finished.job.tag.prompt),
            response,
        })
    }
}

/// Routes what the engine measures into the replica's stats and its finished list.
struct Collect<'a> {
    stats: &'a mut Stats,
    finished: &'a mut Vec<Finished<Tag>>,
    params_b: f64,
}

impl Observer<Tag> for Collect<'_> {
    fn iteration(&mut self, report: &IterationReport) {
        match self.stats {
            Stats::Vllm(stats) => stats.iteration(report, self.params_b),
            Stats::Sglang(stats) => stats.iteration(report),
        }
    }

    fn token_gap(&mut self, gap_s: f64) {
        match self.stats {
            Stats::Vllm(stats) => stats.token_gap(gap_s),
            Stats::Sglang(stats) => stats.token_gap(gap_s),
        }
    }

    fn finished(&mut self, finished: Finished<Tag>) {
        match self.stats {
            Stats::Vllm(stats) => stats.finished(&finished),
            Stats::Sglang(stats) => stats.finished(&finished),
        }
        self.finished.push(finished);
    }
}

/// SM clock of a GPU at full speed, for tests and docs.
pub const NOMINAL_SM_CLOCK_MHZ: f64 = gpu::SM_CLOCK_MAX_MHZ;
