//! Traffic: per-model request streams with a daily curve and wandering noise, and the requests they send.

use inference::Operation;
use serde::Serialize;

use crate::config::ModelLoad;
use crate::rng::Rng;
use crate::scenario::Deploy;
use crate::text::{self, Prompt};

const DAY_MS: f64 = 86_400_000.0;
/// Correlation time of the rate noise.
const NOISE_TAU_MS: f64 = 600_000.0;

/// One request the load generator sends.
#[derive(Debug, Clone, Serialize)]
pub struct Arrival {
    /// When it is sent (simulated Unix milliseconds).
    pub at_ms: f64,
    /// Model asked for.
    pub model: String,
    /// Chat or text completion.
    pub operation: Operation,
    /// The user's question (sent as the user message, or as the completion prompt).
    pub prompt: String,
    /// Prompt length in tokens, system prompt and context included.
    pub prompt_tokens: u32,
    /// Answer length the simulated model aims for.
    pub output_tokens: u32,
    /// `max_tokens` of the request.
    pub max_tokens: u32,
    /// Whether it streams.
    pub stream: bool,
    #[serde(skip)]
    pub(crate) builtin: Option<&'static Prompt>,
    /// The id its exchange comes back with: a backfill client's request's
    /// own ([`crate::ClientRequest::id`]), empty for the load profile's.
    #[serde(skip)]
    pub(crate) id: String,
}

impl Arrival {
    /// The request body the load generator posts: OpenAI chat or completions JSON,
    /// with `stream_options.include_usage` on streams.
    pub fn body(&self) -> serde_json::Value {
        let mut body = match self.operation {
            Operation::TextCompletion => serde_json::json!({
                "model": self.model,
                "prompt": self.prompt,
                "max_tokens": self.max_tokens,
                "stream": self.stream,
            }),
            _ => serde_json::json!({
                "model": self.model,
                "messages": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": self.prompt},
                ],
                "max_tokens": self.max_tokens,
                "stream": self.stream,
            }),
        };
        if self.stream {
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        body
    }

    /// The API path it is posted to.
    pub fn path(&self) -> &'static str {
        match self.operation {
            Operation::TextCompletion => "/v1/completions",
            _ => "/v1/chat/completions",
        }
    }
}

/// The request streams of all models, advanced through time.
#[derive(Debug, Clone)]
pub(crate) struct Traffic {
    loads: Vec<ModelLoad>,
    /// Log-rate noise per model (an Ornstein–Uhlenbeck process).
    noise: Vec<f64>,
    rng: Rng,
    /// Deploys that move part of a model's requests to another model.
    deploys: Vec<Deploy>,
    /// Draws which requests a deploy moves, apart from `rng`, so that a
    /// deploy leaves every other random choice as it was.
    split: Rng,
}

impl Traffic {
    pub(crate) fn new(loads: &[ModelLoad], deploys: &[Deploy], rng: Rng) -> Traffic {
        let split = rng.fork(7);
        Traffic { loads: loads.to_vec(), noise: vec![0.0; loads.len()], rng, deploys: deploys.to_vec(), split }
    }

    /// Mean request rate of model `idx` at `t_ms`, before noise and scenarios.
    pub(crate) fn base_rate(load: &ModelLoad, t_ms: f64) -> f64 {
        let hours = (t_ms.rem_euclid(DAY_MS)) / 3_600_000.0;
        let phase = std::f64::consts::TAU * (hours - load.peak_hour_utc + 6.0) / 24.0;
        (load.rate_per_s * (1.0 + load.diurnal_amplitude * phase.sin())).max(0.0)
    }

    /// Appends the requests sent in `[from_ms, to_ms)`, in time order per model;
    /// `factor(model)` multiplies each model's rate (bursts).
    pub(crate) fn arrivals(&mut self, from_ms: f64, to_ms: f64, factor: &dyn Fn(&str) -> f64, out: &mut Vec<Arrival>) {
        let dt = (to_ms - from_ms).max(0.0);
        for idx in 0..self.loads.len() {
            let load = &self.loads[idx];
            let decay = dt / NOISE_TAU_MS;
            let x = self.noise[idx];
            self.noise[idx] = x - x * decay + load.noise * (2.0 * decay).sqrt() * self.rng.normal();
            let rate = Traffic::base_rate(load, from_ms) * self.noise[idx].exp() * factor(&load.model);
            let n = self.rng.poisson(rate * dt / 1000.0);
            let start = out.len();
            for _ in 0..n {
                let at_ms = from_ms + self.rng.f64() * dt;
                let mut arrival = request(load, at_ms, &mut self.rng);
                if let Some(deploy) = self.deploys.iter().find(|d| d.model == load.model && at_ms >= d.at_ms as f64)
                    && self.split.chance(deploy.share)
                {
                    arrival.model.clone_from(&deploy.to);
                }
                out.push(arrival);
            }
            out[start..].sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        }
    }
}

fn request(load: &ModelLoad, at_ms: f64, rng: &mut Rng) -> Arrival {
    let prompt = text::pick_prompt(rng);
    let prompt_tokens = rng.lognormal(load.prompt_tokens_median, load.prompt_tokens_sigma).clamp(8.0, 30_000.0) as u32;
    let output_tokens = rng.lognormal(load.output_tokens_median, load.output_tokens_sigma).clamp(4.0, 16_000.0) as u32;
    let operation = if rng.chance(load.completions_share) { Operation::TextCompletion } else { Operation::Chat };
    Arrival {
        at_ms,
        model: load.model.clone(),
        operation,
        prompt: prompt.text.to_owned(),
        prompt_tokens,
        output_tokens,
        max_tokens: load.max_tokens,
        stream: rng.chance(load.stream_share),
        builtin: Some(prompt),
        id: String::new(),
    }
}
