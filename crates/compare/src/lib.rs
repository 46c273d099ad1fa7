//! The statistics of comparing two cohorts: per metric both values, the difference, a 95 % interval, a p-value, a verdict, and Holm's correction across metrics.
//!
//! A cohort is whatever the caller selected (a model, an upstream, a label
//! set, a time window); this crate sees only its data, one [`Metric`] at a
//! time, always as "A, the baseline" against "B, the candidate", each
//! cohort's data cut into time blocks (one minute from the API). Each kind
//! of data gets a test that fits it:
//!
//! - latency quantiles ([`Data::Quantile`]), from histogram buckets or raw
//!   exchange timings ([`Distribution`]): the values are
//!   `histogram_quantile`'s interpolation (order statistics for samples);
//!   the p-value is Mood's quantile test, the two cohorts' shares at or
//!   below the pooled quantile, or for buckets at the bucket bound nearest
//!   it, which is where buckets hold their information; the interval is
//!   of the interpolated quantiles' difference by the delta method.
//! - rates ([`Data::Rate`]: errors per request, flagged per scored
//!   exchange): the difference of the two rates, or Fisher's exact test
//!   with Newcombe's interval when a cell of the 2×2 table expects fewer
//!   than five.
//! - means ([`Data::Mean`]: quality scores): Welch's test.
//! - figures without a sampling model ([`Data::Figure`]: cost per token,
//!   quality per dollar): both values and the difference, no test.
//!
//! Requests that one replica serves in the same seconds share its batch
//! and queue, so their latencies are not independent, and tests that take
//! them as such find differences between identical replicas far too often.
//! Every variance here therefore also comes from how the time blocks vary
//! (`ratio`): paired block by block when both cohorts cover the same time
//! ([`Options::paired`]), else the larger of each cohort's block and
//! independent variance, with Student's t on the blocks' degrees of
//! freedom. Nothing is resampled: the same data always gives the same answer.
//!
//! Every tested metric's p-value is then adjusted by Holm's method across
//! the comparison, so that "some metric differs" holds its α however many
//! metrics are compared, and the verdict (better, worse, no detectable
//! difference with the smallest effect the data could have detected at 80 %
//! power) follows the adjusted p-value and the metric's [`Direction`]. A
//! metric with too little data gets "not enough data (n = …, need ≈ …)",
//! never a verdict. The intervals are per metric (95 %, not adjusted).
//! `tests/it/calibration.rs` measures the false positive rate and the
//! power on the simulator's traffic.
#![warn(missing_docs)]

mod distribution;
mod error;
mod holm;
mod probability;
mod proportion;
mod ratio;

use std::fmt;

use serde::Serialize;

pub use distribution::{Binned, Distribution};
pub use error::{Error, Result};
pub use proportion::Counts;

use distribution::NoEstimate;

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Latency, errors, cost, flagged rates.
    LowerIsBetter,
    /// Quality scores, throughput, quality per dollar.
    HigherIsBetter,
}

/// The sample size, mean and variance of a score in one cohort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Moments {
    /// Observations.
    pub n: f64,
    /// Their mean.
    pub mean: f64,
    /// Their sample variance.
    pub variance: f64,
}

impl Moments {
    /// Exact moments of raw observations, or moments from bucket midpoints.
    pub fn of(distribution: &Distribution) -> Moments {
        let (n, mean, variance) = distribution.moments();
        Moments { n, mean, variance }
    }

    /// The moments of all blocks together (within- and between-block variation).
    pub fn merge(blocks: &[Moments]) -> Moments {
        let n: f64 = blocks.iter().map(|m| m.n).sum();
        if n <= 0.0 {
            return Moments { n: 0.0, mean: 0.0, variance: 0.0 };
        }
        let mean = blocks.iter().map(|m| m.n * m.mean).sum::<f64>() / n;
        let squares: f64 =
            blocks.iter().map(|m| (m.n - 1.0).max(0.0) * m.variance + m.n * (m.mean - mean).powi(2)).sum();
        Moments { n, mean, variance: if n > 1.0 { squares / (n - 1.0) } else { 0.0 } }
    }
}

/// Both cohorts' data for one metric, each cohort as its time blocks in
/// order (one minute each from the API), or as a single block when the data
/// has no time in it. Blocks let the tests allow for observations that move
/// together (one replica's requests in the same seconds); see [`Outcome::df`].
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// The `q` quantile (0 < q < 1) of a distribution.
    Quantile {
        /// Which quantile, 0.95 for p95.
        q: f64,
        /// The baseline's observations, per block.
        a: Vec<Distribution>,
        /// The candidate's observations, per block.
        b: Vec<Distribution>,
    },
    /// A rate: events out of trials.
    Rate {
        /// The baseline's counts, per block.
        a: Vec<Counts>,
        /// The candidate's counts, per block.
        b: Vec<Counts>,
    },
    /// A mean.
    Mean {
        /// The baseline's moments, per block.
        a: Vec<Moments>,
        /// The candidate's moments, per block.
        b: Vec<Moments>,
    },
    /// A figure without a sampling model (cost per token); absent where it
    /// cannot be computed (no price configured).
    Figure {
        /// The baseline's value.
        a: Option<f64>,
        /// The candidate's value.
        b: Option<f64>,
    },
}

/// One metric to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its name in tables and JSON (`ttft_p95`, `error_rate`).
    pub name: String,
    /// The unit of its values (`seconds`, `ratio`, `score`, `dollars_per_1m_tokens`).
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// The two cohorts' data.
    pub data: Data,
}

impl Metric {
    /// A metric named `name` in `unit`.
    pub fn new(name: impl Into<String>, unit: impl Into<String>, direction: Direction, data: Data) -> Metric {
        Metric { name: name.into(), unit: unit.into(), direction, data }
    }
}

/// The significance level and power a comparison is made at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Options {
    /// Family-wise error rate across the metrics of one comparison (Holm).
    pub alpha: f64,
    /// Power at which the minimum detectable effect is stated.
    pub power: f64,
    /// Whether block k of A and block k of B cover the same time (two
    /// cohorts over one range, not two time windows): then each test takes
    /// its variance from the blocks' paired differences, in which what
    /// moves both cohorts at once (the load) cancels.
    pub paired: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { alpha: 0.05, power: 0.8, paired: false }
    }
}

/// The test a metric's p-value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Mood's quantile test: the shares of each cohort at or below the
    /// pooled quantile (for buckets, the bucket bound nearest it, where the
    /// buckets hold their information), compared as two proportions. The
    /// interval is of the interpolated quantiles' difference (delta method).
    MoodQuantile,
    /// Difference of interpolated quantiles over their delta-method
    /// standard errors (when no bound splits the pooled data).
    QuantileDifference,
    /// Difference of two rates over their standard errors.
    TwoProportion,
    /// Fisher's exact test (few events).
    FisherExact,
    /// Welch's test of means.
    Welch,
    /// No test (a figure, or too little data).
    None,
}

/// What a comparison concludes about one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// B is better than A, significantly after Holm's correction.
    Better,
    /// B is worse than A, significantly after Holm's correction.
    Worse,
    /// No difference the data can tell from noise; see the minimum detectable effect.
    NoDetectableDifference,
    /// Too few observations in a cohort to test at all.
    NotEnoughData,
    /// Not tested: a figure without a sampling model, or a value that
    /// cannot be estimated (see the reason).
    NotTested,
}

impl Verdict {
    /// The verdict as its JSON string.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoDetectableDifference => "no_detectable_difference",
            Verdict::NotEnoughData => "not_enough_data",
            Verdict::NotTested => "not_tested",
        }
    }
}

/// One metric's comparison: B against A.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The metric's name.
    pub name: String,
    /// Unit of `a`, `b`, `difference`, the interval and the minimum detectable effect.
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// The test used.
    pub test: Test,
    /// A's value, where it can be estimated.
    pub a: Option<f64>,
    /// B's value, where it can be estimated.
    pub b: Option<f64>,
    /// Observations behind A's value (requests, scored exchanges).
    pub n_a: f64,
    /// Observations behind B's value.
    pub n_b: f64,
    /// `b − a`.
    pub difference: Option<f64>,
    /// `(b − a) / a`, where `a` is not zero.
    pub relative_difference: Option<f64>,
    /// 95 % interval of `b − a` (per metric, not adjusted), lower end.
    pub ci_low: Option<f64>,
    /// 95 % interval of `b − a`, upper end.
    pub ci_high: Option<f64>,
    /// For [`Test::MoodQuantile`], the threshold at which the shares were compared.
    pub tested_at: Option<f64>,
    /// Degrees of freedom of the t test where a cohort's time blocks varied
    /// more than independent observations would (its block variance was
    /// used); `None` for a normal test.
    pub df: Option<f64>,
    /// The test's p-value.
    pub p_value: Option<f64>,
    /// The p-value after Holm's correction over this comparison's tested metrics.
    pub p_adjusted: Option<f64>,
    /// The smallest |b − a| this test would detect with the comparison's
    /// power at its α (before correction).
    pub min_detectable_effect: Option<f64>,
    /// What the comparison concludes.
    pub verdict: Verdict,
    /// For `not_enough_data`, the observations a cohort needs, about.
    pub n_needed: Option<u64>,
    /// Why there is no verdict, in words.
    pub reason: Option<String>,
}

impl Outcome {
    /// Whether B is significantly worse than A on this metric.
    pub fn is_worse(&self) -> bool {
        self.verdict == Verdict::Worse
    }
}

impl fmt::Display for Outcome {
    /// The verdict as a table cell: `worse`, `no detectable difference
    /// (≥ 0.012)`, `not enough data (n = 12, need ≈ 200)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.verdict {
            Verdict::Better => f.write_str("better"),
            Verdict::Worse => f.write_str("worse"),
            Verdict::NoDetectableDifference => match self.min_detectable_effect {
                Some(mde) => write!(f, "no detectable difference (MDE {})", format_number(mde)),
                None => f.write_str("no detectable difference"),
            },
            Verdict::NotEnoughData => write!(
                f,
                "not enough data (n = {}, need ≈ {})",
                self.n_a.min(self.n_b).round(),
                self.n_needed.unwrap_or_default()
            ),
            Verdict::NotTested => f.write_str(self.reason.as_deref().unwrap_or("not tested")),
        }
    }
}

/// Three significant digits, as tables show numbers.
pub fn format_number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    format!("{value:.digits$}")
}

/// A whole comparison: each metric's outcome, in the order given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The level and power used.
    pub options: Options,
    /// How the p-values were adjusted across metrics.
    pub correction: &'static str,
    /// The metrics a deploy gate decides on, corrected as a family of their
    /// own (see [`compare_gated`]); empty when every metric is one family.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gate: Vec<String>,
    /// One outcome per metric.
    pub metrics: Vec<Outcome>,
}

impl Comparison {
    /// The outcome of the metric called `name`.
    pub fn metric(&self, name: &str) -> Option<&Outcome> {
        self.metrics.iter().find(|outcome| outcome.name == name)
    }
}

/// Fewest observations per cohort for any test.
pub const MIN_SAMPLES: u64 = 30;
/// Fewest observations beyond a quantile, on its rarer side, for its
/// normal approximation (p99 needs about 1,000, p95 200, p50 30).
pub const MIN_TAIL: f64 = 10.0;

/// Compares every metric, then adjusts the p-values across them by Holm's
/// method and gives each its verdict.
pub fn compare(metrics: &[Metric], options: Options) -> Comparison {
    compare_gated(metrics, options, &[])
}

/// As [`compare`], with the metrics named in `gate` (those a deploy gate
/// fails on, `--fail-if-worse`) a Holm family of their own and the others
/// another: the gate's decision, "B is worse on one of these", is wrong
/// with probability at most α whatever the other metrics do, and a gate on
/// one metric is not diluted by the twenty-odd scores beside it. Each
/// family holds its own family-wise rate at α (both together at most 2α).
/// Names in `gate` that are no metric are ignored (the caller checks them).
pub fn compare_gated(metrics: &[Metric], options: Options, gate: &[String]) -> Comparison {
    let mut outcomes: Vec<Outcome> = metrics.iter().map(|metric| test(metric, options)).collect();
    let gated: Vec<String> = gate.iter().filter(|g| metrics.iter().any(|m| &m.name == *g)).cloned().collect();
    for in_gate in [true, false] {
        let family: Vec<usize> = (0..outcomes.len())
            .filter(|&i| outcomes[i].p_value.is_some() && gated.contains(&outcomes[i].name) == in_gate)
            .collect();
        adjust_family(&mut outcomes, &family, options);
    }
    let correction = if gated.is_empty() { "holm" } else { "holm within the gate and within the rest" };
    Comparison { options, correction, gate: gated, metrics: outcomes }
}

/// Holm's adjustment over the outcomes at `family`, and their verdicts.
fn adjust_family(outcomes: &mut [Outcome], family: &[usize], options: Options) {
    let tested = family;
    let p_values: Vec<f64> = tested.iter().filter_map(|&i| outcomes[i].p_value).collect();
    for (&idx, adjusted) in tested.iter().zip(holm::adjust(&p_values)) {
        let outcome = &mut outcomes[idx];
        outcome.p_adjusted = Some(adjusted);
        let difference = outcome.difference.unwrap_or(0.0);
        outcome.verdict = if adjusted < options.alpha && difference != 0.0 {
            let b_is_lower = difference < 0.0;
            match (outcome.direction, b_is_lower) {
                (Direction::LowerIsBetter, true) | (Direction::HigherIsBetter, false) => Verdict::Better,
                _ => Verdict::Worse,
            }
        } else {
            Verdict::NoDetectableDifference
        };
    }
}

/// One metric's test, before the correction (verdicts of tested metrics are filled in later).
fn test(metric: &Metric, options: Options) -> Outcome {
    let mut outcome = Outcome {
        name: metric.name.clone(),
        unit: metric.unit.clone(),
        direction: metric.direction,
        test: Test::None,
        a: None,
        b: None,
        n_a: 0.0,
        n_b: 0.0,
        difference: None,
        relative_difference: None,
        ci_low: None,
        ci_high: None,
        tested_at: None,
        df: None,
        p_value: None,
        p_adjusted: None,
        min_detectable_effect: None,
        verdict: Verdict::NotTested,
        n_needed: None,
        reason: None,
    };
    match &metric.data {
        Data::Figure { a, b } => {
            outcome.a = *a;
            outcome.b = *b;
            if let (Some(a), Some(b)) = (a, b) {
                set_values(&mut outcome, *a, *b);
            }
            outcome.reason = Some("a figure, not a sample: not tested".to_owned());
        }
        Data::Quantile { q, a, b } => test_quantile(&mut outcome, *q, a, b, options),
        Data::Rate { a, b } => test_rate(&mut outcome, a, b, options),
        Data::Mean { a, b } => {
            let (ma, mb) = (Moments::merge(a), Moments::merge(b));
            outcome.n_a = ma.n;
            outcome.n_b = mb.n;
            if ma.n.min(mb.n) < MIN_SAMPLES as f64 {
                return not_enough(outcome, MIN_SAMPLES);
            }
            set_values(&mut outcome, ma.mean, mb.mean);
            // Rounding leaves constant scores (one bucket's midpoint, block
            // after block) a variance of about 1e-34, which is no variation.
            let scale = ma.mean.abs().max(mb.mean.abs()).max(f64::MIN_POSITIVE);
            if ma.variance + mb.variance <= (1e-9 * scale).powi(2) {
                outcome.reason = Some("no variation in either cohort: not tested".to_owned());
                return outcome;
            }
            let side = |merged: Moments, blocks: &[Moments]| ratio::Side {
                value: merged.mean,
                independent: merged.variance / merged.n,
                ratio: merged.mean,
                scale: 1.0,
                blocks: blocks.iter().map(|m| (m.n * m.mean, m.n)).collect(),
            };
            let d = ratio::difference(&side(ma, a), &side(mb, b), options.paired, options.alpha, options.power);
            record(&mut outcome, Test::Welch, &d, true);
        }
    }
    outcome
}

fn set_values(outcome: &mut Outcome, a: f64, b: f64) {
    outcome.a = Some(a);
    outcome.b = Some(b);
    outcome.difference = Some(b - a);
    outcome.relative_difference = (a != 0.0).then(|| (b - a) / a);
}

/// Fills in a test's result; `with_interval` also takes its interval and
/// minimum detectable effect.
fn record(outcome: &mut Outcome, test: Test, d: &ratio::Difference, with_interval: bool) {
    outcome.test = test;
    outcome.p_value = Some(d.p_value);
    outcome.df = d.df;
    if with_interval {
        outcome.ci_low = Some(d.ci.0);
        outcome.ci_high = Some(d.ci.1);
        outcome.min_detectable_effect = Some(d.min_detectable);
    }
}

fn test_quantile(outcome: &mut Outcome, q: f64, a: &[Distribution], b: &[Distribution], options: Options) {
    let need = (MIN_TAIL / q.min(1.0 - q)).ceil().max(MIN_SAMPLES as f64) as u64;
    if a.is_empty() || b.is_empty() {
        // No series at all (no stream reported a time per output token): no observations.
        outcome.n_a = Distribution::merge(a).map_or(0.0, |d| d.count());
        outcome.n_b = Distribution::merge(b).map_or(0.0, |d| d.count());
        *outcome = not_enough(outcome.clone(), need);
        return;
    }
    let (Some(ma), Some(mb)) = (Distribution::merge(a), Distribution::merge(b)) else {
        outcome.reason = Some("blocks of different bucket layouts: not tested".to_owned());
        return;
    };
    outcome.n_a = ma.count();
    outcome.n_b = mb.count();
    if outcome.n_a.min(outcome.n_b) < need as f64 {
        *outcome = not_enough(outcome.clone(), need);
        return;
    }
    let (ea, eb) = match (ma.quantile(q), mb.quantile(q)) {
        (Ok(ea), Ok(eb)) => (ea, eb),
        (Err(reason), _) | (_, Err(reason)) => {
            outcome.a = ma.quantile(q).ok().map(|e| e.value);
            outcome.b = mb.quantile(q).ok().map(|e| e.value);
            outcome.reason = Some(match reason {
                NoEstimate::Empty => "no observations".to_owned(),
                NoEstimate::BeyondLargestBound(bound) => {
                    format!("the quantile lies beyond the largest bucket bound ({})", format_number(bound))
                }
            });
            return;
        }
    };
    set_values(outcome, ea.value, eb.value);
    // The interval: each interpolated quantile with the variance of the share at it.
    let side = |merged: &Distribution, blocks: &[Distribution], e: distribution::QuantileEstimate| ratio::Side {
        value: e.value,
        independent: e.share_variance * e.slope * e.slope,
        ratio: merged.below(e.value) / merged.count(),
        scale: e.slope,
        blocks: blocks.iter().map(|block| (block.below(e.value), block.count())).collect(),
    };
    let interval =
        ratio::difference(&side(&ma, a, ea), &side(&mb, b, eb), options.paired, options.alpha, options.power);
    record(outcome, Test::QuantileDifference, &interval, true);
    // The test: the shares at or below the split.
    if let Some(split) = distribution::split(&ma, &mb, q) {
        let blocks = |blocks: &[Distribution]| -> Vec<Counts> {
            blocks.iter().map(|block| Counts::new(block.below(split.at), block.count())).collect()
        };
        let (shares_a, shares_b) = (blocks(a), blocks(b));
        let (test, d) = rate_difference(&shares_a, &shares_b, options);
        outcome.test = if test == Test::FisherExact { Test::FisherExact } else { Test::MoodQuantile };
        outcome.p_value = Some(d.p_value);
        outcome.df = d.df.or(interval.df);
        outcome.tested_at = Some(split.at);
    }
}

fn test_rate(outcome: &mut Outcome, a: &[Counts], b: &[Counts], options: Options) {
    let (ma, mb) = (sum(a), sum(b));
    outcome.n_a = ma.trials;
    outcome.n_b = mb.trials;
    if ma.trials.min(mb.trials) < MIN_SAMPLES as f64 {
        *outcome = not_enough(outcome.clone(), MIN_SAMPLES);
        return;
    }
    set_values(outcome, ma.rate(), mb.rate());
    let (test, d) = rate_difference(a, b, options);
    record(outcome, test, &d, true);
    if test == Test::FisherExact {
        outcome.min_detectable_effect = Some(
            (probability::quantile(1.0 - options.alpha / 2.0) + probability::quantile(options.power))
                * proportion::null_standard_error(ma, mb),
        );
    }
}

fn sum(blocks: &[Counts]) -> Counts {
    blocks.iter().fold(Counts::new(0.0, 0.0), |s, c| Counts::new(s.events + c.events, s.trials + c.trials))
}

/// Two rates, each given by its blocks: Fisher's exact test with Newcombe's
/// interval when a cell of the 2×2 table expects fewer than five, else the
/// difference over each cohort's larger of the independent and block
/// standard errors.
fn rate_difference(a: &[Counts], b: &[Counts], options: Options) -> (Test, ratio::Difference) {
    let (ma, mb) = (sum(a), sum(b));
    if proportion::min_expected(ma, mb) < proportion::MIN_EXPECTED {
        let d = ratio::Difference {
            value: mb.rate() - ma.rate(),
            p_value: proportion::fisher_two_sided(ma, mb),
            ci: proportion::newcombe(ma, mb, probability::quantile(0.975)),
            min_detectable: 0.0,
            df: None,
        };
        return (Test::FisherExact, d);
    }
    let side = |merged: Counts, blocks: &[Counts]| ratio::Side {
        value: merged.rate(),
        independent: merged.rate() * (1.0 - merged.rate()) / merged.trials,
        ratio: merged.rate(),
        scale: 1.0,
        blocks: blocks.iter().map(|c| (c.events, c.trials)).collect(),
    };
    (Test::TwoProportion, ratio::difference(&side(ma, a), &side(mb, b), options.paired, options.alpha, options.power))
}

fn not_enough(mut outcome: Outcome, need: u64) -> Outcome {
    outcome.verdict = Verdict::NotEnoughData;
    outcome.n_needed = Some(need);
    outcome.reason = Some(format!("not enough data (n = {}, need ≈ {need})", outcome.n_a.min(outcome.n_b).round()));
    outcome
}

#[cfg(test)]
mod tests;
