//! Exchanges judged by LLM judges: which ones (a share per judge and model),
//! the bounded queue to the judges, and where verdicts go (the records
//! store and `gen_ai_evaluation_score{gen_ai_evaluation_name="judge_<rubric>"}`).
//!
//! A judge reads the text as the records store keeps it, redacted: no PII
//! leaves for a judge that the store would not keep, and with
//! `keep_text = false` nothing is judged. A picked exchange is stored even
//! when the sampler would not keep it, so its verdicts have a home. The
//! A rubric with a deterministic counterpart (`safety` and `harmful`,
//! `over_refusal` and `refusal`) has each verdict compared with that
//! scorer's flag on the same exchange, counted in
//! `infersight_judge_agreement_total`. The
//! queue never blocks the scorers: when it is full the exchange goes
//! unjudged and `infersight_quality_failures_total{stage="judge_queue"}`
//! counts it.

use std::collections::HashMap;
use std::sync::Arc;

use judge::{Cache, Input, Judge, Outcome, Rubric, Verdict};
use records::{ExchangeId, JudgementRecord};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::Pipeline;

/// Exchanges waiting for judges; past this they go unjudged.
pub(crate) const QUEUE: usize = 1024;

/// One judge and what it judges (`[[quality.judge]]`).
#[derive(Debug, Clone)]
pub struct JudgeSetup {
    /// The judge.
    pub judge: Arc<Judge>,
    /// Its rubrics; each picked exchange is judged by every one.
    pub rubrics: Vec<Rubric>,
    /// Share of scored exchanges judged, per model unless `model_rates`
    /// names it.
    pub sample_rate: f64,
    /// Shares of particular models.
    pub model_rates: HashMap<String, f64>,
}

impl JudgeSetup {
    pub(crate) fn rate(&self, model: &str) -> f64 {
        self.model_rates.get(model).copied().unwrap_or(self.sample_rate)
    }
}

/// An exchange to judge.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) id: ExchangeId,
    /// The model's label value.
    pub(crate) model: String,
    pub(crate) prompt: String,
    pub(crate) response: String,
    pub(crate) time_ms: i64,
    /// Indexes into the configured judges.
    pub(crate) judges: Vec<usize>,
    /// The deterministic scorers' flags on the exchange, by scorer name,
    /// for rubrics with a counterpart to agree with.
    pub(crate) flags: Vec<(&'static str, bool)>,
}

/// The judge cache in the records store.
#[derive(Debug)]
pub struct RecordsCache(pub Arc<records::Store>);

impl Cache for RecordsCache {
    fn get(&self, key: u64) -> Option<Verdict> {
        let text = self.0.cached_verdict(key).ok()??;
        serde_json::from_str(&text).ok()
    }

    fn put(&self, key: u64, verdict: &Verdict, now_ms: i64) {
        if let Ok(text) = serde_json::to_string(verdict)
            && let Err(err) = self.0.cache_verdict(key, &text, now_ms)
        {
            warn!(error = %err, "Cannot cache a judge's verdict");
        }
    }
}

impl Pipeline {
    /// Judges the exchanges the pipeline queued until `shutdown` fires, at
    /// most as many calls at once as the judges' concurrencies add up to.
    pub async fn run_judges(self: Arc<Self>, shutdown: CancellationToken) {
        let Some(mut queue) = self.judge_queue.lock().take() else { return };
        let in_flight: usize = self.shared.config.judges.iter().map(|s| s.judge.concurrency()).sum::<usize>().max(1);
        let mut tasks = JoinSet::new();
        loop {
            let request = tokio::select! {
                _ = shutdown.cancelled() => break,
                next = queue.recv() => match next {
                    Some(request) => Arc::new(request),
                    None => break,
                },
            };
            for &idx in &request.judges {
                let setup = &self.shared.config.judges[idx];
                for rubric in &setup.rubrics {
                    while tasks.len() >= in_flight {
                        tasks.join_next().await;
                    }
                    let (pipeline, request, rubric) = (Arc::clone(&self), Arc::clone(&request), rubric.clone());
                    tasks.spawn(async move { pipeline.judge_one(&request, idx, &rubric).await });
                }
            }
        }
        tasks.shutdown().await;
    }

    /// Judges the exchanges queued so far, one call after another, and
    /// returns how many there were; for a pipeline whose queue
    /// [`Pipeline::run_judges`] does not drain: a backfill judges each batch
    /// of its history before it moves on in simulated time.
    pub async fn judge_queued(&self) -> usize {
        let requests: Vec<Request> = {
            let mut queue = self.judge_queue.lock();
            let Some(queue) = queue.as_mut() else { return 0 };
            std::iter::from_fn(|| queue.try_recv().ok()).collect()
        };
        for request in &requests {
            for &idx in &request.judges {
                for rubric in &self.shared.config.judges[idx].rubrics {
                    self.judge_one(request, idx, rubric).await;
                }
            }
        }
        requests.len()
    }

    async fn judge_one(&self, request: &Request, idx: usize, rubric: &Rubric) {
        let setup = &self.shared.config.judges[idx];
        let input = Input { prompt: &request.prompt, response: &request.response, reference: None };
        let Outcome::Judged(judged) = setup.judge.judge(&input, rubric, request.time_ms).await else { return };
        let failed = judged.verdict.failed(rubric);
        let name = format!("judge_{}", rubric.name);
        let version = format!("{}@v{}", setup.judge.model(), rubric.version);
        self.shared.metrics.observe_judgement(&request.model, &name, &version, judged.verdict.score, failed);
        if let Some(scorer) = &rubric.counterpart
            && let Some(&(_, flagged)) = request.flags.iter().find(|(name, _)| name == scorer)
        {
            self.shared.metrics.observe_agreement(setup.judge.name(), &request.model, &name, scorer, failed == flagged);
        }
        let record = JudgementRecord {
            judge: setup.judge.name().to_string(),
            rubric: rubric.name.clone(),
            rubric_version: rubric.version,
            judge_model: setup.judge.model().to_string(),
            score: judged.verdict.score,
            label: judged.verdict.label,
            failed,
            reason: judged.verdict.reason,
            input_tokens: judged.input_tokens,
            output_tokens: judged.output_tokens,
            dollars: judged.dollars,
            cached: judged.cached,
            time_ms: request.time_ms,
        };
        let store = Arc::clone(&self.shared.store);
        let id = request.id;
        let stored = tokio::task::spawn_blocking(move || store.insert_judgement(id, &record)).await;
        if !matches!(stored, Ok(Ok(()))) {
            self.shared.metrics.count_failure("store");
        }
    }

    /// The judges that pick the next exchange of `model`.
    pub(crate) fn judges_for(&self, model: &str) -> Vec<usize> {
        let judges = &self.shared.config.judges;
        if judges.is_empty() {
            return Vec::new();
        }
        let mut share = self.judge_share.lock();
        (0..judges.len()).filter(|&idx| share.pick(&format!("{idx}\u{0}{model}"), judges[idx].rate(model))).collect()
    }

    /// Queues a stored exchange for its judges; a full queue is counted.
    pub(crate) fn queue_for_judges(&self, request: Request) {
        if self.judge_sender.try_send(request).is_err() {
            self.shared.metrics.count_failure("judge_queue");
        }
    }
}

/// The queue between the scorers and the judges.
pub(crate) fn queue() -> (mpsc::Sender<Request>, mpsc::Receiver<Request>) {
    mpsc::channel(QUEUE)
}
