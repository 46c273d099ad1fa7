//! Running probes: each on its interval, its items to each of its models.

use std::sync::Arc;
use std::time::Duration;

use judge::{Judge, Outcome as Judgement, Rubric};
use quality::Registry;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::check::{Check, check};
use crate::client::{Answer, Failure, ask};
use crate::dataset::{Dataset, Item};
use crate::metrics::{Metrics, RunMeasures};

/// One probe, as the binary configures it.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// Its name, the `probe` label.
    pub name: String,
    /// The served models it asks, by the names clients use.
    pub models: Vec<String>,
    /// Its items (and the lines that were skipped).
    pub dataset: Dataset,
    /// Time between runs.
    pub interval: Duration,
    /// Items per run and model; the dataset is walked in turn, so every
    /// item is asked once in `len / items_per_run` runs.
    pub items_per_run: usize,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// The judge of items with a `rubric`, and the rubrics they name.
    pub judge: Option<ProbeJudge>,
}

/// The judge a probe's rubric items are judged by.
#[derive(Debug, Clone)]
pub struct ProbeJudge {
    /// The judge (one of `[[quality.judge]]`).
    pub judge: Arc<Judge>,
    /// The rubrics its items name.
    pub rubrics: Vec<Rubric>,
}

impl ProbeSpec {
    /// The items of its `round`-th run (counting from 0).
    pub fn items_of_round(&self, round: usize) -> Vec<&Item> {
        items_of_round(&self.dataset.items, self.items_per_run, round)
    }
}

/// What one run of a probe against one model found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The model.
    pub model: String,
    /// Items answered and passed.
    pub passed: usize,
    /// Items answered and failed.
    pub failed: usize,
    /// Items not answered.
    pub errors: usize,
}

/// Runs every probe through one gateway.
#[derive(Debug)]
pub struct Prober {
    probes: Vec<ProbeSpec>,
    gateway: String,
    api_key: Option<String>,
    http: reqwest::Client,
    scorers: Registry,
    metrics: Metrics,
}

impl Prober {
    /// A prober for `probes`, asking through the gateway at `gateway` (its
    /// base URL with `/v1`) with `api_key` when the gateway wants one.
    /// Each dataset's skipped lines are counted now.
    ///
    /// # Errors
    ///
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(
        probes: Vec<ProbeSpec>,
        gateway: String,
        api_key: Option<String>,
        metrics: Metrics,
    ) -> Result<Prober, reqwest::Error> {
        for probe in &probes {
            if !probe.dataset.errors.is_empty() {
                metrics.count_dataset_errors(&probe.name, probe.dataset.errors.len());
                for error in &probe.dataset.errors {
                    warn!(probe = %probe.name, error = %error, "Probe dataset line skipped");
                }
            }
        }
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build()?;
        Ok(Prober { probes, gateway, api_key, http, scorers: Registry::new(), metrics })
    }

    /// Runs each probe on its interval, the first run at once, until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for idx in 0..self.probes.len() {
            let prober = Arc::clone(&self);
            let shutdown = shutdown.clone();
            tasks.spawn(async move {
                let probe = &prober.probes[idx];
                let mut ticker = tokio::time::interval(probe.interval);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut round = 0;
                loop {
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        _ = ticker.tick() => {}
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        reports = prober.run_once(idx, round) => debug!(probe = %probe.name, ?reports, "Probe run"),
                    }
                    round += 1;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Runs probe `idx` once against each of its models, with the items of
    /// its `round`-th turn through the dataset, and records the outcome.
    pub async fn run_once(&self, idx: usize, round: usize) -> Vec<RunReport> {
        let probe = &self.probes[idx];
        let items = probe.items_of_round(round);
        let mut reports = Vec::with_capacity(probe.models.len());
        // Models are asked one after another, items in order: a probe is a
        // steady trickle, not load.
        for model in &probe.models {
            reports.push(self.run_model(probe, model, &items).await);
        }
        reports
    }

    async fn run_model(&self, probe: &ProbeSpec, model: &str, items: &[&Item]) -> RunReport {
        let mut answers = Vec::with_capacity(items.len());
        for item in items {
            let answer = ask(&self.http, &self.gateway, self.api_key.as_deref(), model, item, probe.timeout).await;
            answers.push((*item, answer));
        }
        let mut verdicts = Vec::with_capacity(answers.len());
        for (item, answer) in &answers {
            let verdict = match (&item.rubric, answer) {
                (Some(rubric), Ok(answer)) => Some(self.judged(probe, item, rubric, &answer.text).await),
                _ => None,
            };
            verdicts.push(verdict);
        }
        self.record_judged(probe, model, &answers, &verdicts)
    }

    /// The probes it runs.
    pub fn probes(&self) -> &[ProbeSpec] {
        &self.probes
    }

    /// Checks and records the answers of one run of `probe` against
    /// `model`, in item order, as [`Prober::run_once`] does with the
    /// answers it gets; for answers that come from elsewhere (a backfill
    /// simulating the probes' traffic).
    /// Items with a rubric have no judge's verdict here.
    pub fn record_run(
        &self,
        probe: &ProbeSpec,
        model: &str,
        answers: &[(&Item, Result<Answer, Failure>)],
    ) -> RunReport {
        self.record_judged(probe, model, answers, &[])
    }

    /// [`Prober::record_run`] with the judge's verdict (or why there is
    /// none) on each answer of an item with a rubric, in answer order.
    fn record_judged(
        &self,
        probe: &ProbeSpec,
        model: &str,
        answers: &[(&Item, Result<Answer, Failure>)],
        verdicts: &[Option<Result<Check, &'static str>>],
    ) -> RunReport {
        let mut report = RunReport { model: model.to_owned(), passed: 0, failed: 0, errors: 0 };
        let mut scores: Vec<(String, f64, usize)> = Vec::new();
        let (mut durations, mut ttfts) = (Vec::new(), Vec::new());
        for (idx, (item, answer)) in answers.iter().enumerate() {
            match answer {
                Ok(answer) => {
                    durations.push(answer.duration.as_secs_f64());
                    ttfts.extend(answer.ttft.map(|ttft| ttft.as_secs_f64()));
                    let mut outcome = check(&self.scorers, item, &answer.text);
                    if item.rubric.is_some() {
                        match verdicts.get(idx).cloned().flatten().unwrap_or(Err("no_judge")) {
                            Ok(check) => outcome.checks.push(check),
                            Err(reason) => self.metrics.count_failure(&probe.name, model, reason),
                        }
                    }
                    if outcome.checks.is_empty() {
                        // Only a judge's check, and the judge gave none.
                        report.errors += 1;
                        self.metrics.count_item(&probe.name, model, "error");
                        continue;
                    }
                    for check in &outcome.checks {
                        match scores.iter_mut().find(|(name, _, _)| *name == check.name) {
                            Some(entry) => {
                                entry.1 += check.value;
                                entry.2 += 1;
                            }
                            None => scores.push((check.name.clone(), check.value, 1)),
                        }
                    }
                    let result = if outcome.passed() { "pass" } else { "fail" };
                    if outcome.passed() {
                        report.passed += 1;
                    } else {
                        report.failed += 1;
                    }
                    self.metrics.count_item(&probe.name, model, result);
                }
                Err(failure) => {
                    debug!(probe = %probe.name, model, item = %item.id, error = %failure, "Probe item got no answer");
                    report.errors += 1;
                    self.metrics.count_item(&probe.name, model, "error");
                    self.metrics.count_failure(&probe.name, model, failure.reason());
                }
            }
        }
        let mean = |values: &[f64]| (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
        let run = RunMeasures {
            success: !answers.is_empty() && report.failed == 0 && report.errors == 0,
            scores: scores.into_iter().map(|(name, sum, count)| (name, sum / count as f64)).collect(),
            duration: mean(&durations),
            ttft: mean(&ttfts),
        };
        self.metrics.record_run(&probe.name, model, &run);
        report
    }

    /// The probe's judge's verdict on `answer` by `rubric`, as a check
    /// named `judge_<rubric>`, or why there is none.
    async fn judged(&self, probe: &ProbeSpec, item: &Item, rubric: &str, answer: &str) -> Result<Check, &'static str> {
        let Some(setup) = &probe.judge else { return Err("no_judge") };
        let Some(rubric) = setup.rubrics.iter().find(|r| r.name == rubric) else { return Err("unknown_rubric") };
        let prompt = item.prompt();
        let input = judge::Input { prompt: &prompt, response: answer, reference: item.reference.as_deref() };
        match setup.judge.judge(&input, rubric, now_ms()).await {
            Judgement::Judged(judged) => Ok(Check {
                name: format!("judge_{}", rubric.name),
                value: judged.verdict.score,
                pass: !judged.verdict.failed(rubric),
            }),
            Judgement::Failed(_) => Err("judge"),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The items of the `round`-th run: `per_run` of them, continuing where
/// the previous run stopped and wrapping around.
fn items_of_round(items: &[Item], per_run: usize, round: usize) -> Vec<&Item> {
    if items.is_empty() {
        return Vec::new();
    }
    let per_run = per_run.clamp(1, items.len());
    let start = (round * per_run) % items.len();
    (0..per_run).map(|offset| &items[(start + offset) % items.len()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_walk_the_dataset_in_turn() {
        let items = Dataset::default_set().items;
        let n = items.len();
        let ids = |round| items_of_round(&items, 3, round).iter().map(|item| item.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(0), [items[0].id.clone(), items[1].id.clone(), items[2].id.clone()]);
        assert_eq!(ids(1)[0], items[3 % n].id);
        assert_eq!(items_of_round(&items, 100, 4).len(), n, "at most every item once per run");
        assert!(items_of_round(&[], 3, 0).is_empty());
    }
}
