//! Range functions over windows that hold native histograms: rates and
//! deltas of histograms with counter resets and Prometheus's extrapolation,
//! `sum_over_time` and `avg_over_time` of histograms, and the functions that
//! count, pick or compare samples of either kind.

use series::{FloatHistogram, HistogramError, HistogramSample, Sample};

use crate::Warning;

/// What a range function makes of a window with histograms in it.
#[derive(Debug)]
pub(super) enum Outcome {
    /// A float result.
    Float(f64),
    /// A histogram result.
    Histogram(FloatHistogram),
    /// No result at this step.
    Nothing,
    /// The function works on the float samples alone (histograms are ignored).
    UseFloats,
}

/// One step's window of a series with histogram samples.
#[derive(Debug, Clone, Copy)]
pub(super) struct MixedWindow<'a> {
    pub floats: &'a [Sample],
    pub histograms: &'a [HistogramSample],
    /// The exclusive start and inclusive end, in milliseconds.
    pub start: i64,
    pub end: i64,
    /// The series' metric name, for annotations.
    pub metric: &'a str,
}

/// Evaluates `name` over a window that holds at least one histogram.
pub(super) fn eval(name: &str, w: &MixedWindow<'_>, warnings: &mut Vec<Warning>) -> Outcome {
    let mixed = !w.floats.is_empty();
    match name {
        "rate" | "increase" | "delta" => {
            if mixed {
                warnings.push(mixed_warning(w.metric));
                return Outcome::Nothing;
            }
            let is_counter = name != "delta";
            rate(w, is_counter, name == "rate", warnings).map_or(Outcome::Nothing, Outcome::Histogram)
        }
        "irate" | "idelta" => {
            let last_float = w.floats.iter().rev().take(2).map(|s| s.t);
            let last_hist = w.histograms.iter().rev().take(2).map(|s| s.t);
            let mut last_two: Vec<(i64, bool)> =
                last_float.map(|t| (t, false)).chain(last_hist.map(|t| (t, true))).collect();
            last_two.sort_by_key(|&(t, _)| std::cmp::Reverse(t));
            match last_two.get(..2) {
                Some([(_, false), (_, false)]) => Outcome::UseFloats,
                Some([(_, true), (_, true)]) => {
                    let n = w.histograms.len();
                    instant(&w.histograms[n - 2], &w.histograms[n - 1], name == "irate", warnings, w.metric)
                        .map_or(Outcome::Nothing, Outcome::Histogram)
                }
                Some(_) => {
                    warnings.push(mixed_warning(w.metric));
                    Outcome::Nothing
                }
                None => Outcome::Nothing,
            }
        }
        "sum_over_time" | "avg_over_time" => {
            if mixed {
                warnings.push(mixed_warning(w.metric));
                return Outcome::Nothing;
            }
            let Some(mut sum) = sum(w.histograms, warnings, w.metric, "aggregation") else {
                return Outcome::Nothing;
            };
            if name == "avg_over_time" {
                sum.div(w.histograms.len() as f64);
            }
            sum.compact();
            Outcome::Histogram(sum)
        }
        "count_over_time" => Outcome::Float((w.floats.len() + w.histograms.len()) as f64),
        "present_over_time" => Outcome::Float(1.0),
        "last_over_time" | "ts_of_last_over_time" => {
            let float = w.floats.last();
            let hist = w.histograms.last();
            pick(name == "ts_of_last_over_time", float, hist, |f, h| f.t > h.t)
        }
        "first_over_time" | "ts_of_first_over_time" => {
            let float = w.floats.first();
            let hist = w.histograms.first();
            pick(name == "ts_of_first_over_time", float, hist, |f, h| f.t < h.t)
        }
        "changes" | "resets" => Outcome::Float(transitions(w, name == "resets")),
        _ => {
            if mixed {
                warnings.push(Warning::info(format!(
                    "ignored histograms in a range containing both floats and histograms for metric name {:?}",
                    w.metric
                )));
                Outcome::UseFloats
            } else {
                Outcome::Nothing
            }
        }
    }
}

/// The float or the histogram, whichever `float_wins`; as a time in seconds with `timestamp`.
fn pick(
    timestamp: bool,
    float: Option<&Sample>,
    hist: Option<&HistogramSample>,
    float_wins: fn(&Sample, &HistogramSample) -> bool,
) -> Outcome {
    match (float, hist) {
        (Some(f), h) if h.is_none_or(|h| float_wins(f, h)) => {
            Outcome::Float(if timestamp { f.t as f64 / 1000.0 } else { f.v })
        }
        (_, Some(h)) if timestamp => Outcome::Float(h.t as f64 / 1000.0),
        (_, Some(h)) => Outcome::Histogram((*h.h).clone()),
        _ => Outcome::Nothing,
    }
}

/// `changes` or `resets` over samples of both kinds in time order; a switch
/// between a float and a histogram counts as both.
fn transitions(w: &MixedWindow<'_>, resets: bool) -> f64 {
    enum Any<'a> {
        F(f64),
        H(&'a FloatHistogram),
    }
    let mut all: Vec<(i64, Any<'_>)> = w.floats.iter().map(|s| (s.t, Any::F(s.v))).collect();
    all.extend(w.histograms.iter().map(|s| (s.t, Any::H(&s.h))));
    all.sort_by_key(|(t, _)| *t);
    let mut n = 0;
    for pair in all.windows(2) {
        let counted = match (&pair[0].1, &pair[1].1) {
            (Any::F(a), Any::F(b)) if resets => b < a,
            (Any::F(a), Any::F(b)) => a != b && !(a.is_nan() && b.is_nan()),
            (Any::H(a), Any::H(b)) if resets => b.detect_reset(a),
            (Any::H(a), Any::H(b)) => !a.equals(b),
            _ => true,
        };
        n += usize::from(counted);
    }
    n as f64
}

/// The warning for a window or group mixing floats and histograms.
pub(crate) fn mixed_warning(metric: &str) -> Warning {
    Warning::warn(format!("encountered a mix of histograms and floats for metric name {metric:?}"))
}

/// The warning for combining exponential and custom buckets.
pub(crate) fn mixed_schemas_warning(metric: &str) -> Warning {
    Warning::warn(format!(
        "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?}"
    ))
}

/// The info that custom bounds were reconciled during `operation`.
pub(crate) fn reconciled_info(operation: &str) -> Warning {
    Warning::info(format!("mismatched custom buckets were reconciled during {operation}"))
}

/// A copy of `h` to sum others into. A reset hint does not describe the
/// sum, so it becomes unknown (Prometheus issue 15346).
pub(crate) fn sum_start(h: &FloatHistogram) -> FloatHistogram {
    let mut sum = h.clone();
    if sum.counter_reset_hint == series::CounterResetHint::Reset {
        sum.counter_reset_hint = series::CounterResetHint::Unknown;
    }
    sum
}

/// The sum of the window's histograms.
fn sum(
    histograms: &[HistogramSample],
    warnings: &mut Vec<Warning>,
    metric: &str,
    operation: &str,
) -> Option<FloatHistogram> {
    let mut sum = sum_start(&histograms.first()?.h);
    for s in &histograms[1..] {
        match sum.add(&s.h) {
            Ok(combined) if combined.reconciled_custom_buckets => warnings.push(reconciled_info(operation)),
            Ok(_) => {}
            Err(HistogramError::MixedExponentialCustom) => {
                warnings.push(mixed_schemas_warning(metric));
                return None;
            }
        }
    }
    Some(sum)
}

/// `rate`, `increase` and `delta` of histograms: the last minus the first,
/// plus every value lost to a counter reset, extrapolated as for floats.
fn rate(w: &MixedWindow<'_>, is_counter: bool, is_rate: bool, warnings: &mut Vec<Warning>) -> Option<FloatHistogram> {
    let samples = w.histograms;
    if samples.len() < 2 {
        return None;
    }
    let first = &samples[0];
    let last = &samples[samples.len() - 1];
    let mut min_schema = first.h.schema.min(last.h.schema);
    for s in samples {
        if s.h.uses_custom_buckets() != first.h.uses_custom_buckets() {
            warnings.push(mixed_schemas_warning(w.metric));
            return None;
        }
        min_schema = min_schema.min(s.h.schema);
    }
    if is_counter && samples.iter().any(|s| s.h.counter_reset_hint == series::CounterResetHint::Gauge) {
        warnings.push(Warning::warn(format!("this native histogram metric is not a counter: {:?}", w.metric)));
    }
    let mut result = (*last.h).clone();
    result.reduce_resolution(min_schema);
    let mut reconciled = result.sub(&first.h).ok()?.reconciled_custom_buckets;
    if is_counter {
        for pair in samples.windows(2) {
            if pair[1].h.detect_reset(&pair[0].h) {
                reconciled |= result.add(&pair[0].h).ok()?.reconciled_custom_buckets;
            }
        }
    } else if first.h.counter_reset_hint != series::CounterResetHint::Gauge
        || last.h.counter_reset_hint != series::CounterResetHint::Gauge
    {
        warnings.push(Warning::warn(format!("this native histogram metric is not a gauge: {:?}", w.metric)));
    }
    if reconciled {
        warnings.push(reconciled_info("subtraction"));
    }
    result.counter_reset_hint = series::CounterResetHint::Gauge;
    result.compact();
    let counter_start = is_counter.then_some((first.h.count, result.count));
    let factor = extrapolation_factor(w.start, w.end, first.t, last.t, samples.len(), counter_start, is_rate);
    result.mul(factor);
    Some(result)
}

/// Prometheus's extrapolation of a change between the first and last
/// sample to the window's edges: all the way if the samples reach within
/// 110% of the average interval of an edge, else by half an interval; a
/// counter (first value, change) is not extrapolated to below zero.
fn extrapolation_factor(
    start: i64,
    end: i64,
    first_t: i64,
    last_t: i64,
    n: usize,
    counter_start: Option<(f64, f64)>,
    is_rate: bool,
) -> f64 {
    let mut duration_to_start = (first_t - start) as f64 / 1000.0;
    let mut duration_to_end = (end - last_t) as f64 / 1000.0;
    let sampled_interval = (last_t - first_t) as f64 / 1000.0;
    let average_interval = sampled_interval / (n - 1) as f64;
    let threshold = average_interval * 1.1;
    if duration_to_start >= threshold {
        duration_to_start = average_interval / 2.0;
    }
    if let Some((first, change)) = counter_start {
        let mut duration_to_zero = duration_to_start;
        if change > 0.0 && first >= 0.0 {
            duration_to_zero = sampled_interval * (first / change);
        }
        duration_to_start = duration_to_start.min(duration_to_zero);
    }
    if duration_to_end >= threshold {
        duration_to_end = average_interval / 2.0;
    }
    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= (end - start) as f64 / 1000.0;
    }
    factor
}

/// `irate` and `idelta` of the last two histograms.
fn instant(
    previous: &HistogramSample,
    last: &HistogramSample,
    is_rate: bool,
    warnings: &mut Vec<Warning>,
    metric: &str,
) -> Option<FloatHistogram> {
    let interval = last.t - previous.t;
    if interval == 0 {
        return None;
    }
    let mut result = (*last.h).clone();
    if !is_rate || !last.h.detect_reset(&previous.h) {
        match result.sub(&previous.h) {
            Ok(combined) if combined.reconciled_custom_buckets => warnings.push(reconciled_info("subtraction")),
            Ok(_) => {}
            Err(HistogramError::MixedExponentialCustom) => {
                warnings.push(mixed_schemas_warning(metric));
                return None;
            }
        }
    }
    result.counter_reset_hint = series::CounterResetHint::Gauge;
    result.compact();
    if is_rate {
        result.div(interval as f64 / 1000.0);
    }
    Some(result)
}
