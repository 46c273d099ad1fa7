//! Range functions over windows that hold native histograms: rates and
//! deltas of histograms with counter resets and Prometheus's extrapolation,
//! `sum_over_time` and `avg_over_time` of histograms, and the functions that
//! count, pick or compare samples of either kind.

use series::{Combined, CounterResetHint, FloatHistogram, HistogramError, HistogramSample, Sample};

use super::histogram_sum::{HistogramMean, start_sum};
use super::rate::Extrapolation;
use super::start;
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
    /// Start timestamps of the floats and of the histograms (0: none), or empty.
    pub float_starts: &'a [i64],
    pub hist_starts: &'a [i64],
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
                    let restarted = !w.hist_starts.is_empty()
                        && start::is_reset(
                            w.hist_starts[n - 2],
                            w.histograms[n - 2].t,
                            w.hist_starts[n - 1],
                            w.histograms[n - 1].t,
                        );
                    let pair = (&w.histograms[n - 2], &w.histograms[n - 1]);
                    instant(pair, restarted, name == "irate", warnings, w.metric)
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
            let Some(mut sum) = sum(w.histograms, name == "avg_over_time", warnings, w.metric) else {
                return Outcome::Nothing;
            };
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
    let mut all: Vec<(i64, i64, Any<'_>)> =
        w.floats.iter().enumerate().map(|(i, s)| (s.t, start::of(w.float_starts, i), Any::F(s.v))).collect();
    all.extend(w.histograms.iter().enumerate().map(|(i, s)| (s.t, start::of(w.hist_starts, i), Any::H(&s.h))));
    all.sort_by_key(|(t, ..)| *t);
    let mut n = 0;
    for pair in all.windows(2) {
        let ((previous_t, previous_start, previous), (t, start, current)) = (&pair[0], &pair[1]);
        if resets && start::is_reset(*previous_start, *previous_t, *start, *t) {
            n += 1;
            continue;
        }
        let counted = match (previous, current) {
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

/// The sum (or with `mean`, the mean) of the window's histograms.
fn sum(
    histograms: &[HistogramSample],
    mean: bool,
    warnings: &mut Vec<Warning>,
    metric: &str,
) -> Option<FloatHistogram> {
    let first = &histograms.first()?.h;
    let rest = histograms[1..].iter().map(|s| &*s.h);
    if mean {
        let mut average = HistogramMean::new(first);
        accumulate(rest, |h| average.add(h), warnings, metric)?;
        Some(average.mean())
    } else {
        let mut total = start_sum(first);
        accumulate(rest, |h| total.add(h), warnings, metric)?;
        Some(total.total())
    }
}

/// Feeds histograms to `add`, noting reconciled bounds; `None` (with a
/// warning) at the first histogram that cannot be added.
fn accumulate<'a>(
    histograms: impl Iterator<Item = &'a FloatHistogram>,
    mut add: impl FnMut(&FloatHistogram) -> Result<Combined, HistogramError>,
    warnings: &mut Vec<Warning>,
    metric: &str,
) -> Option<()> {
    for h in histograms {
        match add(h) {
            Ok(combined) if combined.reconciled_custom_buckets => warnings.push(reconciled_info("aggregation")),
            Ok(_) => {}
            Err(HistogramError::MixedExponentialCustom) => {
                warnings.push(mixed_schemas_warning(metric));
                return None;
            }
        }
    }
    Some(())
}

/// `rate`, `increase` and `delta` of histograms: the last minus the first,
/// plus every value lost to a counter reset, extrapolated as for floats.
///
/// A counter that starts from zero inside the window (its first sample's
/// start timestamp says so) or is reset before the second sample is
/// measured from an empty histogram, so the first sample's layout does not
/// matter; only its count still limits the extrapolation.
fn rate(w: &MixedWindow<'_>, is_counter: bool, is_rate: bool, warnings: &mut Vec<Warning>) -> Option<FloatHistogram> {
    let samples = w.histograms;
    let first = samples.first()?;
    let last = &samples[samples.len() - 1];
    let starts = w.hist_starts;
    let origin = if is_counter { start::counter_origin(start::of(starts, 0), first.t, w.start) } else { None };
    if samples.len() < 2 && origin.is_none() {
        return None;
    }
    let is_reset = |i: usize| {
        start::is_reset(start::of(starts, i - 1), samples[i - 1].t, start::of(starts, i), samples[i].t)
            || samples[i].h.detect_reset(&samples[i - 1].h)
    };
    if is_counter
        && (first.h.counter_reset_hint == CounterResetHint::Gauge
            || last.h.counter_reset_hint == CounterResetHint::Gauge)
    {
        warnings.push(not_counter_warning(w.metric));
    }
    let reset_before_second = is_counter && origin.is_none() && samples.len() > 1 && is_reset(1);
    let base = match (origin, reset_before_second) {
        (Some(_), _) => empty_like(&first.h),
        (None, true) => empty_like(&samples[1].h),
        (None, false) => (*first.h).clone(),
    };
    if last.h.uses_custom_buckets() != base.uses_custom_buckets() {
        warnings.push(mixed_schemas_warning(w.metric));
        return None;
    }
    let mut min_schema = last.h.schema.min(base.schema);
    if is_counter && samples.len() > 2 {
        for s in &samples[1..samples.len() - 1] {
            if s.h.counter_reset_hint == CounterResetHint::Gauge {
                warnings.push(not_counter_warning(w.metric));
            }
            if s.h.uses_custom_buckets() != base.uses_custom_buckets() {
                warnings.push(mixed_schemas_warning(w.metric));
                return None;
            }
            min_schema = min_schema.min(s.h.schema);
        }
    }
    let mut result = (*last.h).clone();
    result.reduce_resolution(min_schema);
    let mut reconciled = match result.sub(&base) {
        Ok(combined) => combined.reconciled_custom_buckets,
        Err(HistogramError::MixedExponentialCustom) => {
            warnings.push(mixed_schemas_warning(w.metric));
            return None;
        }
    };
    if is_counter {
        // A reset before the second sample is already accounted for by the empty base.
        let first_pair = if reset_before_second { 2 } else { 1 };
        for i in first_pair..samples.len() {
            if !is_reset(i) {
                continue;
            }
            match result.add(&samples[i - 1].h) {
                Ok(combined) => reconciled |= combined.reconciled_custom_buckets,
                Err(HistogramError::MixedExponentialCustom) => {
                    warnings.push(mixed_schemas_warning(w.metric));
                    return None;
                }
            }
        }
    } else if first.h.counter_reset_hint != CounterResetHint::Gauge
        || last.h.counter_reset_hint != CounterResetHint::Gauge
    {
        warnings.push(Warning::warn(format!("this native histogram metric is not a gauge: {:?}", w.metric)));
    }
    if reconciled {
        warnings.push(reconciled_info("subtraction"));
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    result.compact();
    let counter_start = is_counter.then_some((first.h.count, result.count));
    let extrapolation =
        Extrapolation { start: w.start, end: w.end, first_t: first.t, last_t: last.t, n: samples.len() };
    result.mul(extrapolation.factor(counter_start, origin, is_rate));
    Some(result)
}

/// An empty histogram with the layout of `h` (its schema, or custom bounds).
fn empty_like(h: &FloatHistogram) -> FloatHistogram {
    FloatHistogram { schema: h.schema, custom_values: h.custom_values.clone(), ..FloatHistogram::default() }
}

/// The warning that a counter function got a gauge histogram.
fn not_counter_warning(metric: &str) -> Warning {
    Warning::warn(format!("this native histogram metric is not a counter: {metric:?}"))
}

/// `irate` and `idelta` of the last two histograms.
/// `restarted` says whether the last one's start timestamp shows a reset.
fn instant(
    (previous, last): (&HistogramSample, &HistogramSample),
    restarted: bool,
    is_rate: bool,
    warnings: &mut Vec<Warning>,
    metric: &str,
) -> Option<FloatHistogram> {
    let interval = last.t - previous.t;
    if interval == 0 {
        return None;
    }
    let mut result = (*last.h).clone();
    if !is_rate || !(restarted || last.h.detect_reset(&previous.h)) {
        match result.sub(&previous.h) {
            Ok(combined) if combined.reconciled_custom_buckets => warnings.push(reconciled_info("subtraction")),
            Ok(_) => {}
            Err(HistogramError::MixedExponentialCustom) => {
                warnings.push(mixed_schemas_warning(metric));
                return None;
            }
        }
    }
    result.counter_reset_hint = CounterResetHint::Gauge;
    result.compact();
    if is_rate {
        result.div(interval as f64 / 1000.0);
    }
    Some(result)
}
