//! Rates and slopes of a window: `rate`, `increase`, `delta`, `irate`,
//! `idelta`, `deriv`, `predict_linear`, with Prometheus's extrapolation.

use series::Sample;

use super::{RangeFn, Window, kahan_inc};

/// The function called `name`, if it is one of this module's.
pub(super) fn lookup(name: &str) -> Option<RangeFn> {
    Some(match name {
        "rate" => |w, _| extrapolated_rate(w, true, true),
        "increase" => |w, _| extrapolated_rate(w, true, false),
        "delta" => |w, _| extrapolated_rate(w, false, false),
        "irate" => |w, _| instant_value(w.samples, true),
        "idelta" => |w, _| instant_value(w.samples, false),
        "deriv" => |w, _| deriv(w.samples),
        "predict_linear" => |w, params| predict_linear(w, params[0]),
        _ => return None,
    })
}

/// The change over the window, corrected for counter resets and extrapolated
/// towards the window's edges: all the way if the first and last samples are
/// within 110% of the average sample interval of the edge, else by half an
/// interval; a counter is never extrapolated below zero.
fn extrapolated_rate(w: &Window<'_>, is_counter: bool, is_rate: bool) -> Option<f64> {
    let samples = w.samples;
    if samples.len() < 2 {
        return None;
    }
    let first = samples[0];
    let last = samples[samples.len() - 1];
    let mut result = last.v - first.v;
    if is_counter && w.may_reset {
        for pair in samples.windows(2) {
            if pair[1].v < pair[0].v {
                result += pair[0].v;
            }
        }
    }
    let mut duration_to_start = (first.t - w.start) as f64 / 1000.0;
    let mut duration_to_end = (w.end - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let average_interval = sampled_interval / (samples.len() - 1) as f64;
    let threshold = average_interval * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = average_interval / 2.0;
    }
    if is_counter {
        // A counter starts at zero: do not extrapolate to before that.
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first.v >= 0.0 {
            duration_to_zero = sampled_interval * (first.v / result);
        }
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    if duration_to_end >= threshold {
        duration_to_end = average_interval / 2.0;
    }
    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= w.range_seconds();
    }
    Some(result * factor)
}

/// `irate` and `idelta`: from the last two samples only.
fn instant_value(samples: &[Sample], is_rate: bool) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let previous = samples[samples.len() - 2];
    let last = samples[samples.len() - 1];
    let interval = last.t - previous.t;
    if interval == 0 {
        return None;
    }
    let mut result = last.v;
    // After a counter reset the last value is the increase since the reset.
    if !is_rate || last.v >= previous.v || last.v.is_nan() || previous.v.is_nan() {
        result = last.v - previous.v;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

fn deriv(samples: &[Sample]) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    // Regress around the first sample's time to keep the floats small.
    Some(linear_regression(samples, samples[0].t).0)
}

fn predict_linear(w: &Window<'_>, duration: f64) -> Option<f64> {
    if w.samples.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(w.samples, w.ts);
    Some(slope * duration + intercept)
}

/// Least-squares slope and the intercept at `intercept_time`, with Kahan sums.
fn linear_regression(samples: &[Sample], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = samples[0].v;
    let mut const_y = true;
    for (i, s) in samples.iter().enumerate() {
        if const_y && i > 0 && s.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (s.t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(s.v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * s.v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}
