//! Compensated summation of histograms: [`KahanSum`] keeps, beside the
//! running sum, what each of its numbers lost to rounding, so that huge and
//! tiny counts (or sums such as `1e100`, `1`, `-1e100`) add up as exactly
//! as Kahan-Neumaier summation adds floats.

use std::borrow::Cow;

use super::arith::{combined_hint, common_bounds};
use super::{Bucket, Combined, FloatHistogram, HistogramError};
use crate::kahan_inc;

/// A running sum of histograms with its compensation: the sum of a bucket
/// (or of the count, the sum of observations, the zero bucket) is
/// `sum + compensation` of that bucket.
#[derive(Debug, Clone)]
pub struct KahanSum {
    sum: FloatHistogram,
    compensation: FloatHistogram,
}

impl KahanSum {
    /// A sum that starts with `first`.
    pub fn new(first: FloatHistogram) -> KahanSum {
        let compensation = FloatHistogram {
            schema: first.schema,
            zero_threshold: first.zero_threshold,
            custom_values: first.custom_values.clone(),
            ..FloatHistogram::default()
        };
        KahanSum { sum: first, compensation }
    }

    /// Adds `other`, at the smaller schema, with the wider zero bucket and on the common custom bounds.
    ///
    /// # Errors
    ///
    /// [`HistogramError::MixedExponentialCustom`] when one histogram has custom bounds and the other not;
    /// the sum is then unchanged.
    pub fn add(&mut self, other: &FloatHistogram) -> Result<Combined, HistogramError> {
        if self.sum.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::MixedExponentialCustom);
        }
        let mut combined = Combined::default();
        let mut other = Cow::Borrowed(other);
        if self.sum.uses_custom_buckets() {
            if self.sum.custom_values != other.custom_values {
                let common = common_bounds(&self.sum.custom_values, &other.custom_values);
                self.sum.reconcile_custom_bounds(&common);
                self.compensation.reconcile_custom_bounds(&common);
                other.to_mut().reconcile_custom_bounds(&common);
                combined.reconciled_custom_buckets = true;
            }
        } else {
            let schema = self.sum.schema.min(other.schema);
            self.sum.reduce_resolution(schema);
            self.compensation.reduce_resolution(schema);
            if other.schema != schema {
                other.to_mut().reduce_resolution(schema);
            }
            // Widening one zero bucket may swallow a bucket that pushes its
            // threshold further, so repeat until all three agree.
            for _ in 0..8 {
                let threshold = self.sum.zero_threshold.max(self.compensation.zero_threshold).max(other.zero_threshold);
                if [self.sum.zero_threshold, self.compensation.zero_threshold, other.zero_threshold]
                    .iter()
                    .all(|&t| t == threshold)
                {
                    break;
                }
                self.sum.widen_zero_bucket(threshold);
                self.compensation.widen_zero_bucket(threshold);
                if other.zero_threshold < threshold {
                    other.to_mut().widen_zero_bucket(threshold);
                }
            }
        }
        let (sum, c) = (&mut self.sum, &mut self.compensation);
        (sum.count, c.count) = kahan_inc(other.count, sum.count, c.count);
        (sum.sum, c.sum) = kahan_inc(other.sum, sum.sum, c.sum);
        (sum.zero_count, c.zero_count) = kahan_inc(other.zero_count, sum.zero_count, c.zero_count);
        merge_compensated(&mut sum.positive, &mut c.positive, &other.positive);
        merge_compensated(&mut sum.negative, &mut c.negative, &other.negative);
        sum.counter_reset_hint = combined_hint(sum.counter_reset_hint, other.counter_reset_hint);
        Ok(combined)
    }

    /// Multiplies the sum and its compensation by `factor`.
    pub fn mul(&mut self, factor: f64) {
        self.sum.mul(factor);
        self.compensation.mul(factor);
    }

    /// Divides the sum and its compensation by `divisor`.
    pub fn div(&mut self, divisor: f64) {
        self.sum.div(divisor);
        self.compensation.div(divisor);
    }

    /// Whether a number of the running sum has grown infinite.
    pub fn has_overflow(&self) -> bool {
        let h = &self.sum;
        [h.count, h.sum, h.zero_count].iter().any(|v| v.is_infinite())
            || h.positive.iter().chain(&h.negative).any(|b| b.count.is_infinite())
    }

    /// The sum with its compensation added in; its counter-reset hint is the sum's.
    pub fn total(self) -> FloatHistogram {
        let KahanSum { mut sum, compensation } = self;
        let hint = sum.counter_reset_hint;
        // Both have the same layout, so adding cannot fail.
        let _ = sum.add(&compensation);
        sum.counter_reset_hint = hint;
        sum
    }
}

/// `sum += other` bucket by bucket with compensation, keeping the union of the layouts.
fn merge_compensated(sum: &mut Vec<Bucket>, compensation: &mut Vec<Bucket>, other: &[Bucket]) {
    let count_at = |buckets: &[Bucket], index: i32| {
        buckets.binary_search_by_key(&index, |b| b.index).map_or(0.0, |i| buckets[i].count)
    };
    let mut indexes: Vec<i32> = sum.iter().chain(compensation.iter()).chain(other).map(|b| b.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    let (mut new_sum, mut new_compensation) = (Vec::with_capacity(indexes.len()), Vec::with_capacity(indexes.len()));
    for index in indexes {
        let (s, c) = kahan_inc(count_at(other, index), count_at(sum, index), count_at(compensation, index));
        new_sum.push(Bucket { index, count: s });
        new_compensation.push(Bucket { index, count: c });
    }
    *sum = new_sum;
    *compensation = new_compensation;
}
