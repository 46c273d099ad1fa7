//! Functions over range vectors: each series' window at each step goes
//! through a [`RangeFn`] (floats) or `native_range` (windows with
//! histograms), with the start timestamps of the samples where the
//! function reads them.

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Call, Expr};
use series::{HistogramSample, METRIC_NAME, Sample};

use super::{go_format_float, native_range, start};
use crate::eval::{Evaluator, Grid, PAR_BATCH, StepSeries, Val, par_map};
use crate::selector::{self, RangeInput, StartTimes};
use crate::{Error, Result, Warning};

/// One step's window of one series of a range vector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<'a> {
    /// The samples with `start < t <= end`, in time order; never empty.
    pub samples: &'a [Sample],
    /// The exclusive start of the window, in milliseconds.
    pub start: i64,
    /// The inclusive end of the window.
    pub end: i64,
    /// The step's evaluation time (before offset and `@`).
    pub ts: i64,
    /// False when the samples are known to hold no counter reset (a value
    /// below the one before it, or a start timestamp after the previous
    /// sample), so rate and friends can skip looking.
    pub may_reset: bool,
    /// The samples' start timestamps (0: none), or empty when the series has none.
    pub starts: &'a [i64],
}

/// A function of one window and the step's scalar arguments.
pub(crate) type RangeFn = fn(&Window<'_>, &[f64]) -> Option<f64>;

/// Evaluates a function over a range vector: each series' window at each
/// step goes through `f`.
pub(super) fn range_function(
    ev: &mut Evaluator<'_>,
    call: &Call,
    args: &[&Expr],
    f: RangeFn,
    grid: Grid,
) -> Result<Val> {
    let name = call.func.name;
    let matrix_arg = call.func.arg_types.iter().position(|t| *t == ValueType::Matrix).unwrap_or(0);
    let mut params: Vec<Vec<f64>> = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i != matrix_arg {
            params.push(ev.eval_scalar(arg, grid)?);
        }
    }
    if name == "quantile_over_time"
        && let Some(q) = params.first().and_then(|q| q.iter().find(|q| !(0.0..=1.0).contains(*q)))
    {
        ev.warn(Warning::warn(format!("quantile value should be between 0 and 1, got {}", go_format_float(*q))));
    }
    if name == "double_exponential_smoothing" {
        check_smoothing_factors(&params, grid)?;
    }
    let input: RangeInput = selector::range_input(ev, args[matrix_arg], grid)?;
    let keeps_name = matches!(name, "last_over_time" | "first_over_time");
    let counter = matches!(name, "rate" | "increase");
    let uses_starts = matches!(name, "rate" | "increase" | "irate" | "resets");
    let mut out = Vec::with_capacity(input.series.len());
    for batch in input.series.chunks(PAR_BATCH) {
        ev.check_deadline()?;
        let results = par_map(batch, |source| {
            let starts = if uses_starts { &source.starts } else { &StartTimes::default() };
            let (points, histograms, mut warnings) = if source.histograms.is_empty() {
                (
                    range_points(&input, &source.samples, &starts.floats, grid, f, &params, counter),
                    Vec::new(),
                    Vec::new(),
                )
            } else {
                mixed_range_points(&input, source, starts, grid, name, f, &params)
            };
            if !starts.is_empty() && windows_overlap_starts(&input, source, grid) {
                warnings.push(Warning::warn(format!(
                    "sample has start time that overlaps with previous sample timestamp for metric {:?}",
                    source.labels.get(METRIC_NAME).unwrap_or("")
                )));
            }
            let series = (!points.is_empty() || !histograms.is_empty()).then(|| StepSeries {
                labels: source.labels.clone(),
                drop_name: if keeps_name { source.drop_name } else { true },
                points,
                histograms,
            });
            (series, warnings)
        });
        for (series, warnings) in results {
            for warning in warnings {
                ev.warn(warning);
            }
            let Some(series) = series else {
                continue;
            };
            let counter = counter && !series.points.is_empty();
            if counter
                && let Some(metric) = series.labels.get(METRIC_NAME)
                && !["_total", "_sum", "_count", "_bucket"].iter().any(|suffix| metric.ends_with(suffix))
            {
                ev.warn(Warning::info(format!(
                    "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
                )));
            }
            out.push(series);
        }
    }
    Ok(Val::Vector(out))
}

/// Whether, in some step's window, a sample's start timestamp overlaps the
/// sample before it (see `start::overlaps`).
fn windows_overlap_starts(input: &RangeInput, source: &selector::RangeSource, grid: Grid) -> bool {
    let overlapping = |times: &mut dyn Iterator<Item = i64>, starts: &[i64]| -> bool {
        let times: Vec<i64> = times.collect();
        (1..starts.len()).any(|i| {
            start::overlaps(starts[i - 1], times[i - 1], starts[i])
                && grid.times().any(|ts| {
                    let (start, end) = input.window(ts);
                    times[i - 1] > start && times[i] <= end
                })
        })
    };
    overlapping(&mut source.samples.iter().map(|s| s.t), &source.starts.floats)
        || overlapping(&mut source.histograms.iter().map(|h| h.t), &source.starts.histograms)
}

/// One series' points of a range function: `f` over its window at each step.
/// Windows only move forward along the grid, so two cursors find them; for
/// counters, a running count of resets tells which windows need no reset scan.
fn range_points(
    input: &RangeInput,
    samples: &[Sample],
    starts: &[i64],
    grid: Grid,
    f: RangeFn,
    params: &[Vec<f64>],
    counter: bool,
) -> Vec<Sample> {
    // resets[k]: how many of samples[1..=k] are below their predecessor.
    let resets: Vec<u32> = if counter && starts.is_empty() {
        let mut n = 0;
        std::iter::once(0)
            .chain(samples.windows(2).map(|pair| {
                n += u32::from(pair[1].v < pair[0].v);
                n
            }))
            .collect()
    } else {
        Vec::new()
    };
    let mut step_params = vec![0.0; params.len()];
    let (mut lo, mut hi) = (0, 0);
    let mut points = Vec::new();
    for (i, ts) in grid.times().enumerate() {
        let (start, end) = input.window(ts);
        (lo, hi) = slide(lo, hi, samples.len(), |k| samples[k].t, start, end);
        if lo >= hi {
            continue;
        }
        for (slot, values) in step_params.iter_mut().zip(params) {
            *slot = values[i];
        }
        let may_reset = !counter || !starts.is_empty() || resets[hi - 1] != resets[lo];
        let window_starts = if starts.is_empty() { starts } else { &starts[lo..hi] };
        let window = Window { samples: &samples[lo..hi], start, end, ts, may_reset, starts: window_starts };
        if let Some(v) = f(&window, &step_params) {
            points.push(Sample { t: ts, v });
        }
    }
    points
}

/// [`range_points`] for a series with histogram samples: windows with
/// histograms go through `native_range`, the others through `f`.
fn mixed_range_points(
    input: &RangeInput,
    source: &selector::RangeSource,
    starts: &StartTimes,
    grid: Grid,
    name: &str,
    f: RangeFn,
    params: &[Vec<f64>],
) -> (Vec<Sample>, Vec<HistogramSample>, Vec<Warning>) {
    let (samples, histograms) = (&source.samples, &source.histograms);
    let metric = source.labels.get(METRIC_NAME).unwrap_or("");
    let mut step_params = vec![0.0; params.len()];
    let (mut lo, mut hi, mut h_lo, mut h_hi) = (0, 0, 0, 0);
    let (mut points, mut hist_points, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    for (i, ts) in grid.times().enumerate() {
        let (start, end) = input.window(ts);
        (lo, hi) = slide(lo, hi, samples.len(), |k| samples[k].t, start, end);
        (h_lo, h_hi) = slide(h_lo, h_hi, histograms.len(), |k| histograms[k].t, start, end);
        for (slot, values) in step_params.iter_mut().zip(params) {
            *slot = values[i];
        }
        let floats = &samples[lo..hi];
        let float_starts = if starts.floats.is_empty() { &[][..] } else { &starts.floats[lo..hi] };
        let hist_starts = if starts.histograms.is_empty() { &[][..] } else { &starts.histograms[h_lo..h_hi] };
        let float_result = |floats: &[Sample]| {
            if floats.is_empty() {
                return None;
            }
            let window = Window { samples: floats, start, end, ts, may_reset: true, starts: float_starts };
            f(&window, &step_params)
        };
        let outcome = if h_lo == h_hi {
            native_range::Outcome::UseFloats
        } else {
            let window = native_range::MixedWindow {
                floats,
                histograms: &histograms[h_lo..h_hi],
                float_starts,
                hist_starts,
                start,
                end,
                metric,
            };
            native_range::eval(name, &window, &mut warnings)
        };
        match outcome {
            native_range::Outcome::Float(v) => points.push(Sample { t: ts, v }),
            native_range::Outcome::Histogram(h) => {
                hist_points.push(HistogramSample { t: ts, h: std::sync::Arc::new(h) });
            }
            native_range::Outcome::Nothing => {}
            native_range::Outcome::UseFloats => {
                if let Some(v) = float_result(floats) {
                    points.push(Sample { t: ts, v });
                }
            }
        }
    }
    (points, hist_points, warnings)
}

fn check_smoothing_factors(params: &[Vec<f64>], grid: Grid) -> Result<()> {
    for (&sf, &tf) in params[0].iter().zip(&params[1]).take(grid.len()) {
        if !(sf > 0.0 && sf < 1.0) {
            return Err(Error::bad_data(format!(
                "invalid smoothing factor. Expected: 0 < sf < 1, got: {}",
                go_format_float(sf)
            )));
        }
        if !(tf > 0.0 && tf < 1.0) {
            return Err(Error::bad_data(format!(
                "invalid trend factor. Expected: 0 < tf < 1, got: {}",
                go_format_float(tf)
            )));
        }
    }
    Ok(())
}

/// Moves the window `[lo, hi)` over points in time order (`time(k)` is the
/// time of point `k` of `len`) to the points in `(start, end]`. Windows only
/// move forward along the grid, so each point is passed over once.
fn slide(mut lo: usize, hi: usize, len: usize, time: impl Fn(usize) -> i64, start: i64, end: i64) -> (usize, usize) {
    while lo < len && time(lo) <= start {
        lo += 1;
    }
    let mut hi = hi.max(lo);
    while hi < len && time(hi) <= end {
        hi += 1;
    }
    (lo, hi)
}
