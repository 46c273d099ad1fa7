//! A cohort's distribution of one quantity: classic histogram buckets or raw samples, with quantiles and their standard errors.

use serde::Serialize;

use crate::error::{Error, Result};

/// Observations of one quantity (a latency, a score) in one cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Distribution {
    /// Counts in classic histogram buckets, as the gateway's
    /// `gen_ai_*_bucket` series hold them.
    Binned(Binned),
    /// Raw observations (the timings of sampled exchanges), sorted.
    Samples {
        /// The observations, ascending.
        values: Vec<f64>,
    },
}

/// Histogram buckets: upper bounds ascending, the last `+Inf`, and the
/// observations in each (not cumulative). Counts may be fractional: an
/// `increase()` over a range extrapolates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binned {
    bounds: Vec<f64>,
    counts: Vec<f64>,
}

/// A quantile estimate, the variance of the cumulative share at it under
/// independent sampling, and how far the estimate moves per unit of share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct QuantileEstimate {
    pub(crate) value: f64,
    /// Variance of the estimated share at or below `value`, for independent observations.
    pub(crate) share_variance: f64,
    /// dQ/dF at the estimate: the standard error is `√share_variance · slope`.
    pub(crate) slope: f64,
}

impl QuantileEstimate {
    #[cfg(test)]
    pub(crate) fn standard_error(&self) -> f64 {
        self.share_variance.sqrt() * self.slope
    }
}

/// Why a quantile has no estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NoEstimate {
    /// No observations.
    Empty,
    /// The quantile falls in the `+Inf` bucket, above this bound.
    BeyondLargestBound(f64),
}

impl Binned {
    /// Buckets from `(upper bound, cumulative count)` pairs as Prometheus
    /// writes them (`le` labels and their counts), in any order. A `+Inf`
    /// bucket must be present. Cumulative counts that dip (separate
    /// `increase()` extrapolations of neighbouring buckets) are raised to
    /// the running maximum, as `histogram_quantile` does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBuckets`] without a `+Inf` bucket, with a NaN or
    /// duplicate bound, or with a negative or non-finite count.
    pub fn from_cumulative(buckets: impl IntoIterator<Item = (f64, f64)>) -> Result<Binned> {
        let mut buckets: Vec<(f64, f64)> = buckets.into_iter().collect();
        if let Some((bound, count)) = buckets.iter().find(|(b, c)| b.is_nan() || !c.is_finite() || *c < 0.0) {
            return Err(Error::InvalidBuckets { message: format!("bucket le={bound} has count {count}") });
        }
        buckets.sort_by(|x, y| x.0.total_cmp(&y.0));
        if buckets.last().is_none_or(|(bound, _)| *bound != f64::INFINITY) {
            return Err(Error::InvalidBuckets { message: "no +Inf bucket".to_owned() });
        }
        if let Some(pair) = buckets.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(Error::InvalidBuckets { message: format!("bucket le={} appears twice", pair[0].0) });
        }
        let mut bounds = Vec::with_capacity(buckets.len());
        let mut counts = Vec::with_capacity(buckets.len());
        let mut previous = 0.0_f64;
        for (bound, cumulative) in buckets {
            let cumulative = cumulative.max(previous);
            bounds.push(bound);
            counts.push(cumulative - previous);
            previous = cumulative;
        }
        Ok(Binned { bounds, counts })
    }

    /// Buckets with these upper bounds (`+Inf` added when missing) and no observations.
    pub fn empty(bounds: &[f64]) -> Binned {
        let mut bounds = bounds.to_vec();
        if bounds.last() != Some(&f64::INFINITY) {
            bounds.push(f64::INFINITY);
        }
        let counts = vec![0.0; bounds.len()];
        Binned { bounds, counts }
    }

    /// Adds one observation to the first bucket whose bound is at least `value`.
    pub fn observe(&mut self, value: f64) {
        let idx = self.bounds.partition_point(|bound| *bound < value);
        // The last bound is +Inf, so every value but NaN (which lands first) has a bucket.
        self.counts[idx] += 1.0;
    }

    /// The upper bounds, the last `+Inf`.
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Observations per bucket (not cumulative).
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    fn total(&self) -> f64 {
        self.counts.iter().sum()
    }

    fn lower_bound(&self, idx: usize) -> f64 {
        match idx {
            // Prometheus's convention: the first bucket starts at 0 when its bound is positive.
            0 => self.bounds[0].min(0.0),
            _ => self.bounds[idx - 1],
        }
    }

    /// The `q` quantile interpolated linearly within its bucket, exactly as
    /// `histogram_quantile` does, and the standard error of that estimator.
    ///
    /// With `a` and `b` the cumulative shares at the bucket's edges and `t`
    /// the position of the estimate within it, the interpolated share
    /// `F̂ = (1 − t)·a + t·b` has variance `((1 − t)²a(1 − a) + t²b(1 − b) +
    /// 2t(1 − t)a(1 − b)) / n` under multinomial sampling, and the estimate
    /// moves by `ΔF̂ · width / (b − a)` (the delta method). Woodruff's
    /// `q(1 − q)/n` would overstate the variance by `t(1 − t)(b − a)/n`,
    /// which for wide buckets halves the test's real false positive rate.
    fn quantile(&self, q: f64) -> Result<QuantileEstimate, NoEstimate> {
        let n = self.total();
        if n <= 0.0 {
            return Err(NoEstimate::Empty);
        }
        let rank = q * n;
        let mut below = 0.0;
        let mut idx = 0;
        while idx + 1 < self.counts.len() && below + self.counts[idx] < rank {
            below += self.counts[idx];
            idx += 1;
        }
        let in_bucket = self.counts[idx];
        if idx + 1 == self.counts.len() || in_bucket <= 0.0 {
            let largest = self.bounds.iter().rev().copied().find(|b| b.is_finite()).unwrap_or(0.0);
            return Err(NoEstimate::BeyondLargestBound(largest));
        }
        let (lower, upper) = (self.lower_bound(idx), self.bounds[idx]);
        let width = upper - lower;
        let t = ((rank - below) / in_bucket).clamp(0.0, 1.0);
        let a = below / n;
        let b = (below + in_bucket) / n;
        let variance =
            ((1.0 - t).powi(2) * a * (1.0 - a) + t * t * b * (1.0 - b) + 2.0 * t * (1.0 - t) * a * (1.0 - b)).max(0.0)
                / n;
        Ok(QuantileEstimate { value: lower + width * t, share_variance: variance, slope: width / (b - a) })
    }

    /// Observations at or below `x`, interpolated linearly within its
    /// bucket (the inverse of the quantile's interpolation).
    fn below(&self, x: f64) -> f64 {
        let mut below = 0.0;
        for (idx, count) in self.counts.iter().enumerate() {
            let upper = self.bounds[idx];
            if x >= upper {
                below += count;
                continue;
            }
            let lower = self.lower_bound(idx);
            if upper.is_finite() && x > lower {
                below += count * (x - lower) / (upper - lower);
            }
            break;
        }
        below
    }

    /// Mean and variance from bucket midpoints (the `+Inf` bucket at the
    /// largest finite bound): what a histogram of bounded scores allows.
    fn moments(&self) -> (f64, f64, f64) {
        let n = self.total();
        let largest = self.bounds.iter().rev().copied().find(|b| b.is_finite()).unwrap_or(0.0);
        let mid = |idx: usize| {
            let upper = self.bounds[idx];
            if upper.is_finite() { (self.lower_bound(idx) + upper) / 2.0 } else { largest }
        };
        if n <= 0.0 {
            return (0.0, 0.0, 0.0);
        }
        let mean = (0..self.counts.len()).map(|i| self.counts[i] * mid(i)).sum::<f64>() / n;
        let squares = (0..self.counts.len()).map(|i| self.counts[i] * (mid(i) - mean).powi(2)).sum::<f64>();
        (n, mean, if n > 1.0 { squares / (n - 1.0) } else { 0.0 })
    }
}

impl Distribution {
    /// Raw observations; NaNs are dropped.
    pub fn samples(values: impl IntoIterator<Item = f64>) -> Distribution {
        let mut values: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
        values.sort_by(f64::total_cmp);
        Distribution::Samples { values }
    }

    /// How many observations (fractional for extrapolated bucket increases).
    pub fn count(&self) -> f64 {
        match self {
            Distribution::Binned(binned) => binned.total(),
            Distribution::Samples { values } => values.len() as f64,
        }
    }

    /// Sample size, mean and variance: exact for samples, from bucket
    /// midpoints for buckets.
    pub(crate) fn moments(&self) -> (f64, f64, f64) {
        match self {
            Distribution::Binned(binned) => binned.moments(),
            Distribution::Samples { values } => {
                let n = values.len() as f64;
                if values.is_empty() {
                    return (0.0, 0.0, 0.0);
                }
                let mean = values.iter().sum::<f64>() / n;
                let squares = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
                (n, mean, if n > 1.0 { squares / (n - 1.0) } else { 0.0 })
            }
        }
    }

    /// The `q` quantile and its standard error: for buckets by
    /// `histogram_quantile`'s interpolation and the delta method, for
    /// samples by linear interpolation between order statistics and
    /// Woodruff's interval (the quantiles at `q ± 1.96·√(q(1 − q)/n)`,
    /// whose half-width over 1.96 is the standard error).
    pub(crate) fn quantile(&self, q: f64) -> Result<QuantileEstimate, NoEstimate> {
        match self {
            Distribution::Binned(binned) => binned.quantile(q),
            Distribution::Samples { values } => {
                if values.is_empty() {
                    return Err(NoEstimate::Empty);
                }
                let n = values.len() as f64;
                let z = 1.959_963_984_540_054;
                let spread = z * (q * (1.0 - q) / n).sqrt();
                let low = sample_quantile(values, (q - spread).max(0.0));
                let high = sample_quantile(values, (q + spread).min(1.0));
                Ok(QuantileEstimate {
                    value: sample_quantile(values, q),
                    share_variance: q * (1.0 - q) / n,
                    slope: (high - low) / (2.0 * spread),
                })
            }
        }
    }

    /// Observations at or below `x` (interpolated within a bucket).
    pub(crate) fn below(&self, x: f64) -> f64 {
        match self {
            Distribution::Binned(binned) => binned.below(x),
            Distribution::Samples { values } => values.partition_point(|v| *v <= x) as f64,
        }
    }

    /// The blocks of one cohort as one distribution: buckets added where
    /// their bounds agree (else each block's samples are kept as they are),
    /// samples concatenated. `None` for no blocks, or for buckets mixed with
    /// samples or with other bounds.
    pub fn merge(blocks: &[Distribution]) -> Option<Distribution> {
        let first = blocks.first()?;
        match first {
            Distribution::Binned(first) => {
                let mut merged = Binned::empty(&first.bounds);
                for block in blocks {
                    let Distribution::Binned(block) = block else { return None };
                    if block.bounds != merged.bounds {
                        return None;
                    }
                    merged.counts.iter_mut().zip(&block.counts).for_each(|(m, c)| *m += c);
                }
                Some(Distribution::Binned(merged))
            }
            Distribution::Samples { .. } => {
                let mut values = Vec::new();
                for block in blocks {
                    let Distribution::Samples { values: block } = block else { return None };
                    values.extend_from_slice(block);
                }
                Some(Distribution::samples(values))
            }
        }
    }
}

/// Where Mood's quantile test splits two cohorts, and how many of each
/// fall at or below the split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Split {
    /// The threshold: the pooled quantile, or the bucket bound nearest it.
    pub(crate) at: f64,
    pub(crate) below_a: f64,
    pub(crate) below_b: f64,
}

/// The split for the `q` quantile of `a` and `b` pooled: for samples the
/// pooled sample quantile; for buckets the finite bound whose pooled
/// cumulative share is nearest `q` (strictly between 0 and 1), since
/// buckets say nothing finer. A sample set compared with buckets is binned
/// into the buckets first. `None` when no bound splits the pooled data.
pub(crate) fn split(a: &Distribution, b: &Distribution, q: f64) -> Option<Split> {
    match (a, b) {
        (Distribution::Samples { values: xa }, Distribution::Samples { values: xb }) => {
            let mut pooled: Vec<f64> = xa.iter().chain(xb).copied().collect();
            pooled.sort_by(f64::total_cmp);
            if pooled.is_empty() {
                return None;
            }
            let at = sample_quantile(&pooled, q);
            let below = |values: &[f64]| values.partition_point(|v| *v <= at) as f64;
            Some(Split { at, below_a: below(xa), below_b: below(xb) })
        }
        (Distribution::Binned(ha), Distribution::Binned(hb)) => split_binned(ha, hb, q),
        (Distribution::Binned(h), Distribution::Samples { values }) => split_binned(h, &bin(h.bounds(), values), q),
        (Distribution::Samples { values }, Distribution::Binned(h)) => split_binned(&bin(h.bounds(), values), h, q),
    }
}

/// `h` re-bucketed onto `bounds`, each of which is one of its own.
fn onto(h: &Binned, bounds: &[f64]) -> Binned {
    let mut out = Binned::empty(bounds);
    for (bound, count) in h.bounds.iter().zip(&h.counts) {
        let idx = out.bounds.partition_point(|b| b < bound);
        out.counts[idx] += count;
    }
    out
}

fn bin(bounds: &[f64], values: &[f64]) -> Binned {
    let mut binned = Binned::empty(bounds);
    values.iter().for_each(|v| binned.observe(*v));
    binned
}

fn split_binned(a: &Binned, b: &Binned, q: f64) -> Option<Split> {
    let (a, b) = if a.bounds == b.bounds {
        (a.clone(), b.clone())
    } else {
        // Different bucket layouts: compare at the bounds both have (+Inf at least).
        let common: Vec<f64> = a.bounds.iter().copied().filter(|x| b.bounds.contains(x)).collect();
        (onto(a, &common), onto(b, &common))
    };
    let n = a.total() + b.total();
    if n <= 0.0 {
        return None;
    }
    let mut best: Option<(f64, usize)> = None;
    let (mut below_a, mut below_b) = (0.0, 0.0);
    let mut cumulative = Vec::with_capacity(a.counts.len());
    for idx in 0..a.counts.len() - 1 {
        below_a += a.counts[idx];
        below_b += b.counts[idx];
        cumulative.push((below_a, below_b));
        let share = (below_a + below_b) / n;
        if share > 0.0 && share < 1.0 && best.is_none_or(|(distance, _)| (share - q).abs() < distance) {
            best = Some(((share - q).abs(), idx));
        }
    }
    let (_, idx) = best?;
    Some(Split { at: a.bounds[idx], below_a: cumulative[idx].0, below_b: cumulative[idx].1 })
}

/// Linear interpolation between the closest order statistics (Hyndman and
/// Fan's type 7, what NumPy and R default to) of sorted, non-empty `values`.
fn sample_quantile(values: &[f64], q: f64) -> f64 {
    let position = q * (values.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(values.len() - 1);
    let fraction = position - lower as f64;
    values[lower] + (values[upper] - values[lower]) * fraction
}

#[cfg(test)]
mod tests;
