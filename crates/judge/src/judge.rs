//! A judge: one OpenAI-compatible endpoint and model, its rubrics, budget,
//! concurrency and cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Semaphore;
use tracing::debug;

use crate::client::{self, Completion, Endpoint};
use crate::verdict::{self, Verdict};
use crate::{Budget, Failure, Input, Limits, Metrics, Price, Rubric};

/// Verdicts already given, by [`Judge::cache_key`]: re-judging the same
/// inputs with the same rubric version and judge model costs no call.
pub trait Cache: Send + Sync + std::fmt::Debug {
    /// The verdict stored under `key`.
    fn get(&self, key: u64) -> Option<Verdict>;
    /// Stores `verdict` under `key`, judged at `now_ms`; a failure to store
    /// is the cache's to count, never the judgement's.
    fn put(&self, key: u64, verdict: &Verdict, now_ms: i64);
}

/// A [`Cache`] in memory, for tests and for running without a records store.
#[derive(Debug, Default)]
pub struct MemoryCache(Mutex<HashMap<u64, Verdict>>);

impl Cache for MemoryCache {
    fn get(&self, key: u64) -> Option<Verdict> {
        self.0.lock().get(&key).cloned()
    }

    fn put(&self, key: u64, verdict: &Verdict, _now_ms: i64) {
        self.0.lock().insert(key, verdict.clone());
    }
}

/// A judge's settings (`[[quality.judge]]`).
#[derive(Clone)]
pub struct JudgeConfig {
    /// Its name, the `judge` label of its metrics.
    pub name: String,
    /// Base URL of the OpenAI-compatible API, as OpenAI's `base_url`, with
    /// the `/v1` (`http://vllm:8000/v1`).
    pub url: String,
    /// The judge model.
    pub model: String,
    /// Bearer token, if the endpoint wants one.
    pub api_key: Option<String>,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Longest wait for one judgement, retries included.
    pub timeout: Duration,
    /// Tries after the first on 429, 5xx and broken connections.
    pub retries: u32,
    /// Hard limits.
    pub limits: Limits,
    /// The judge model's price, for the dollar limit and cost.
    pub price: Option<Price>,
    /// Ask for JSON output (`response_format: json_object`).
    pub json_mode: bool,
}

impl std::fmt::Debug for JudgeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudgeConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// How one judgement ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A verdict.
    Judged(Judged),
    /// None, and why.
    Failed(Failure),
}

/// A verdict and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// What the judge said.
    pub verdict: Verdict,
    /// From the cache: no call was made.
    pub cached: bool,
    /// Tokens of the call (0 when cached).
    pub input_tokens: u64,
    /// Tokens of the answer (0 when cached).
    pub output_tokens: u64,
    /// What the call cost, where a price is configured.
    pub dollars: Option<f64>,
}

/// Answers a judge's messages in this process instead of over HTTP: a
/// simulated judge, for a backfill that judges hours of history in seconds.
pub type Answerer = Arc<dyn Fn(&[crate::Message]) -> Result<Completion, Failure> + Send + Sync>;

/// How a judge reaches its model.
enum Transport {
    /// An OpenAI-compatible endpoint, `JudgeConfig::url`.
    Http(reqwest::Client),
    /// A function called in place of the endpoint.
    InProcess(Answerer),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Http(_) => "Http",
            Transport::InProcess(_) => "InProcess",
        })
    }
}

/// A judge, shared by every task that asks it.
#[derive(Debug)]
pub struct Judge {
    config: JudgeConfig,
    transport: Transport,
    budget: Budget,
    permits: Semaphore,
    cache: Arc<dyn Cache>,
    metrics: Metrics,
}

impl Judge {
    /// A judge; builds its HTTP client.
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(config: JudgeConfig, cache: Arc<dyn Cache>, metrics: Metrics) -> Result<Judge, reqwest::Error> {
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        Ok(Judge::with_transport(config, Transport::Http(http), cache, metrics))
    }

    /// A judge whose model is `answer`, called in place of `config.url`;
    /// everything else (rubrics, cache, budget, verdicts, metrics) is as
    /// for [`Judge::new`]. For simulations: a backfill judges its simulated
    /// history with the simulator's judge without a network round trip.
    pub fn in_process(config: JudgeConfig, answer: Answerer, cache: Arc<dyn Cache>, metrics: Metrics) -> Judge {
        Judge::with_transport(config, Transport::InProcess(answer), cache, metrics)
    }

    fn with_transport(config: JudgeConfig, transport: Transport, cache: Arc<dyn Cache>, metrics: Metrics) -> Judge {
        let budget = Budget::new(config.limits, config.price);
        metrics.observe_budget(&config.name, &budget);
        Judge { budget, permits: Semaphore::new(config.concurrency.max(1)), config, transport, cache, metrics }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The judge model.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// Calls it makes at once.
    pub fn concurrency(&self) -> usize {
        self.config.concurrency.max(1)
    }

    /// Its spend so far today.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The cache key of `rubric` on `input`, for this judge's model.
    pub fn cache_key(&self, rubric: &Rubric, messages: &[crate::Message]) -> u64 {
        let mut bytes = Vec::new();
        for part in [rubric.name.as_str(), &rubric.version.to_string(), &self.config.model] {
            bytes.extend_from_slice(part.as_bytes());
            bytes.push(0);
        }
        for message in messages {
            bytes.extend_from_slice(message.role.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(message.content.as_bytes());
            bytes.push(0);
        }
        xxhash_rust::xxh3::xxh3_64(&bytes)
    }

    /// Judges `input` by `rubric` at `now_ms` (the budget's clock): from
    /// the cache, else by one call within the budget and timeout. Every
    /// outcome is counted under its reason.
    pub async fn judge(&self, input: &Input<'_>, rubric: &Rubric, now_ms: i64) -> Outcome {
        let outcome = self.judge_uncounted(input, rubric, now_ms).await;
        let reason = match &outcome {
            Outcome::Judged(judged) if judged.cached => "cache_hit",
            Outcome::Judged(_) => "ok",
            Outcome::Failed(failure) => failure.reason(),
        };
        self.metrics.count(&self.config.name, reason);
        outcome
    }

    async fn judge_uncounted(&self, input: &Input<'_>, rubric: &Rubric, now_ms: i64) -> Outcome {
        let messages = match rubric.messages(input) {
            Ok(messages) => messages,
            Err(missing) => return Outcome::Failed(Failure::MissingInput(missing)),
        };
        let key = self.cache_key(rubric, &messages);
        if let Some(verdict) = self.cache.get(key) {
            return Outcome::Judged(Judged { verdict, cached: true, input_tokens: 0, output_tokens: 0, dollars: None });
        }
        let Ok(_permit) = self.permits.acquire().await else {
            return Outcome::Failed(Failure::Connect("the judge is shutting down".to_string()));
        };
        let reserved = self.budget.reserve(now_ms);
        self.metrics.observe_budget(&self.config.name, &self.budget);
        let reservation = match reserved {
            Ok(reservation) => reservation,
            Err(limit) => {
                self.metrics.count_exhausted(&self.config.name, limit);
                return Outcome::Failed(Failure::BudgetExhausted(limit));
            }
        };
        let endpoint = Endpoint {
            url: &self.config.url,
            model: &self.config.model,
            api_key: self.config.api_key.as_deref(),
            retries: self.config.retries,
            json_mode: self.config.json_mode,
        };
        let started = Instant::now();
        let call = match &self.transport {
            Transport::Http(http) => {
                tokio::time::timeout(self.config.timeout, client::complete(http, &endpoint, &messages)).await
            }
            Transport::InProcess(answer) => Ok(answer(&messages)),
        };
        let completion = match call {
            Ok(Ok(completion)) => completion,
            Ok(Err(failure)) => {
                let _ = self.budget.spend(reservation, 0, 0);
                debug!(judge = %self.config.name, rubric = %rubric.name, reason = failure.reason(), "Judge call failed");
                return Outcome::Failed(failure);
            }
            Err(_) => {
                let _ = self.budget.spend(reservation, 0, 0);
                return Outcome::Failed(Failure::Timeout);
            }
        };
        let dollars = self.budget.spend(reservation, completion.input_tokens, completion.output_tokens);
        self.metrics.observe_budget(&self.config.name, &self.budget);
        self.metrics.observe_call(
            &self.config.name,
            started.elapsed().as_secs_f64(),
            completion.input_tokens,
            completion.output_tokens,
            dollars,
        );
        match verdict::parse(&completion.text, rubric) {
            Ok(verdict) => {
                self.cache.put(key, &verdict, now_ms);
                Outcome::Judged(Judged {
                    verdict,
                    cached: false,
                    input_tokens: completion.input_tokens,
                    output_tokens: completion.output_tokens,
                    dollars,
                })
            }
            Err(failure) => {
                debug!(judge = %self.config.name, rubric = %rubric.name, reason = failure.reason(), "Judge answer is not a verdict");
                Outcome::Failed(failure)
            }
        }
    }
}
