//! The online quality pipeline: sampling, redaction, storage and scoring of live exchanges.
//!
//! Exchanges arrive from the gateway on a bounded channel (the gateway
//! drops and counts when it is full, so scoring never slows traffic). Each
//! one is scored on a blocking thread by the deterministic scorers of crate
//! `quality`; its scores become `gen_ai_evaluation_score` and
//! `infersight_quality_flagged_total` observations. The [`sampler`] then
//! decides whether the exchange is kept: every error and every flagged
//! exchange, plus a share of the rest, within a per-model budget per minute.
//! A kept exchange is [`quality::redact`]ed and written with its scores to the
//! records store. On a schedule, [`drift`] compares each model's current
//! window of stored exchanges with its baseline window.
#![warn(missing_docs)]

pub mod drift;
pub mod judging;
mod metrics;
pub mod sampler;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use metrics::Metrics;
pub use worker::Pipeline;

/// What the pipeline does with the text of a kept exchange.
#[derive(Debug, Clone)]
pub enum TextPolicy {
    /// Keep it, with PII and secrets replaced by their type (`[EMAIL_ADDRESS]`)
    /// and every match of these extra patterns by `[REDACTED]`.
    Redacted {
        /// Extra patterns to redact.
        patterns: Vec<regex::Regex>,
    },
    /// Keep no text at all: the records hold timings, tokens and scores only.
    None,
}

/// The pipeline's settings (`[quality]` in the configuration file).
#[derive(Debug, Clone)]
pub struct Config {
    /// Share of successful exchanges scored (failed ones always are); the
    /// rest pass by unscored. Lower it when traffic outgrows the scorers.
    pub score_rate: f64,
    /// Share of successful, unflagged exchanges kept, per model unless
    /// `model_rates` names it.
    pub sample_rate: f64,
    /// Sample rates of particular models.
    pub model_rates: HashMap<String, f64>,
    /// Most exchanges kept per model per minute, errors and flagged ones included.
    pub budget_per_minute: u32,
    /// What to keep of the text.
    pub text: TextPolicy,
    /// Distinct model names with their own label value; later ones are `_other`.
    pub model_label_cap: usize,
    /// How often, how wide and against what the drift test runs.
    pub drift: drift::Schedule,
    /// Thresholds of scorers' labels that override their defaults, by
    /// scorer name (the learned scorers' defaults were chosen for F1).
    pub thresholds: HashMap<String, f64>,
    /// The LLM judges and what they judge.
    pub judges: Vec<judging::JudgeSetup>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            score_rate: 1.0,
            sample_rate: 0.1,
            model_rates: HashMap::new(),
            budget_per_minute: 600,
            text: TextPolicy::Redacted { patterns: Vec::new() },
            model_label_cap: 100,
            drift: drift::Schedule::default(),
            thresholds: HashMap::new(),
            judges: Vec::new(),
        }
    }
}

/// The shared parts the pipeline's tasks hold.
#[derive(Debug)]
struct Shared {
    config: Config,
    scorers: quality::Registry,
    pub(crate) store: Arc<records::Store>,
    metrics: Metrics,
}

/// How long the drift task waits before its first run, so a starting server
/// is not slowed by it.
const DRIFT_FIRST_RUN: Duration = Duration::from_secs(60);
