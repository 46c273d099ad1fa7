//! Functions of native histograms at one instant: `histogram_count`,
//! `histogram_sum`, `histogram_avg`, `histogram_stddev`, `histogram_stdvar`,
//! and the native-histogram halves of `histogram_quantile` and
//! `histogram_fraction`.

use series::{FloatHistogram, Sample};

use super::kahan_inc;
use crate::eval::StepSeries;

/// The instant-vector function called `name` that maps one histogram to a float, if it is one of this module's.
pub(super) fn lookup(name: &str) -> Option<fn(&FloatHistogram) -> f64> {
    Some(match name {
        "histogram_count" => |h| h.count,
        "histogram_sum" => |h| h.sum,
        "histogram_avg" => |h| h.sum / h.count,
        "histogram_stddev" => |h| variance(h).sqrt(),
        "histogram_stdvar" => variance,
        _ => return None,
    })
}

/// Applies `f` to every histogram point; float points are dropped, and so is the name.
pub(super) fn map_histograms(series: Vec<StepSeries>, f: impl Fn(&FloatHistogram) -> f64) -> Vec<StepSeries> {
    series
        .into_iter()
        .filter(|s| !s.histograms.is_empty())
        .map(|s| {
            let points = s.histograms.iter().map(|p| Sample { t: p.t, v: f(&p.h) }).collect();
            StepSeries::floats(s.labels, true, points)
        })
        .collect()
}

/// One bucket with its bounds, in the order of increasing values.
#[derive(Debug, Clone, Copy)]
struct Span {
    lower: f64,
    upper: f64,
    count: f64,
}

/// Every bucket of `h` from the lowest values to the highest: negative
/// buckets, the zero bucket, positive buckets.
fn all_buckets(h: &FloatHistogram) -> Vec<Span> {
    let mut out = Vec::with_capacity(h.positive.len() + h.negative.len() + 1);
    for b in h.negative.iter().rev() {
        let (lower, upper) = h.bucket_bounds(b.index, false);
        out.push(Span { lower, upper, count: b.count });
    }
    if !h.uses_custom_buckets() && (h.zero_threshold > 0.0 || h.zero_count != 0.0) {
        out.push(Span { lower: -h.zero_threshold, upper: h.zero_threshold, count: h.zero_count });
    }
    for b in &h.positive {
        let (lower, upper) = h.bucket_bounds(b.index, true);
        out.push(Span { lower, upper, count: b.count });
    }
    out
}

/// The estimated variance of the observations: each bucket's observations
/// count as its midpoint (geometric for exponential buckets, zero in the
/// zero bucket, arithmetic for custom bounds).
fn variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let (mut variance, mut c) = (0.0, 0.0);
    for b in all_buckets(h) {
        if b.count == 0.0 {
            continue;
        }
        let value = if h.uses_custom_buckets() {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -v } else { v }
        };
        let delta = value - mean;
        (variance, c) = kahan_inc(b.count * delta * delta, variance, c);
    }
    (variance + c) / h.count
}

/// Where the zero bucket's open end goes when only one sign has buckets.
fn clamp_zero_bucket(h: &FloatHistogram, b: &mut Span) {
    if h.negative.is_empty() && !h.positive.is_empty() {
        b.lower = 0.0;
    } else if h.positive.is_empty() && !h.negative.is_empty() {
        b.upper = 0.0;
    }
}

/// Whether some observations were NaN: they count in `count` but in no bucket, and make `sum` NaN.
pub(super) fn has_nan_observations(h: &FloatHistogram) -> bool {
    h.sum.is_nan() && bucket_total(h) < h.count
}

fn bucket_total(h: &FloatHistogram) -> f64 {
    h.zero_count + h.positive.iter().chain(&h.negative).map(|b| b.count).sum::<f64>()
}

/// The `q`-quantile of the observations: linear interpolation within custom
/// buckets and the zero bucket, exponential within exponential buckets.
pub(super) fn quantile(q: f64, h: &FloatHistogram) -> f64 {
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if h.count == 0.0 || q.is_nan() {
        return f64::NAN;
    }
    let rank = q * h.count;
    let mut count = 0.0;
    let mut bucket = None;
    for b in all_buckets(h) {
        if b.count == 0.0 {
            continue;
        }
        count += b.count;
        bucket = Some(b);
        if count >= rank {
            break;
        }
    }
    if has_nan_observations(h) && count < rank {
        // The quantile falls among the NaN observations.
        return f64::NAN;
    }
    let Some(mut b) = bucket else {
        return f64::NAN;
    };
    if h.uses_custom_buckets() {
        if b.lower == f64::NEG_INFINITY {
            if b.upper <= 0.0 {
                return b.upper;
            }
            b.lower = 0.0;
        } else if b.upper == f64::INFINITY {
            return b.lower;
        }
    } else if b.lower < 0.0 && b.upper > 0.0 {
        clamp_zero_bucket(h, &mut b);
    }
    let count = count.min(h.count);
    if count < rank {
        return b.upper;
    }
    let fraction = (rank - (count - b.count)) / b.count;
    if h.uses_custom_buckets() || (b.lower <= 0.0 && b.upper >= 0.0) {
        return b.lower + (b.upper - b.lower) * fraction;
    }
    let log_lower = b.lower.abs().log2();
    let log_upper = b.upper.abs().log2();
    if b.lower > 0.0 {
        (log_lower + (log_upper - log_lower) * fraction).exp2()
    } else {
        -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2()
    }
}

/// The estimated share of observations between `lower` and `upper`.
pub(super) fn fraction(lower: f64, upper: f64, h: &FloatHistogram) -> f64 {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for mut b in all_buckets(h) {
        let mut linear = h.uses_custom_buckets();
        if !h.uses_custom_buckets() && b.lower <= 0.0 && b.upper >= 0.0 {
            linear = true;
            clamp_zero_bucket(h, &mut b);
        }
        if h.uses_custom_buckets() && b.lower == f64::NEG_INFINITY && b.upper > 0.0 {
            b.lower = 0.0;
        }
        let interpolate = |v: f64| -> f64 {
            if linear {
                return rank + b.count * (v - b.lower) / (b.upper - b.lower);
            }
            let (log_lower, log_upper, log_v) = (b.lower.abs().log2(), b.upper.abs().log2(), v.abs().log2());
            let fraction = if v > 0.0 {
                (log_v - log_lower) / (log_upper - log_lower)
            } else {
                1.0 - (log_v - log_upper) / (log_lower - log_upper)
            };
            rank + b.count * fraction
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += b.count;
    }
    // NaN observations lie in no bucket and so in no fraction.
    let observed = if has_nan_observations(h) { bucket_total(h) } else { h.count };
    if !lower_set || lower_rank > observed {
        lower_rank = observed;
    }
    if !upper_set || upper_rank > observed {
        upper_rank = observed;
    }
    (upper_rank - lower_rank) / h.count
}
