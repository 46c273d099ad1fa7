//! Aggregations of a window over time: `*_over_time`, `changes`, `resets`,
//! `double_exponential_smoothing`.

use series::Sample;

use super::{RangeFn, Window, kahan_inc, quantile, start};

/// The function called `name`, if it is one of this module's.
pub(super) fn lookup(name: &str) -> Option<RangeFn> {
    Some(match name {
        "avg_over_time" => |w, _| Some(avg(w.samples)),
        "sum_over_time" => |w, _| Some(sum(w.samples)),
        "count_over_time" => |w, _| Some(w.samples.len() as f64),
        "min_over_time" => |w, _| Some(compare(w.samples, |cur, best| cur < best || best.is_nan()).v),
        "max_over_time" => |w, _| Some(compare(w.samples, |cur, best| cur > best || best.is_nan()).v),
        "ts_of_min_over_time" => |w, _| Some(seconds(compare(w.samples, |cur, best| cur <= best || best.is_nan()).t)),
        "ts_of_max_over_time" => |w, _| Some(seconds(compare(w.samples, |cur, best| cur >= best || best.is_nan()).t)),
        "last_over_time" => |w, _| w.samples.last().map(|s| s.v),
        "first_over_time" => |w, _| w.samples.first().map(|s| s.v),
        "ts_of_last_over_time" => |w, _| w.samples.last().map(|s| seconds(s.t)),
        "ts_of_first_over_time" => |w, _| w.samples.first().map(|s| seconds(s.t)),
        "present_over_time" => |_, _| Some(1.0),
        "quantile_over_time" => |w, params| Some(quantile(params[0], &mut values(w.samples))),
        "stddev_over_time" => |w, _| Some(variance(w.samples).sqrt()),
        "stdvar_over_time" => |w, _| Some(variance(w.samples)),
        "mad_over_time" => |w, _| Some(mad(w.samples)),
        "changes" => |w, _| Some(changes(w.samples)),
        "resets" => |w, _| Some(resets(w)),
        "double_exponential_smoothing" => |w, params| smoothing(w.samples, params[0], params[1]),
        _ => return None,
    })
}

fn seconds(t: i64) -> f64 {
    t as f64 / 1000.0
}

fn values(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.v).collect()
}

/// The mean, summed directly with Kahan compensation until the sum would
/// overflow, then incrementally (as Prometheus does).
fn avg(samples: &[Sample]) -> f64 {
    let (mut sum, mut count) = (samples[0].v, 1.0);
    let (mut mean, mut c) = (0.0, 0.0);
    let mut incremental = false;
    for (i, s) in samples.iter().enumerate().skip(1) {
        count = (i + 1) as f64;
        if !incremental {
            let (new_sum, new_c) = kahan_inc(s.v, sum, c);
            if !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(s.v / count, q * mean, q * c);
    }
    if incremental { mean + c } else { sum / count + c / count }
}

fn sum(samples: &[Sample]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for s in samples {
        (sum, c) = kahan_inc(s.v, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// The sample that wins `better(candidate, best)` over the window, starting from the first.
fn compare(samples: &[Sample], better: fn(f64, f64) -> bool) -> Sample {
    let mut best = samples[0];
    for &s in samples {
        if better(s.v, best.v) {
            best = s;
        }
    }
    best
}

/// The population variance, by Welford's method with Kahan compensation.
fn variance(samples: &[Sample]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in samples {
        count += 1.0;
        let delta = s.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (s.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// The median absolute deviation from the median.
fn mad(samples: &[Sample]) -> f64 {
    // Deviations from a median are meaningless once a value is NaN.
    if samples.iter().any(|s| s.v.is_nan()) {
        return f64::NAN;
    }
    let median = quantile(0.5, &mut values(samples));
    let mut deviations: Vec<f64> = samples.iter().map(|s| (s.v - median).abs()).collect();
    quantile(0.5, &mut deviations)
}

fn changes(samples: &[Sample]) -> f64 {
    samples.windows(2).filter(|p| p[1].v != p[0].v && !(p[1].v.is_nan() && p[0].v.is_nan())).count() as f64
}

/// Counter resets: values that go down, or start timestamps after the previous sample.
fn resets(w: &Window<'_>) -> f64 {
    let restarted = |i: usize, pair: &[Sample]| {
        !w.starts.is_empty() && start::is_reset(w.starts[i], pair[0].t, w.starts[i + 1], pair[1].t)
    };
    w.samples.windows(2).enumerate().filter(|(i, p)| p[1].v < p[0].v || restarted(*i, p)).count() as f64
}

/// Holt's double exponential smoothing with smoothing factor `sf` and trend factor `tf`.
fn smoothing(samples: &[Sample], sf: f64, tf: f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let trend = |i: usize, s0: f64, s1: f64, b: f64| if i == 0 { b } else { tf * (s1 - s0) + (1.0 - tf) * b };
    let mut s0 = 0.0;
    let mut s1 = samples[0].v;
    let mut b = samples[1].v - samples[0].v;
    for (i, s) in samples.iter().enumerate().skip(1) {
        let x = sf * s.v;
        b = trend(i - 1, s0, s1, b);
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}
