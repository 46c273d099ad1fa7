//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction`:
//! over classic histograms (series of cumulative bucket counts told apart
//! by their `le` label) here, over native histograms in `native`.

use std::collections::HashMap;

use promql_parser::parser::Expr;
use std::sync::Arc;

use series::{FloatHistogram, Labels, METRIC_NAME};

use super::{collect, go_format_float, native};
use crate::eval::{Evaluator, Grid, StepSeries, Val, by_step, hist_by_step};
use crate::{Result, Warning};

/// The bucket label.
const LE: &str = "le";

#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper_bound: f64,
    count: f64,
}

/// A classic histogram at one step: its labels (without `le`) and buckets.
struct Histogram {
    labels: Labels,
    buckets: Vec<Bucket>,
}

/// Groups one step's bucket series into histograms, warning about bad `le` labels.
fn histograms(ev: &mut Evaluator<'_>, input: &[StepSeries], step: &[crate::eval::Elem]) -> Vec<Histogram> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<Histogram> = Vec::new();
    for e in step {
        let labels = &input[e.series].labels;
        let le = labels.get(LE).unwrap_or("");
        let Some(upper_bound) = parse_go_float(le) else {
            ev.warn(Warning::warn(format!(
                "bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {:?}",
                labels.get(METRIC_NAME).unwrap_or("")
            )));
            continue;
        };
        let mut builder = labels.to_builder();
        builder.remove(LE);
        let key = builder.build();
        let idx = *index.entry(key.clone()).or_insert_with(|| {
            out.push(Histogram { labels: key, buckets: Vec::new() });
            out.len() - 1
        });
        out[idx].buckets.push(Bucket { upper_bound, count: e.v });
    }
    out
}

/// The native histograms of one step that have no classic histogram with
/// the same labels. Where both kinds share labels, Prometheus evaluates
/// neither: the classic histogram is taken out of `classic` and a warning
/// says why.
fn without_mixed<'a>(
    ev: &mut Evaluator<'_>,
    input: &[StepSeries],
    natives: &[(usize, &'a Arc<FloatHistogram>)],
    classic: &mut Vec<Histogram>,
) -> Vec<(usize, &'a Arc<FloatHistogram>)> {
    let mut kept = Vec::with_capacity(natives.len());
    for &(idx, h) in natives {
        let labels = &input[idx].labels;
        match classic.iter().position(|c| c.labels == *labels) {
            Some(pos) => {
                classic.remove(pos);
                ev.warn(Warning::warn(format!(
                    "vector contains a mix of classic and native histograms for metric name {:?}",
                    labels.get(METRIC_NAME).unwrap_or("")
                )));
            }
            None => kept.push((idx, h)),
        }
    }
    kept
}

/// Go's `strconv.ParseFloat` for bucket bounds: decimal, exponent, `Inf`, `NaN`.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY }),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty() || lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    s.parse::<f64>().ok().or_else(|| {
        let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
        i64::from_str_radix(hex, 16).ok().map(|v| v as f64)
    })
}

/// `histogram_quantile(q, buckets)`.
pub(super) fn quantile_fn(ev: &mut Evaluator<'_>, args: &[&Expr], grid: Grid) -> Result<Val> {
    let q = ev.eval_scalar(args[0], grid)?;
    let input = ev.eval_vector(args[1], grid)?;
    let steps = by_step(&input, grid);
    let hist_steps = hist_by_step(&input, grid);
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let q = q[i];
        let mut results = Vec::new();
        if !(0.0..=1.0).contains(&q) {
            ev.warn(Warning::warn(format!("quantile value should be between 0 and 1, got {}", go_format_float(q))));
        }
        let mut classic = histograms(ev, &input, step);
        for (idx, h) in without_mixed(ev, &input, &hist_steps[i], &mut classic) {
            let value = native::quantile(q, h);
            if native::has_nan_observations(h) {
                ev.warn(nan_observations_info("histogram_quantile", value, &input[idx].labels));
            }
            results.push((input[idx].labels.clone(), true, value));
        }
        for mut h in classic {
            let (value, forced) = bucket_quantile(q, &mut h.buckets);
            if forced {
                ev.warn(monotonicity_info(&h.labels));
            }
            results.push((h.labels, true, value));
        }
        out.push(results);
    }
    Ok(Val::Vector(collect(out, grid)?))
}

/// The info that a native histogram's NaN observations made the quantile NaN or skewed it.
fn nan_observations_info(function: &str, value: f64, labels: &Labels) -> Warning {
    let effect = if value.is_nan() { "result is NaN" } else { "result is skewed higher" };
    Warning::info(format!(
        "input to {function} has NaN observations, {effect} for metric name {:?}",
        labels.get(METRIC_NAME).unwrap_or("")
    ))
}

/// The info that bucket counts had to be made monotonic.
fn monotonicity_info(labels: &Labels) -> Warning {
    Warning::info(format!(
        "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {:?}",
        labels.get(METRIC_NAME).unwrap_or("")
    ))
}

/// `histogram_quantiles(buckets, label, q...)`: one output series per quantile,
/// told apart by `label`.
pub(super) fn quantiles_fn(ev: &mut Evaluator<'_>, args: &[&Expr], grid: Grid) -> Result<Val> {
    let input = ev.eval_vector(args[0], grid)?;
    let label = match args[1] {
        Expr::StringLiteral(s) => s.val.clone(),
        _ => return Err(crate::Error::bad_data("histogram_quantiles needs a string label name")),
    };
    let mut qs = Vec::with_capacity(args.len() - 2);
    for arg in &args[2..] {
        qs.push(ev.eval_scalar(arg, grid)?);
    }
    let steps = by_step(&input, grid);
    let hist_steps = hist_by_step(&input, grid);
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let mut results = Vec::new();
        let mut classic = histograms(ev, &input, step);
        let natives = without_mixed(ev, &input, &hist_steps[i], &mut classic);
        for q in qs.iter().map(|q| q[i]) {
            if !(0.0..=1.0).contains(&q) {
                ev.warn(Warning::warn(format!("quantile value should be between 0 and 1, got {}", go_format_float(q))));
            }
            for &(idx, h) in &natives {
                let value = native::quantile(q, h);
                if native::has_nan_observations(h) {
                    ev.warn(nan_observations_info("histogram_quantile", value, &input[idx].labels));
                }
                let mut builder = input[idx].labels.to_builder();
                builder.set(&label, &open_metrics_float(q));
                results.push((builder.build(), true, value));
            }
            for h in &classic {
                let mut buckets = h.buckets.clone();
                let (value, forced) = bucket_quantile(q, &mut buckets);
                if forced {
                    ev.warn(monotonicity_info(&h.labels));
                }
                let mut builder = h.labels.to_builder();
                builder.set(&label, &open_metrics_float(q));
                results.push((builder.build(), true, value));
            }
        }
        out.push(results);
    }
    Ok(Val::Vector(collect(out, grid)?))
}

/// A float as OpenMetrics writes label values: integers keep a `.0`.
fn open_metrics_float(v: f64) -> String {
    let s = go_format_float(v);
    if v.is_finite() && !s.contains(['.', 'e']) { format!("{s}.0") } else { s }
}

/// `histogram_fraction(lower, upper, buckets)`.
pub(super) fn fraction_fn(ev: &mut Evaluator<'_>, args: &[&Expr], grid: Grid) -> Result<Val> {
    let lower = ev.eval_scalar(args[0], grid)?;
    let upper = ev.eval_scalar(args[1], grid)?;
    let input = ev.eval_vector(args[2], grid)?;
    let steps = by_step(&input, grid);
    let hist_steps = hist_by_step(&input, grid);
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let mut classic = histograms(ev, &input, step);
        let natives = without_mixed(ev, &input, &hist_steps[i], &mut classic);
        let mut results: Vec<(Labels, bool, f64)> = classic
            .into_iter()
            .map(|mut h| {
                let v = bucket_fraction(lower[i], upper[i], &mut h.buckets);
                (h.labels, true, v)
            })
            .collect();
        for (idx, h) in natives {
            if native::has_nan_observations(h) {
                ev.warn(Warning::info(format!(
                    "input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name {:?}",
                    input[idx].labels.get(METRIC_NAME).unwrap_or("")
                )));
            }
            results.push((input[idx].labels.clone(), true, native::fraction(lower[i], upper[i], h)));
        }
        out.push(results);
    }
    Ok(Val::Vector(collect(out, grid)?))
}

fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    buckets.sort_by(|a, b| a.upper_bound.partial_cmp(&b.upper_bound).unwrap_or(std::cmp::Ordering::Equal));
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match merged.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => merged.push(*b),
        }
    }
    *buckets = merged;
}

/// The quantile of a classic histogram by linear interpolation within the
/// bucket it falls into, as Prometheus's `BucketQuantile`; also says whether
/// the counts had to be made monotonic.
fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    buckets.sort_by(|a, b| a.upper_bound.partial_cmp(&b.upper_bound).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.upper_bound != f64::INFINITY) {
        return (f64::NAN, false);
    }
    sort_and_coalesce(buckets);
    correct_precision_errors(buckets, 1e-12);
    let forced = ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return (f64::NAN, false);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return (f64::NAN, false);
    }
    let mut rank = q * observations;
    let b = buckets[..buckets.len() - 1].partition_point(|bucket| bucket.count < rank);
    if b == buckets.len() - 1 {
        return (buckets[buckets.len() - 2].upper_bound, forced);
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        return (buckets[0].upper_bound, forced);
    }
    let mut bucket_start = 0.0;
    let bucket_end = buckets[b].upper_bound;
    let mut count = buckets[b].count;
    if b > 0 {
        bucket_start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    (bucket_start + (bucket_end - bucket_start) * (rank / count), forced)
}

/// Takes out tiny decreases that come from float rounding, not from the data.
fn correct_precision_errors(buckets: &mut [Bucket], tolerance: f64) {
    let Some(first) = buckets.first() else {
        return;
    };
    let mut previous = first.count;
    for b in buckets.iter_mut().skip(1) {
        let delta = (b.count - previous).abs();
        if delta == 0.0 {
            continue;
        }
        if delta / b.count <= tolerance {
            b.count = previous;
        } else {
            previous = b.count;
        }
    }
}

/// Replaces decreasing counts by the running maximum; says whether it had to.
fn ensure_monotonic(buckets: &mut [Bucket]) -> bool {
    let mut forced = false;
    let mut max = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
            forced = true;
        }
    }
    forced
}

/// The fraction of observations between `lower` and `upper`, interpolating
/// linearly within buckets (the lowest bucket starts at 0 if its bound is positive).
fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    buckets.sort_by(|a, b| a.upper_bound.partial_cmp(&b.upper_bound).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|b| b.upper_bound != f64::INFINITY) {
        return f64::NAN;
    }
    sort_and_coalesce(buckets);
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    for (i, b) in buckets.iter().enumerate() {
        let lower_bound = if i > 0 {
            buckets[i - 1].upper_bound
        } else if b.upper_bound > 0.0 {
            0.0
        } else {
            f64::NEG_INFINITY
        };
        let upper_bound = b.upper_bound;
        // An infinitely wide bucket cannot be interpolated: its observations
        // count as lying at its infinite end.
        let interpolate = |v: f64| {
            if lower_bound.is_infinite() {
                b.count
            } else {
                rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}
