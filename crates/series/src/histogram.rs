//! Native histograms: Prometheus's sparse exponential histograms and
//! histograms with custom bucket bounds (NHCB, schema −53), with absolute
//! float counts.
//!
//! A [`FloatHistogram`] keeps its buckets as sorted `(index, count)` pairs,
//! one list per sign, rather than as Prometheus's spans and delta-encoded
//! counts: every operation PromQL needs (adding, scaling, comparing, finding
//! a bucket's bounds) works on the pairs directly, and a bucket with a zero
//! count can still be part of the layout, as in a span. The arithmetic lives
//! in `arith`.

mod arith;
mod display;
mod kahan;

use std::sync::Arc;

pub use arith::{Combined, HistogramError};
pub use kahan::KahanSum;

/// The schema of histograms with custom bucket bounds (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// The smallest and largest exponential schemas.
pub const EXPONENTIAL_SCHEMAS: std::ops::RangeInclusive<i32> = -4..=8;

/// What a histogram says about counter resets since the previous sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    /// Nothing is known: a reset is detected by comparing with the previous sample.
    #[default]
    Unknown,
    /// The counter was reset before this sample.
    Reset,
    /// The counter was not reset before this sample.
    NotReset,
    /// The histogram is a gauge: it goes up and down and has no resets.
    Gauge,
}

impl CounterResetHint {
    /// The hint from its stored byte (Prometheus's numbering); unknown bytes read as [`CounterResetHint::Unknown`].
    pub fn from_u8(byte: u8) -> CounterResetHint {
        match byte {
            1 => CounterResetHint::Reset,
            2 => CounterResetHint::NotReset,
            3 => CounterResetHint::Gauge,
            _ => CounterResetHint::Unknown,
        }
    }

    /// The hint's stored byte.
    pub fn to_u8(self) -> u8 {
        match self {
            CounterResetHint::Unknown => 0,
            CounterResetHint::Reset => 1,
            CounterResetHint::NotReset => 2,
            CounterResetHint::Gauge => 3,
        }
    }
}

/// One bucket: its index in the schema's layout and its count of observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// For exponential schemas, bucket `i` covers `(base^(i-1), base^i]`
    /// (mirrored for negative buckets); for custom bounds, bucket `i` ends at
    /// the `i`-th bound (the last one at +Inf).
    pub index: i32,
    /// The number of observations, possibly fractional after arithmetic.
    pub count: f64,
}

/// A native histogram with float counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FloatHistogram {
    /// −4…8 for exponential buckets with base `2^(2^-schema)`, or [`CUSTOM_BUCKETS_SCHEMA`].
    pub schema: i32,
    /// Observations with an absolute value up to this go into the zero bucket.
    pub zero_threshold: f64,
    /// The zero bucket's count.
    pub zero_count: f64,
    /// The number of observations.
    pub count: f64,
    /// The sum of observations; the stale marker's NaN makes the sample a stale marker.
    pub sum: f64,
    /// Buckets of positive observations, sorted by index, unique indexes.
    pub positive: Vec<Bucket>,
    /// Buckets of negative observations (by absolute value), sorted by index.
    pub negative: Vec<Bucket>,
    /// The upper bounds of the custom buckets (schema −53 only), increasing;
    /// the bucket after the last bound reaches +Inf.
    pub custom_values: Arc<[f64]>,
    /// What the histogram says about counter resets.
    pub counter_reset_hint: CounterResetHint,
}

/// One histogram sample of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The histogram, shared: a query hands the same sample to many steps.
    pub h: Arc<FloatHistogram>,
}

impl FloatHistogram {
    /// Whether the histogram has custom bucket bounds (schema −53).
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// Whether this sample is a stale marker (its sum is the stale NaN).
    pub fn is_stale(&self) -> bool {
        crate::is_stale_nan(self.sum)
    }

    /// A stale marker for a histogram series.
    pub fn stale_marker() -> FloatHistogram {
        FloatHistogram { sum: crate::STALE_NAN, ..FloatHistogram::default() }
    }

    /// The bounds `(lower, upper)` of bucket `index`: for a positive bucket
    /// the lower bound is exclusive and the upper inclusive; a negative
    /// bucket is the mirror image, `(-upper, -lower)` with `positive` false.
    pub fn bucket_bounds(&self, index: i32, positive: bool) -> (f64, f64) {
        if self.uses_custom_buckets() {
            let bound = |i: i32| -> f64 {
                usize::try_from(i).ok().and_then(|i| self.custom_values.get(i).copied()).unwrap_or(f64::INFINITY)
            };
            let lower = if index <= 0 { f64::NEG_INFINITY } else { bound(index - 1) };
            return (lower, bound(index));
        }
        let (lower, upper) = (exponential_bound(index - 1, self.schema), exponential_bound(index, self.schema));
        if positive { (lower, upper) } else { (-upper, -lower) }
    }

    /// The populated buckets with their bounds, from the lowest values to
    /// the highest: negative buckets (largest magnitude first), the zero
    /// bucket, positive buckets. How Prometheus lists them, in text and JSON.
    pub fn populated_buckets(&self) -> impl Iterator<Item = BucketBounds> + '_ {
        let negative = self.negative.iter().rev().filter(|b| b.count != 0.0).map(|b| {
            let (lower, upper) = self.bucket_bounds(b.index, false);
            BucketBounds { ends: BucketEnds::OpenRight, lower, upper, count: b.count }
        });
        let zero = (self.zero_count != 0.0).then(|| BucketBounds {
            ends: BucketEnds::Closed,
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            count: self.zero_count,
        });
        let positive = self.positive.iter().filter(|b| b.count != 0.0).map(|b| {
            let (lower, upper) = self.bucket_bounds(b.index, true);
            BucketBounds { ends: BucketEnds::OpenLeft, lower, upper, count: b.count }
        });
        negative.chain(zero).chain(positive)
    }

    /// Whether every count is zero and there are no buckets.
    pub fn is_empty(&self) -> bool {
        self.count == 0.0 && self.zero_count == 0.0 && self.positive.is_empty() && self.negative.is_empty()
    }
}

/// Which ends of a bucket's range belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketEnds {
    /// `(lower, upper]`: positive buckets.
    OpenLeft,
    /// `[lower, upper)`: negative buckets.
    OpenRight,
    /// `[lower, upper]`: the zero bucket.
    Closed,
}

/// One populated bucket: its range and count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketBounds {
    /// Which ends belong to the bucket.
    pub ends: BucketEnds,
    /// The lower bound.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
    /// The count.
    pub count: f64,
}

/// The upper bound of exponential bucket `index` in `schema`: `2^(index · 2^-schema)`.
pub fn exponential_bound(index: i32, schema: i32) -> f64 {
    if schema <= 0 {
        let exp = i64::from(index) << (-schema).min(62);
        if exp > 1024 {
            return f64::INFINITY;
        }
        if exp < -1100 {
            return 0.0;
        }
        return 2f64.powi(exp as i32);
    }
    let exp = f64::from(index) / f64::from(1 << schema.min(30));
    exp.exp2()
}

/// The index of the exponential bucket in `schema` that holds `v > 0`.
pub fn exponential_index(v: f64, schema: i32) -> i32 {
    // The bucket with upper bound >= v and lower bound < v.
    let approx = (v.log2() * 2f64.powi(schema)).ceil();
    let mut index = approx.clamp(f64::from(i32::MIN / 2), f64::from(i32::MAX / 2)) as i32;
    // Correct rounding at bucket bounds.
    while exponential_bound(index, schema) < v {
        index += 1;
    }
    while index > i32::MIN / 2 && exponential_bound(index - 1, schema) >= v {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests;
