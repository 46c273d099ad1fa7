//! Rates and slopes of a window: `rate`, `increase`, `delta`, `irate`,
//! `idelta`, `deriv`, `predict_linear`, with Prometheus's extrapolation.

use series::Sample;

use super::{RangeFn, Window, kahan_inc, start};

/// The function called `name`, if it is one of this module's.
pub(super) fn lookup(name: &str) -> Option<RangeFn> {
    Some(match name {
        "rate" => |w, _| extrapolated_rate(w, true, true),
        "increase" => |w, _| extrapolated_rate(w, true, false),
        "delta" => |w, _| extrapolated_rate(w, false, false),
        "irate" => |w, _| instant_value(w, true),
        "idelta" => |w, _| instant_value(w, false),
        "deriv" => |w, _| deriv(w.samples),
        "predict_linear" => |w, params| predict_linear(w, params[0]),
        _ => return None,
    })
}

/// The change over the window, corrected for counter resets (values that
/// go down, or start timestamps after the previous sample) and
/// extrapolated towards the window's edges (see [`extrapolation_factor`]).
fn extrapolated_rate(w: &Window<'_>, is_counter: bool, is_rate: bool) -> Option<f64> {
    let samples = w.samples;
    let first = *samples.first()?;
    let origin = if is_counter { start::counter_origin(start::of(w.starts, 0), first.t, w.start) } else { None };
    if samples.len() < 2 && origin.is_none() {
        return None;
    }
    let last = samples[samples.len() - 1];
    let mut result = last.v - first.v;
    if is_counter && w.may_reset {
        for (i, pair) in samples.windows(2).enumerate() {
            let restarted = !w.starts.is_empty() && start::is_reset(w.starts[i], pair[0].t, w.starts[i + 1], pair[1].t);
            if pair[1].v < pair[0].v || restarted {
                result += pair[0].v;
            }
        }
    }
    if origin.is_some() {
        // The counter counted up from zero since its start.
        result += first.v;
    }
    let extrapolation =
        Extrapolation { start: w.start, end: w.end, first_t: first.t, last_t: last.t, n: samples.len() };
    let counter_start = is_counter.then_some((first.v, result));
    Some(result * extrapolation.factor(counter_start, origin, is_rate))
}

/// Where a window's samples lie in it, for [`Extrapolation::factor`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Extrapolation {
    /// The window's exclusive start and inclusive end, in milliseconds.
    pub start: i64,
    pub end: i64,
    /// The times of the first and last samples.
    pub first_t: i64,
    pub last_t: i64,
    /// The number of samples.
    pub n: usize,
}

impl Extrapolation {
    /// Prometheus's extrapolation of a change between the first and last
    /// sample to the window's edges: all the way if the samples reach
    /// within 110% of the average interval of an edge, else by half an
    /// interval. A counter (`(first value, change)`) is not extrapolated to
    /// below zero, and one with an `origin` (its start timestamp, inside the
    /// window) is taken from zero there instead of extrapolated backwards.
    /// A rate is per second of the window.
    pub fn factor(&self, counter_start: Option<(f64, f64)>, origin: Option<i64>, is_rate: bool) -> f64 {
        let seconds = |ms: i64| ms as f64 / 1000.0;
        let mut duration_to_end = seconds(self.end - self.last_t);
        let sampled_interval;
        let mut duration_to_start;
        if self.n < 2 {
            // Only a counter with an origin gets here: nothing to extrapolate from.
            sampled_interval = seconds(self.last_t - origin.unwrap_or(self.first_t));
            duration_to_start = 0.0;
            duration_to_end = 0.0;
        } else {
            let average_interval = seconds(self.last_t - self.first_t) / (self.n - 1) as f64;
            let threshold = average_interval * 1.1;
            if duration_to_end >= threshold {
                duration_to_end = average_interval / 2.0;
            }
            if let Some(origin) = origin {
                sampled_interval = seconds(self.last_t - origin);
                duration_to_start = 0.0;
            } else {
                sampled_interval = seconds(self.last_t - self.first_t);
                duration_to_start = seconds(self.first_t - self.start);
                if duration_to_start >= threshold {
                    duration_to_start = average_interval / 2.0;
                }
                if let Some((first, change)) = counter_start
                    && change > 0.0
                    && first >= 0.0
                {
                    duration_to_start = duration_to_start.min(sampled_interval * (first / change));
                }
            }
        }
        let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
        if is_rate {
            factor /= seconds(self.end - self.start);
        }
        factor
    }
}

/// `irate` and `idelta`: from the last two samples only.
fn instant_value(w: &Window<'_>, is_rate: bool) -> Option<f64> {
    let samples = w.samples;
    if samples.len() < 2 {
        return None;
    }
    let n = samples.len();
    let previous = samples[n - 2];
    let last = samples[n - 1];
    let interval = last.t - previous.t;
    if interval == 0 {
        return None;
    }
    let restarted = !w.starts.is_empty() && start::is_reset(w.starts[n - 2], previous.t, w.starts[n - 1], last.t);
    let mut result = last.v;
    // After a counter reset the last value is the increase since the reset.
    if !is_rate || !(last.v < previous.v || restarted) {
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
