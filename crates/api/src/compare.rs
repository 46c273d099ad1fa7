//! `/api/v1/infersight/compare`: two cohorts of gateway traffic side by side, every metric tested by crate `compare`.
//!
//! A cohort is a label matcher set over the gateway's series
//! (`{gen_ai_request_model="x"}`, `{server_address="10.0.0.5:8000"}`,
//! `{deployment="canary"}`) over a range, or the same selector over another
//! range (a time window: before and after a deploy). For each cohort the
//! handler asks the query engine for the increases of the gateway's and the
//! quality pipeline's histograms and counters block by block (a tenth of the
//! range, at least 15 s, at most a minute), and hands them to
//! [`compare::compare`], paired when both cohorts cover the same range.
//! Infersight's own probe traffic (`infersight_client="probe"`) is left out
//! unless the selector names `infersight_client`. Where the cost rules
//! generated from `[cost]` have series for a cohort's models, two figures
//! (not tested: no sampling model) follow: dollars per 1M output tokens over
//! the window, and each score's mean per dollar of it, as
//! `infersight:quality_per_dollar` divides them.

use std::collections::BTreeMap;

use ::compare::{Binned, Comparison, Counts, Data, Direction, Distribution, Metric, Moments, Options};
use axum::extract::State;
use promql::{Engine, Value};
use serde::Serialize;
use series::{Matcher, Querier, SelectHints};

use crate::clock::now_ms;
use crate::params::{Params, parse_selector};
use crate::query::parse_duration_ms;
use crate::{ApiState, Error, Result, Success};

/// `gen_ai.server.time_to_first_token`, seconds.
const TTFT: &str = "gen_ai_server_time_to_first_token_seconds";
/// `gen_ai.server.time_per_output_token`, seconds.
const TPOT: &str = "gen_ai_server_time_per_output_token_seconds";
/// `gen_ai.client.operation.duration`, seconds, every request (`error_type` on failures).
const DURATION: &str = "gen_ai_client_operation_duration_seconds";
/// Quality scores, one observation per score.
const SCORE: &str = "gen_ai_evaluation_score";
/// Exchanges a scorer flagged.
const FLAGGED: &str = "infersight_quality_flagged_total";
/// Dollars per second per model, recorded by the rules generated from
/// `[cost]` (they carry `gen_ai_request_model` only).
const COST: &str = "infersight:cost_dollars_per_second";
/// The gateway's token counts (`gen_ai_token_type`).
const TOKENS: &str = "gen_ai_client_token_usage_sum";

/// The range when neither `start` nor `range` is given: the hour before `end`.
const DEFAULT_RANGE_MS: i64 = 3_600_000;
/// Bounds of a block: at least a scrape interval, at most a minute.
const MIN_BLOCK_MS: i64 = 15_000;
const MAX_BLOCK_MS: i64 = 60_000;

/// Scorers whose score measures something bad (higher is worse); every
/// other score (`json`, `reference`, `consistency`, `judge_*`) is better higher.
const LOWER_IS_BETTER_SCORERS: [&str; 5] = ["pii", "toxicity", "harmful", "refusal", "jailbreak"];

/// `GET /api/v1/infersight/compare`: cohort `b` against cohort `a`.
///
/// Parameters: `a` and `b`, selectors; `start` and `end` (default `end`
/// now and `start` a `range` before it, an hour without one); `a_start`, `a_end`, `b_start`, `b_end` to give a cohort its own
/// window (`b` defaults to `a` when `b` has a window of its own); `step`,
/// the block length; `alpha` (default 0.05); `gate`, the comma-separated
/// metrics a deploy gate decides on (`infersight compare --fail-if-worse`),
/// Holm-corrected as a family of their own (names that are no metric
/// are left out of it; the answer's `gate` lists those that are, and the
/// CLI refuses the others by name). The answer: each cohort
/// (selector, window, requests), whether the comparison is paired, the
/// block length, and per metric the outcome of crate `compare`.
pub(crate) async fn compare(State(state): State<ApiState>, params: Params) -> Result<Success<CompareData>> {
    let request = CompareRequest::from_params(&params)?;
    let queryable = state.queryable.clone();
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || -> Result<Success<CompareData>> {
        let querier = queryable.querier()?;
        let a = request.a.read(&engine, querier.as_ref(), request.step_ms)?;
        let b = request.b.read(&engine, querier.as_ref(), request.step_ms)?;
        let paired = request.a.start_ms == request.b.start_ms && request.a.end_ms == request.b.end_ms;
        let metrics = metrics(&a, &b);
        let options = Options { alpha: request.alpha, paired, ..Options::default() };
        let comparison = ::compare::compare_gated(&metrics, options, &request.gate);
        if comparison.metrics.iter().all(|m| m.p_value.is_none()) {
            return Err(Error::NotEnoughData { message: not_enough_message(&comparison, &a, &b) });
        }
        Ok(Success::new(CompareData {
            a: request.a.info(&a),
            b: request.b.info(&b),
            paired,
            step_seconds: request.step_ms as f64 / 1000.0,
            comparison,
        }))
    })
    .await
    .map_err(|source| Error::Task { source })?
}

/// The answer's `data`.
#[derive(Debug, Serialize)]
pub(crate) struct CompareData {
    a: CohortInfo,
    b: CohortInfo,
    /// Whether both cohorts cover the same range, so blocks were paired.
    paired: bool,
    /// Length of one block.
    step_seconds: f64,
    #[serde(flatten)]
    comparison: Comparison,
}

#[derive(Debug, Serialize)]
struct CohortInfo {
    selector: String,
    /// Seconds since the epoch, as Prometheus writes times.
    start: f64,
    end: f64,
    /// Requests through the gateway in the window (extrapolated increase).
    requests: f64,
}

struct CompareRequest {
    a: Cohort,
    b: Cohort,
    step_ms: i64,
    alpha: f64,
    gate: Vec<String>,
}

impl CompareRequest {
    fn from_params(params: &Params) -> Result<CompareRequest> {
        let end = params.time("end", now_ms())?;
        let range_ms = match params.value("range") {
            Some(value) => parse_duration_ms(value)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| Error::InvalidDuration { value: value.to_owned() }.in_parameter("range"))?,
            None => DEFAULT_RANGE_MS,
        };
        let start = params.time("start", end - range_ms)?;
        let window = |prefix: &'static str, start_name: &'static str, end_name: &'static str| -> Result<(i64, i64)> {
            let window = (params.time(start_name, start)?, params.time(end_name, end)?);
            if window.1 <= window.0 {
                return Err(Error::InvalidCohort {
                    message: format!("cohort {prefix}: the end of its window is not after its start"),
                });
            }
            Ok(window)
        };
        let (a_start, a_end) = window("a", "a_start", "a_end")?;
        let (b_start, b_end) = window("b", "b_start", "b_end")?;
        let a_selector = params.value("a").ok_or_else(|| Error::InvalidCohort {
            message: "missing parameter a: a cohort selector such as {gen_ai_request_model=\"x\"}".to_owned(),
        })?;
        let b_has_window = params.value("b_start").is_some() || params.value("b_end").is_some();
        let b_selector = match params.value("b") {
            Some(selector) => selector,
            None if b_has_window => a_selector,
            None => {
                return Err(Error::InvalidCohort {
                    message: "missing parameter b: a second selector, or b_start and b_end for another window of a"
                        .to_owned(),
                });
            }
        };
        let shortest = (a_end - a_start).min(b_end - b_start);
        let step_ms = match params.value("step") {
            Some(value) => parse_duration_ms(value)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| Error::InvalidDuration { value: value.to_owned() }.in_parameter("step"))?,
            None => (shortest / 10).clamp(MIN_BLOCK_MS, MAX_BLOCK_MS),
        };
        if step_ms > shortest {
            return Err(Error::InvalidCohort {
                message: format!("the step ({} s) is longer than a cohort's window", step_ms / 1000),
            });
        }
        let alpha = match params.value("alpha") {
            Some(value) => value.parse::<f64>().ok().filter(|alpha| *alpha > 0.0 && *alpha < 0.5).ok_or_else(|| {
                Error::InvalidCohort { message: format!("invalid parameter alpha: {value:?} (0 < alpha < 0.5)") }
            })?,
            None => Options::default().alpha,
        };
        let gate = params
            .value("gate")
            .map(|list| list.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(CompareRequest {
            a: Cohort::parse("a", a_selector, a_start, a_end)?,
            b: Cohort::parse("b", b_selector, b_start, b_end)?,
            step_ms,
            alpha,
            gate,
        })
    }
}

/// One cohort: its selector's matchers and its window.
struct Cohort {
    name: &'static str,
    selector: String,
    matchers: Vec<Matcher>,
    start_ms: i64,
    end_ms: i64,
}

/// What the store holds for one cohort, block by block.
struct CohortData {
    ttft: Vec<Distribution>,
    tpot: Vec<Distribution>,
    e2e: Vec<Distribution>,
    requests: Vec<Counts>,
    /// Score buckets per scorer.
    scores: BTreeMap<String, Vec<Distribution>>,
    /// Flagged exchanges per scorer.
    flagged: BTreeMap<String, Vec<f64>>,
    /// Dollars per 1M output tokens over the window, when prices are
    /// configured and the selector picks traffic by model alone.
    dollars_per_1m_output_tokens: Option<f64>,
}

impl Cohort {
    fn parse(name: &'static str, selector: &str, start_ms: i64, end_ms: i64) -> Result<Cohort> {
        let invalid =
            |message: String| Error::InvalidCohort { message: format!("cohort {name} ({selector}): {message}") };
        let mut sets = parse_selector(selector).map_err(|error| invalid(error.to_message()))?;
        if sets.len() != 1 {
            return Err(invalid("a cohort is one set of matchers, without `or`".to_owned()));
        }
        let mut matchers = sets.remove(0);
        if let Some(metric) = matchers.iter().find(|m| m.name == "__name__") {
            return Err(invalid(format!(
                "a cohort selects traffic by labels, not a metric ({metric}): write {{label=\"value\"}}"
            )));
        }
        if !matchers.iter().any(|m| m.name == "infersight_client") {
            matchers.push(Matcher::equal("infersight_client", ""));
        }
        Ok(Cohort { name, selector: selector.to_owned(), matchers, start_ms, end_ms })
    }

    /// `metric{matchers, extra}` as PromQL.
    fn selector_for(&self, metric: &str, extra: &str) -> String {
        let mut parts: Vec<String> = self.matchers.iter().map(ToString::to_string).collect();
        if !extra.is_empty() {
            parts.push(extra.to_owned());
        }
        format!("{metric}{{{}}}", parts.join(","))
    }

    /// Checks the selector's labels against the gateway's series, then
    /// reads every block.
    fn read(&self, engine: &Engine, querier: &dyn Querier, step_ms: i64) -> Result<CohortData> {
        self.check_labels(querier)?;
        let count = ((self.end_ms - self.start_ms) / step_ms).max(1) as usize;
        let grid = Grid { start: self.start_ms, step_ms, count };
        let counters = |metric: &str, extra: &str| -> Result<Vec<Counter>> {
            let query = self.selector_for(metric, extra);
            let (value, _) = engine
                .range_query(querier, &query, grid.start, grid.start + count as i64 * step_ms, step_ms)
                .map_err(Error::Query)?;
            Ok(grid.counters(&value))
        };
        let one = |mut map: BTreeMap<String, Vec<Distribution>>| map.remove("").unwrap_or_default();
        let total = |counters: &[Counter]| grid.sums(counters, "").remove("").unwrap_or_else(|| vec![0.0; count]);
        let trials = total(&counters(&format!("{DURATION}_count"), "")?);
        let errors = total(&counters(&format!("{DURATION}_count"), "error_type!=\"\"")?);
        let requests: Vec<Counts> = errors.iter().zip(&trials).map(|(e, t)| Counts::new(*e, *t)).collect();
        if requests.iter().map(|c| c.trials).sum::<f64>() <= 0.0 {
            return Err(self.empty(querier));
        }
        let scorer = "gen_ai_evaluation_name";
        Ok(CohortData {
            ttft: one(grid.distributions(&counters(&format!("{TTFT}_bucket"), "")?, "")),
            tpot: one(grid.distributions(&counters(&format!("{TPOT}_bucket"), "")?, "")),
            e2e: one(grid.distributions(&counters(&format!("{DURATION}_bucket"), "error_type=\"\"")?, "")),
            requests,
            scores: grid.distributions(&counters(&format!("{SCORE}_bucket"), "")?, scorer),
            flagged: grid.sums(&counters(FLAGGED, "")?, scorer),
            dollars_per_1m_output_tokens: self.dollars_per_1m_output_tokens(engine, querier)?,
        })
    }

    /// The window's spend (the mean of the cost rules' dollars per second
    /// times its length) over its output tokens, per 1M; `None` without a
    /// price, without output tokens, or for a selector on labels other than
    /// the model, which the cost series do not carry.
    fn dollars_per_1m_output_tokens(&self, engine: &Engine, querier: &dyn Querier) -> Result<Option<f64>> {
        let on_traffic: Vec<&Matcher> = self.matchers.iter().filter(|m| m.name != "infersight_client").collect();
        if on_traffic.iter().any(|m| m.name != "gen_ai_request_model") {
            return Ok(None);
        }
        let window_s = ((self.end_ms - self.start_ms) / 1000).max(1);
        let models: Vec<String> = on_traffic.iter().map(ToString::to_string).collect();
        let value = |query: &str| -> Result<Option<f64>> {
            let (value, _) = engine.instant_query(querier, query, self.end_ms).map_err(Error::Query)?;
            Ok(match value {
                Value::Vector(samples) => samples.first().map(|s| s.v).filter(|v| v.is_finite()),
                _ => None,
            })
        };
        let Some(dollars) =
            value(&format!("sum(avg_over_time({COST}{{{}}}[{window_s}s])) * {window_s}", models.join(",")))?
        else {
            return Ok(None);
        };
        let tokens = value(&format!(
            "sum(increase({}[{window_s}s]))",
            self.selector_for(TOKENS, "gen_ai_token_type=\"output\"")
        ))?;
        Ok(tokens.filter(|t| *t > 0.0).map(|t| dollars / t * 1e6))
    }

    /// An unknown label name is a mistake in the selector, not an empty cohort.
    fn check_labels(&self, querier: &dyn Querier) -> Result<()> {
        let hints = SelectHints { mint: self.start_ms, maxt: self.end_ms, labels_only: true };
        let gateway = [Matcher::equal("__name__", &format!("{DURATION}_count"))];
        let names = querier.label_names(&hints, &gateway)?;
        if names.is_empty() {
            return Err(Error::EmptyCohort {
                message: format!(
                    "cohort {} ({}): the store holds no gateway traffic ({DURATION}_count) in its window",
                    self.name, self.selector
                ),
            });
        }
        for matcher in &self.matchers {
            if !matcher.matches_empty() && !names.contains(&matcher.name) {
                let known: Vec<&str> = names.iter().map(String::as_str).filter(|n| *n != "__name__").collect();
                return Err(Error::InvalidCohort {
                    message: format!(
                        "cohort {} ({}): no gateway series has label {:?}; they have {}",
                        self.name,
                        self.selector,
                        matcher.name,
                        known.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The error for a cohort without requests, naming the values its labels do have.
    fn empty(&self, querier: &dyn Querier) -> Error {
        let hints = SelectHints { mint: self.start_ms, maxt: self.end_ms, labels_only: true };
        let gateway = [Matcher::equal("__name__", &format!("{DURATION}_count"))];
        let hints_text: Vec<String> = self
            .matchers
            .iter()
            .filter(|m| !m.matches_empty())
            .filter_map(|m| {
                let values = querier.label_values(&m.name, &hints, &gateway).ok()?;
                let shown: Vec<&str> = values.iter().take(10).map(String::as_str).collect();
                Some(format!("{} has {}", m.name, shown.join(", ")))
            })
            .collect();
        let mut message =
            format!("cohort {} ({}): no requests through the gateway in its window", self.name, self.selector);
        if !hints_text.is_empty() {
            message.push_str(&format!(" ({})", hints_text.join("; ")));
        }
        Error::EmptyCohort { message }
    }

    fn info(&self, data: &CohortData) -> CohortInfo {
        CohortInfo {
            selector: self.selector.clone(),
            start: self.start_ms as f64 / 1000.0,
            end: self.end_ms as f64 / 1000.0,
            requests: data.requests.iter().map(|c| c.trials).sum(),
        }
    }
}

/// One counter series' labels and its increase in each block.
struct Counter {
    labels: series::Labels,
    increases: Vec<f64>,
}

/// A cohort's blocks: block `k` (from 1) is `(start + (k−1)·step, start + k·step]`.
struct Grid {
    start: i64,
    step_ms: i64,
    count: usize,
}

impl Grid {
    /// Each series' increase per block, from its values at the block edges
    /// (the latest sample at each, as an instant query reads it): the
    /// difference, or the new value after a counter reset, or the value
    /// itself for a series that appears (it counted from zero). Exact
    /// counts, unlike `increase()` over each block, which extrapolates and
    /// needs two samples inside a block.
    fn counters(&self, value: &Value) -> Vec<Counter> {
        let Value::Matrix(series) = value else { return Vec::new() };
        series
            .iter()
            .map(|s| {
                let mut at: Vec<Option<f64>> = vec![None; self.count + 1];
                for sample in &s.samples {
                    let offset = sample.t - self.start;
                    if offset >= 0
                        && offset % self.step_ms == 0
                        && sample.v.is_finite()
                        && let Some(slot) = at.get_mut((offset / self.step_ms) as usize)
                    {
                        *slot = Some(sample.v);
                    }
                }
                let increases = (1..=self.count)
                    .map(|k| match (at[k - 1], at[k]) {
                        (Some(before), Some(now)) if now >= before => now - before,
                        // Reset, or new: it counted from zero.
                        (_, Some(now)) => now,
                        (_, None) => 0.0,
                    })
                    .collect();
                Counter { labels: s.labels.clone(), increases }
            })
            .collect()
    }

    /// Per value of label `by` (`""` for none), the summed increase per block.
    fn sums(&self, counters: &[Counter], by: &str) -> BTreeMap<String, Vec<f64>> {
        let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for counter in counters {
            let key = if by.is_empty() { String::new() } else { counter.labels.get(by).unwrap_or_default().to_owned() };
            let row = out.entry(key).or_insert_with(|| vec![0.0; self.count]);
            row.iter_mut().zip(&counter.increases).for_each(|(r, i)| *r += i);
        }
        out
    }

    /// Per value of label `by`, one histogram per block from `le`-labelled bucket counters.
    fn distributions(&self, counters: &[Counter], by: &str) -> BTreeMap<String, Vec<Distribution>> {
        let mut by_bound: BTreeMap<String, BTreeMap<u64, (f64, Vec<f64>)>> = BTreeMap::new();
        for counter in counters {
            let Some(bound) = counter.labels.get("le").and_then(parse_bound) else { continue };
            let key = if by.is_empty() { String::new() } else { counter.labels.get(by).unwrap_or_default().to_owned() };
            let entry =
                by_bound.entry(key).or_default().entry(bound.to_bits()).or_insert((bound, vec![0.0; self.count]));
            entry.1.iter_mut().zip(&counter.increases).for_each(|(e, i)| *e += i);
        }
        let mut out = BTreeMap::new();
        for (key, buckets) in by_bound {
            if !buckets.values().any(|(bound, _)| *bound == f64::INFINITY) {
                continue;
            }
            let blocks = (0..self.count)
                .filter_map(|k| {
                    Binned::from_cumulative(buckets.values().map(|(bound, counts)| (*bound, counts[k]))).ok()
                })
                .map(Distribution::Binned)
                .collect();
            out.insert(key, blocks);
        }
        out
    }
}

fn parse_bound(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" | "inf" => Some(f64::INFINITY),
        _ => le.parse::<f64>().ok().filter(|b| !b.is_nan()),
    }
}

/// The metrics of a comparison, in table order.
fn metrics(a: &CohortData, b: &CohortData) -> Vec<Metric> {
    let lower = Direction::LowerIsBetter;
    let mut metrics = Vec::new();
    for (family, quantiles, da, db) in [
        ("ttft", &[0.5_f64, 0.95, 0.99][..], &a.ttft, &b.ttft),
        ("tpot", &[0.5, 0.95][..], &a.tpot, &b.tpot),
        ("e2e", &[0.5, 0.95, 0.99][..], &a.e2e, &b.e2e),
    ] {
        for &q in quantiles {
            let name = format!("{family}_p{}", (q * 100.0).round());
            metrics.push(Metric::new(name, "seconds", lower, Data::Quantile { q, a: da.clone(), b: db.clone() }));
        }
    }
    metrics.push(Metric::new(
        "error_rate",
        "ratio",
        lower,
        Data::Rate { a: a.requests.clone(), b: b.requests.clone() },
    ));
    let scorers: std::collections::BTreeSet<&String> = a.scores.keys().chain(b.scores.keys()).collect();
    for scorer in scorers {
        let empty = Vec::new();
        let (sa, sb) = (a.scores.get(scorer).unwrap_or(&empty), b.scores.get(scorer).unwrap_or(&empty));
        let direction =
            if LOWER_IS_BETTER_SCORERS.contains(&scorer.as_str()) { lower } else { Direction::HigherIsBetter };
        let moments = |blocks: &[Distribution]| blocks.iter().map(Moments::of).collect::<Vec<_>>();
        metrics.push(Metric::new(
            format!("{scorer}_mean"),
            "score",
            direction,
            Data::Mean { a: moments(sa), b: moments(sb) },
        ));
        let flagged = |data: &CohortData, blocks: &[Distribution]| -> Vec<Counts> {
            let events = data.flagged.get(scorer);
            blocks
                .iter()
                .enumerate()
                .map(|(k, d)| {
                    Counts::new(events.and_then(|e| e.get(k)).copied().unwrap_or(0.0).min(d.count()), d.count())
                })
                .collect()
        };
        metrics.push(Metric::new(
            format!("{scorer}_flagged_rate"),
            "ratio",
            lower,
            Data::Rate { a: flagged(a, sa), b: flagged(b, sb) },
        ));
    }
    // Figures, not samples: cost per 1M output tokens, and each score's mean per dollar of it.
    let (cost_a, cost_b) = (a.dollars_per_1m_output_tokens, b.dollars_per_1m_output_tokens);
    if cost_a.is_some() || cost_b.is_some() {
        metrics.push(Metric::new("cost_per_1m_output_tokens", "dollars", lower, Data::Figure { a: cost_a, b: cost_b }));
        let mean = |data: &CohortData, scorer: &str| -> Option<f64> {
            let blocks = data.scores.get(scorer)?;
            let merged = Moments::merge(&blocks.iter().map(Moments::of).collect::<Vec<_>>());
            (merged.n > 0.0).then_some(merged.mean)
        };
        let per_dollar = |data: &CohortData, cost: Option<f64>, scorer: &str| -> Option<f64> {
            Some(mean(data, scorer)? / cost.filter(|c| *c > 0.0)?)
        };
        let scorers: std::collections::BTreeSet<&String> = a.scores.keys().chain(b.scores.keys()).collect();
        for scorer in scorers.into_iter().filter(|s| !LOWER_IS_BETTER_SCORERS.contains(&s.as_str())) {
            metrics.push(Metric::new(
                format!("{scorer}_per_dollar"),
                "score_per_dollar",
                Direction::HigherIsBetter,
                Data::Figure { a: per_dollar(a, cost_a, scorer), b: per_dollar(b, cost_b, scorer) },
            ));
        }
    }
    metrics
}

/// Why no metric could be tested, with the cohorts' request counts and what the first metric needs.
fn not_enough_message(comparison: &Comparison, a: &CohortData, b: &CohortData) -> String {
    let requests = |d: &CohortData| d.requests.iter().map(|c| c.trials).sum::<f64>().round();
    let first = comparison.metrics.iter().find(|m| m.n_needed.is_some());
    let need =
        first.map_or(String::new(), |m| format!("; {} needs ≈ {} per cohort", m.name, m.n_needed.unwrap_or_default()));
    format!("not enough data to compare: cohort a has n = {} requests, cohort b n = {}{need}", requests(a), requests(b))
}

#[cfg(test)]
mod tests;
