//! The simulator's configuration: the fleet, its traffic and its incidents (`infersight sim --config FILE`).

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::scenario::ScenarioKind;

/// A whole simulated fleet. Parse with [`SimConfig::from_toml`], check with
/// [`SimConfig::validate`]; [`SimConfig::demo`] is the fleet `infersight demo` runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Seed of every random choice: the same seed gives the same simulation.
    pub seed: u64,
    /// Simulated seconds per real second when serving live (1 = real time).
    pub speed: f64,
    /// Length of one simulation step; tokens are timed within a step, arrivals wait for the next one.
    pub step: Millis,
    /// Whether the live simulator generates the load profile's traffic itself
    /// (`infersight sim`), rather than only serving requests sent to it (`infersight demo`).
    pub internal_traffic: bool,
    /// Address every listener binds.
    pub listen_host: IpAddr,
    /// Port of the control listener (`POST /sim/scenario`); 0 picks a free one.
    pub control_port: u16,
    /// The LLMs the fleet serves.
    pub models: Vec<ModelConfig>,
    /// The serving replicas.
    pub replicas: Vec<ReplicaConfig>,
    /// The traffic.
    pub load: LoadConfig,
    /// Incidents on a timeline.
    pub scenarios: Vec<ScenarioConfig>,
    /// Scripted deploys: from a time on, part of one model's traffic asks for another.
    pub deploys: Vec<DeployConfig>,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            seed: 42,
            speed: 1.0,
            step: Millis(50),
            internal_traffic: true,
            listen_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            control_port: 0,
            models: Vec::new(),
            replicas: Vec::new(),
            load: LoadConfig::default(),
            scenarios: Vec::new(),
            deploys: Vec::new(),
        }
    }
}

/// One LLM: its size and how its answers read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Served model name (`model_name` label, the API's `model`).
    pub name: String,
    /// Size of the weights, split evenly over a replica's GPUs.
    pub weights_gib: f64,
    /// Longest context, in tokens.
    pub context_len: u32,
    /// How its answers read.
    pub style: Style,
    /// Share of answers that are refusals.
    pub refusal_rate: f64,
    /// Share of answers that state a wrong fact.
    pub wrong_fact_rate: f64,
    /// Share of answers that contain an email address or phone number
    /// (none by default: a leak is what the `pii_leak` incident stages).
    pub pii_rate: f64,
}

impl Default for ModelConfig {
    fn default() -> ModelConfig {
        ModelConfig {
            name: String::new(),
            weights_gib: 15.0,
            context_len: 32_768,
            style: Style::Friendly,
            refusal_rate: 0.02,
            wrong_fact_rate: 0.03,
            pii_rate: 0.0,
        }
    }
}

/// The voice of a model's answers, so that a swapped model reads differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// Warm, with an opener and a closing offer.
    Friendly,
    /// Short and factual.
    Concise,
    /// Structured, with numbered points.
    Formal,
    /// Clipped and low-effort (what a silently swapped, weaker model sounds like).
    Terse,
}

/// Which serving engine a replica imitates, on the API and on `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// vLLM (V1 engine, 0.33-style metrics).
    Vllm,
    /// SGLang (0.5-style metrics).
    Sglang,
}

impl EngineKind {
    /// `"vllm"` or `"sglang"`: the `serving_engine` label and the exchange's provider.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Vllm => "vllm",
            EngineKind::Sglang => "sglang",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One serving replica: an engine process on its own node with 1–8 GPUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicaConfig {
    /// Unique name (the gateway upstream's name, the exchange's `upstream`).
    pub name: String,
    /// Engine imitated.
    pub engine: EngineKind,
    /// Model served (a `[[models]] name`).
    pub model: String,
    /// Availability zone (`availability_zone` label).
    pub zone: String,
    /// Port of the OpenAI API and engine `/metrics`; 0 picks a free one.
    pub port: u16,
    /// Port of the DCGM exporter for this replica's node; 0 picks a free one.
    pub dcgm_port: u16,
    /// GPUs (tensor parallel), 1–8.
    pub gpus: u32,
    /// Most sequences in the running batch.
    pub max_batch: u32,
    /// KV-cache blocks of 16 tokens.
    pub kv_blocks: u32,
    /// Most tokens one engine iteration processes (prefill budget).
    pub max_batched_tokens: u32,
    /// Prefill cost per uncached prompt token.
    pub prefill_ms_per_token: f64,
    /// Fixed cost of one engine iteration.
    pub decode_base_ms: f64,
    /// Added iteration cost per running sequence.
    pub decode_ms_per_seq: f64,
    /// How long a request waits in the queue before its client gives up.
    pub queue_timeout: Millis,
}

impl Default for ReplicaConfig {
    fn default() -> ReplicaConfig {
        ReplicaConfig {
            name: String::new(),
            engine: EngineKind::Vllm,
            model: String::new(),
            zone: "us-east-1a".to_owned(),
            port: 0,
            dcgm_port: 0,
            gpus: 1,
            max_batch: 64,
            kv_blocks: 8_192,
            max_batched_tokens: 8_192,
            prefill_ms_per_token: 0.04,
            decode_base_ms: 9.0,
            decode_ms_per_seq: 0.18,
            queue_timeout: Millis(120_000),
        }
    }
}

/// Traffic: one profile per model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadConfig {
    /// Per-model request streams.
    pub models: Vec<ModelLoad>,
}

/// Requests for one model: rate with a daily curve, prompt and answer lengths, streaming share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelLoad {
    /// Model asked for.
    pub model: String,
    /// Mean requests per second over a day.
    pub rate_per_s: f64,
    /// Daily swing: rate × (1 + amplitude · sin(2π (t − peak + 6h) / 24h)).
    pub diurnal_amplitude: f64,
    /// Hour of the day (UTC) at which the rate peaks.
    pub peak_hour_utc: f64,
    /// Relative standard deviation of the slowly wandering rate noise.
    pub noise: f64,
    /// Median prompt length in tokens (log-normal).
    pub prompt_tokens_median: f64,
    /// Log-space spread of prompt lengths.
    pub prompt_tokens_sigma: f64,
    /// Median answer length in tokens (log-normal).
    pub output_tokens_median: f64,
    /// Log-space spread of answer lengths.
    pub output_tokens_sigma: f64,
    /// `max_tokens` sent with each request; longer answers stop with `length`.
    pub max_tokens: u32,
    /// Share of requests that stream.
    pub stream_share: f64,
    /// Share of requests sent to `/v1/completions` rather than `/v1/chat/completions`.
    pub completions_share: f64,
}

impl Default for ModelLoad {
    fn default() -> ModelLoad {
        ModelLoad {
            model: String::new(),
            rate_per_s: 1.0,
            diurnal_amplitude: 0.4,
            peak_hour_utc: 15.0,
            noise: 0.1,
            prompt_tokens_median: 600.0,
            prompt_tokens_sigma: 0.8,
            output_tokens_median: 180.0,
            output_tokens_sigma: 0.6,
            max_tokens: 1024,
            stream_share: 0.8,
            completions_share: 0.05,
        }
    }
}

/// One incident on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioConfig {
    /// What happens.
    pub name: ScenarioKind,
    /// What it happens to: a replica (`vllm-llama-a`), a GPU (`vllm-llama-a/gpu0`),
    /// a model (traffic_burst) or a zone (zone_shift).
    pub target: String,
    /// When it starts, relative to the fleet's anchor (the start of live serving):
    /// `"-3h"` is three hours before, in the backfilled history.
    pub start: Millis,
    /// How long it lasts.
    pub duration: Millis,
}

/// A scripted deploy: from `start` on, a share of the requests for `model`
/// ask for `to` instead (a canary, or a cheaper build taking part of the
/// traffic), with the same prompts and answer lengths. `infersight demo`
/// writes a deploy marker (an annotation) at `start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// The model whose traffic moves (a `[[models]]` name with a load profile).
    pub model: String,
    /// The model it moves to (a `[[models]]` name).
    pub to: String,
    /// Share of `model`'s requests that ask for `to` from `start` on, 0 to 1.
    pub share: f64,
    /// When it happens, relative to the fleet's anchor, as a scenario's start.
    pub start: Millis,
    /// The deploy marker's text.
    #[serde(default)]
    pub text: String,
}

/// A signed duration in milliseconds, written like Prometheus durations: `"15s"`, `"10m"`, `"-2h30m"`, `"500ms"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Millis(pub i64);

impl Millis {
    /// Parses `"10m"`, `"-3h"`, `"1h30m"`, `"250ms"`, `"2d"`, or a bare number of milliseconds.
    ///
    /// # Errors
    ///
    /// [`Error::Duration`] for anything else.
    pub fn parse(text: &str) -> Result<Millis> {
        let invalid = || Error::Duration { text: text.to_owned() };
        let trimmed = text.trim();
        let (negative, mut rest) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if rest.is_empty() {
            return Err(invalid());
        }
        if let Ok(ms) = rest.parse::<i64>() {
            return Ok(Millis(if negative { -ms } else { ms }));
        }
        let mut total: i64 = 0;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
            if digits == 0 {
                return Err(invalid());
            }
            let number: i64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(invalid()),
            };
            total = total.checked_add(number.checked_mul(unit).ok_or_else(invalid)?).ok_or_else(invalid)?;
            rest = &rest[unit_len..];
        }
        Ok(Millis(if negative { -total } else { total }))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, ms) = if self.0 < 0 { ("-", -self.0) } else { ("", self.0) };
        for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
            if ms != 0 && ms % size == 0 {
                return write!(f, "{sign}{}{unit}", ms / size);
            }
        }
        write!(f, "{sign}{ms}ms")
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Millis, D::Error> {
        let text = String::deserialize(d)?;
        Millis::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl SimConfig {
    /// Reads a TOML config file's text.
    ///
    /// # Errors
    ///
    /// [`Error::ParseConfig`] when the text is not a sim config (unknown keys included);
    /// [`Error::Config`] when it is one but inconsistent.
    pub fn from_toml(text: &str) -> Result<SimConfig> {
        let config: SimConfig = toml::from_str(text).map_err(|source| Error::ParseConfig { source })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the fleet hangs together and reports every problem at once.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing each problem with its key path.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if !(self.speed.is_finite() && self.speed > 0.0) {
            problems.push(format!("speed: must be a positive number, got {}", self.speed));
        }
        if self.step.0 <= 0 || self.step.0 > 1_000 {
            problems.push(format!("step: must be between 1ms and 1s, got {}", self.step));
        }
        let mut model_names = HashSet::new();
        for (i, model) in self.models.iter().enumerate() {
            if model.name.is_empty() {
                problems.push(format!("models[{i}].name: must not be empty"));
            }
            if !model_names.insert(model.name.as_str()) {
                problems.push(format!("models[{i}].name: {:?} is defined twice", model.name));
            }
            for (key, rate) in [
                ("refusal_rate", model.refusal_rate),
                ("wrong_fact_rate", model.wrong_fact_rate),
                ("pii_rate", model.pii_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    problems.push(format!("models[{i}].{key}: must be between 0 and 1, got {rate}"));
                }
            }
        }
        let mut replica_names = HashSet::new();
        let mut zones = HashSet::new();
        for (i, replica) in self.replicas.iter().enumerate() {
            if replica.name.is_empty() || replica.name.contains('/') {
                problems.push(format!("replicas[{i}].name: must be non-empty and without '/', got {:?}", replica.name));
            }
            if !replica_names.insert(replica.name.as_str()) {
                problems.push(format!("replicas[{i}].name: {:?} is defined twice", replica.name));
            }
            if !model_names.contains(replica.model.as_str()) {
                problems.push(format!("replicas[{i}].model: {:?} is not a [[models]] name", replica.model));
            }
            zones.insert(replica.zone.as_str());
            if !(1..=8).contains(&replica.gpus) {
                problems.push(format!("replicas[{i}].gpus: must be 1 to 8, got {}", replica.gpus));
            }
            if replica.max_batch == 0 {
                problems.push(format!("replicas[{i}].max_batch: must be at least 1"));
            }
            if replica.kv_blocks < 64 {
                problems.push(format!("replicas[{i}].kv_blocks: must be at least 64, got {}", replica.kv_blocks));
            }
            if replica.max_batched_tokens < 256 {
                problems.push(format!("replicas[{i}].max_batched_tokens: must be at least 256"));
            }
            for (key, value) in [
                ("prefill_ms_per_token", replica.prefill_ms_per_token),
                ("decode_base_ms", replica.decode_base_ms),
                ("decode_ms_per_seq", replica.decode_ms_per_seq),
            ] {
                if !(value.is_finite() && value >= 0.0) {
                    problems.push(format!("replicas[{i}].{key}: must be a non-negative number, got {value}"));
                }
            }
            if replica.decode_base_ms <= 0.0 {
                problems.push(format!("replicas[{i}].decode_base_ms: must be positive"));
            }
        }
        for (i, load) in self.load.models.iter().enumerate() {
            if !model_names.contains(load.model.as_str()) {
                problems.push(format!("load.models[{i}].model: {:?} is not a [[models]] name", load.model));
            }
            if !(load.rate_per_s.is_finite() && load.rate_per_s >= 0.0) {
                problems.push(format!("load.models[{i}].rate_per_s: must be a non-negative number"));
            }
            if !(0.0..=1.0).contains(&load.diurnal_amplitude) {
                problems.push(format!("load.models[{i}].diurnal_amplitude: must be between 0 and 1"));
            }
            if !(0.0..=1.0).contains(&load.stream_share) || !(0.0..=1.0).contains(&load.completions_share) {
                problems.push(format!("load.models[{i}]: stream_share and completions_share must be between 0 and 1"));
            }
            if load.max_tokens == 0 {
                problems.push(format!("load.models[{i}].max_tokens: must be at least 1"));
            }
        }
        for (i, scenario) in self.scenarios.iter().enumerate() {
            if scenario.duration.0 <= 0 {
                problems.push(format!("scenarios[{i}].duration: must be positive"));
            }
            if let Err(err) = scenario.name.check_target(&scenario.target, self) {
                problems.push(format!("scenarios[{i}].target: {err}"));
            }
        }
        for (i, deploy) in self.deploys.iter().enumerate() {
            if !self.load.models.iter().any(|l| l.model == deploy.model) {
                problems.push(format!("deploys[{i}].model: {:?} has no load.models profile", deploy.model));
            }
            if !model_names.contains(deploy.to.as_str()) || deploy.to == deploy.model {
                problems.push(format!("deploys[{i}].to: {:?} is not another [[models]] name", deploy.to));
            }
            if !(0.0..=1.0).contains(&deploy.share) {
                problems.push(format!("deploys[{i}].share: must be between 0 and 1, got {}", deploy.share));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(Error::Config { problems }) }
    }

    /// The load profile a request for `model` is drawn from: its own, or
    /// that of the model a deploy moves traffic from to it.
    pub fn load_for(&self, model: &str) -> Option<&ModelLoad> {
        self.load.models.iter().find(|l| l.model == model).or_else(|| {
            let from = self.deploys.iter().find(|d| d.to == model)?;
            self.load.models.iter().find(|l| l.model == from.model)
        })
    }
}
