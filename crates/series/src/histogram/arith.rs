//! Histogram arithmetic as PromQL needs it: adding and subtracting (at the
//! smaller schema, with the wider zero bucket, on the common custom bounds),
//! scaling, compacting, and telling a counter reset from the previous sample.

use std::borrow::Cow;
use std::sync::Arc;

use super::{Bucket, CounterResetHint, FloatHistogram};

/// Why two histograms cannot be combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    /// One histogram has exponential buckets and the other custom bounds.
    #[error("histograms with exponential and custom buckets cannot be combined")]
    MixedExponentialCustom,
}

/// What happened while combining two histograms, for annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Combined {
    /// The custom bounds differed and both histograms were moved to the bounds they share.
    pub reconciled_custom_buckets: bool,
}

impl FloatHistogram {
    /// Multiplies every count and the sum by `factor`; a negative factor makes a gauge.
    pub fn mul(&mut self, factor: f64) {
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        self.count *= factor;
        self.sum *= factor;
        self.zero_count *= factor;
        for b in self.positive.iter_mut().chain(self.negative.iter_mut()) {
            b.count *= factor;
        }
    }

    /// Divides every count and the sum by `divisor`; a negative divisor makes
    /// a gauge. Dividing by zero leaves infinite (or NaN) totals and zero
    /// bucket and no buckets, as in Prometheus.
    pub fn div(&mut self, divisor: f64) {
        if divisor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
        if divisor == 0.0 {
            self.positive.clear();
            self.negative.clear();
        }
        self.count /= divisor;
        self.sum /= divisor;
        self.zero_count /= divisor;
        for b in self.positive.iter_mut().chain(self.negative.iter_mut()) {
            b.count /= divisor;
        }
    }

    /// Adds `other` to this histogram.
    ///
    /// # Errors
    ///
    /// [`HistogramError::MixedExponentialCustom`] when one histogram has custom bounds and the other not.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<Combined, HistogramError> {
        self.combine(other, 1.0)
    }

    /// Subtracts `other` from this histogram; the difference is a gauge.
    ///
    /// # Errors
    ///
    /// As [`FloatHistogram::add`].
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<Combined, HistogramError> {
        let combined = self.combine(other, -1.0)?;
        self.counter_reset_hint = CounterResetHint::Gauge;
        Ok(combined)
    }

    fn combine(&mut self, other: &FloatHistogram, sign: f64) -> Result<Combined, HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::MixedExponentialCustom);
        }
        let mut combined = Combined::default();
        let mut other = Cow::Borrowed(other);
        if self.uses_custom_buckets() {
            if self.custom_values != other.custom_values {
                let common = common_bounds(&self.custom_values, &other.custom_values);
                self.reconcile_custom_bounds(&common);
                other.to_mut().reconcile_custom_bounds(&common);
                combined.reconciled_custom_buckets = true;
            }
        } else {
            let schema = self.schema.min(other.schema);
            self.reduce_resolution(schema);
            if other.schema != schema {
                other.to_mut().reduce_resolution(schema);
            }
            // Widening one zero bucket may swallow a bucket that pushes its
            // threshold past the other's, so repeat until they agree.
            for _ in 0..8 {
                if self.zero_threshold < other.zero_threshold {
                    self.widen_zero_bucket(other.zero_threshold);
                } else if other.zero_threshold < self.zero_threshold {
                    other.to_mut().widen_zero_bucket(self.zero_threshold);
                } else {
                    break;
                }
            }
        }
        self.count += sign * other.count;
        self.sum += sign * other.sum;
        self.zero_count += sign * other.zero_count;
        merge_buckets(&mut self.positive, &other.positive, sign);
        merge_buckets(&mut self.negative, &other.negative, sign);
        self.counter_reset_hint = combined_hint(self.counter_reset_hint, other.counter_reset_hint);
        Ok(combined)
    }

    /// Lowers the resolution to `schema` (smaller than the current one) by
    /// merging buckets; custom-bucket histograms are left as they are.
    pub fn reduce_resolution(&mut self, schema: i32) {
        if self.uses_custom_buckets() || schema >= self.schema {
            return;
        }
        let shift = (self.schema - schema) as u32;
        for buckets in [&mut self.positive, &mut self.negative] {
            let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
            for b in buckets.iter() {
                // Bucket i at the higher schema lies in bucket ((i - 1) >> shift) + 1 at the lower one.
                let index = ((b.index - 1) >> shift) + 1;
                match merged.last_mut() {
                    Some(last) if last.index == index => last.count += b.count,
                    _ => merged.push(Bucket { index, count: b.count }),
                }
            }
            *buckets = merged;
        }
        self.schema = schema;
    }

    /// Widens the zero bucket to at least `threshold`: buckets below it move
    /// into the zero bucket, and if the threshold falls inside a populated
    /// bucket, the threshold grows to that bucket's upper bound.
    pub fn widen_zero_bucket(&mut self, threshold: f64) {
        if threshold <= self.zero_threshold || self.uses_custom_buckets() {
            return;
        }
        let mut threshold = threshold;
        loop {
            let mut raised = false;
            for (buckets, positive) in [(&self.positive, true), (&self.negative, false)] {
                for b in buckets {
                    let (lower, upper) = abs_bounds(self.bucket_bounds(b.index, positive));
                    if lower >= threshold {
                        break;
                    }
                    if upper > threshold && b.count != 0.0 {
                        threshold = upper;
                        raised = true;
                    }
                }
            }
            if !raised {
                break;
            }
        }
        let mut moved = 0.0;
        let schema_bounds = |index: i32, positive: bool| abs_bounds(self.bucket_bounds(index, positive));
        let keep_pos: Vec<Bucket> = self
            .positive
            .iter()
            .copied()
            .filter(|b| {
                let below = schema_bounds(b.index, true).0 < threshold;
                if below {
                    moved += b.count;
                }
                !below
            })
            .collect();
        let keep_neg: Vec<Bucket> = self
            .negative
            .iter()
            .copied()
            .filter(|b| {
                let below = schema_bounds(b.index, false).0 < threshold;
                if below {
                    moved += b.count;
                }
                !below
            })
            .collect();
        self.positive = keep_pos;
        self.negative = keep_neg;
        self.zero_count += moved;
        self.zero_threshold = threshold;
    }

    /// Moves a custom-bucket histogram onto `bounds`, a subset of its own
    /// bounds: each bucket goes into the first new bucket that contains it.
    pub fn reconcile_custom_bounds(&mut self, bounds: &Arc<[f64]>) {
        let mut merged: Vec<Bucket> = Vec::with_capacity(self.positive.len());
        for b in &self.positive {
            let upper = self.bucket_bounds(b.index, true).1;
            let index = bounds.partition_point(|&bound| bound < upper) as i32;
            match merged.last_mut() {
                Some(last) if last.index == index => last.count += b.count,
                _ => merged.push(Bucket { index, count: b.count }),
            }
        }
        self.positive = merged;
        self.custom_values = Arc::clone(bounds);
    }

    /// Drops the buckets with a zero count, as Prometheus's `Compact(0)`.
    pub fn compact(&mut self) {
        self.positive.retain(|b| b.count != 0.0);
        self.negative.retain(|b| b.count != 0.0);
    }

    /// Whether this sample, following `previous`, starts over as a reset
    /// counter: its hint says so, or a count, the zero bucket or a bucket
    /// went down, or the layout changed in a way only a reset explains.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::Reset => return true,
            CounterResetHint::NotReset => return false,
            CounterResetHint::Unknown | CounterResetHint::Gauge => {}
        }
        if self.count < previous.count || self.uses_custom_buckets() != previous.uses_custom_buckets() {
            return true;
        }
        if self.uses_custom_buckets() {
            if self.custom_values == previous.custom_values {
                return went_down(&self.positive, &previous.positive);
            }
            // Different bounds are compared on the bounds both share, as
            // arithmetic on the two would be.
            let common = common_bounds(&self.custom_values, &previous.custom_values);
            let (mut current, mut previous) = (self.clone(), previous.clone());
            current.reconcile_custom_bounds(&common);
            previous.reconcile_custom_bounds(&common);
            return went_down(&current.positive, &previous.positive);
        }
        if self.schema > previous.schema || self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let mut previous = previous.clone();
        previous.reduce_resolution(self.schema);
        previous.widen_zero_bucket(self.zero_threshold);
        if previous.zero_threshold != self.zero_threshold || self.zero_count < previous.zero_count {
            return true;
        }
        went_down(&self.positive, &previous.positive) || went_down(&self.negative, &previous.negative)
    }

    /// Whether two histograms are the same value: equal schemas, counts,
    /// sums, zero buckets, bounds and buckets (the counter-reset hint aside).
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        self.schema == other.schema
            && self.zero_threshold == other.zero_threshold
            && self.zero_count == other.zero_count
            && self.count == other.count
            && self.sum.to_bits() == other.sum.to_bits()
            && self.custom_values == other.custom_values
            && self.positive == other.positive
            && self.negative == other.negative
    }
}

/// The custom bounds two histograms share, in increasing order.
pub(super) fn common_bounds(a: &[f64], b: &[f64]) -> Arc<[f64]> {
    a.iter().copied().filter(|bound| b.contains(bound)).collect()
}

/// Bounds by absolute value, the lower one first.
fn abs_bounds((a, b): (f64, f64)) -> (f64, f64) {
    if a < 0.0 { (-b, -a) } else { (a, b) }
}

/// Whether a bucket of `previous` has a larger count in it than `current` (absent buckets count as empty).
fn went_down(current: &[Bucket], previous: &[Bucket]) -> bool {
    let mut cursor = 0;
    for p in previous {
        while cursor < current.len() && current[cursor].index < p.index {
            cursor += 1;
        }
        let current_count = current.get(cursor).filter(|c| c.index == p.index).map(|c| c.count);
        match current_count {
            Some(count) if count < p.count => return true,
            None if p.count != 0.0 => return true,
            _ => {}
        }
    }
    false
}

/// `into += sign * other`, bucket by bucket, keeping the union of both layouts.
fn merge_buckets(into: &mut Vec<Bucket>, other: &[Bucket], sign: f64) {
    if other.is_empty() {
        return;
    }
    let mut out = Vec::with_capacity(into.len() + other.len());
    let (mut i, mut j) = (0, 0);
    while i < into.len() || j < other.len() {
        match (into.get(i), other.get(j)) {
            (Some(a), Some(b)) if a.index == b.index => {
                out.push(Bucket { index: a.index, count: a.count + sign * b.count });
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a.index < b.index => {
                out.push(*a);
                i += 1;
            }
            (Some(a), None) => {
                out.push(*a);
                i += 1;
            }
            (_, Some(b)) => {
                out.push(Bucket { index: b.index, count: sign * b.count });
                j += 1;
            }
            (None, None) => break,
        }
    }
    *into = out;
}

/// The hint of a sum: like with like keeps it, a gauge makes a gauge, else unknown.
pub(super) fn combined_hint(a: CounterResetHint, b: CounterResetHint) -> CounterResetHint {
    match (a, b) {
        _ if a == b => a,
        (CounterResetHint::Gauge, _) | (_, CounterResetHint::Gauge) => CounterResetHint::Gauge,
        _ => CounterResetHint::Unknown,
    }
}
