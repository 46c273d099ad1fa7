//! Function calls: dispatch, and the numeric helpers several functions share.
//!
//! Functions over range vectors (`rate`, `*_over_time`, …) see one window of
//! one series at a time (see [`Window`]); functions over instant vectors see
//! one step of the vector, or are applied point by point when each output
//! depends on one input only.

mod histogram;
mod info;
mod label;
mod math;
mod native;
mod native_range;
mod over_time;
mod rate;
mod time;

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Call, Expr};
use series::{HistogramSample, Labels, METRIC_NAME, Sample};

use crate::eval::{Collector, Evaluator, Grid, PAR_BATCH, StepSeries, Val, by_step_all, par_map};
use crate::selector::{self, RangeInput};
use crate::{Error, Result, Warning};

pub(crate) use native_range::{mixed_schemas_warning, mixed_warning, reconciled_info, sum_start};

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
    /// below the one before it), so rate and friends can skip looking.
    pub may_reset: bool,
}

impl Window<'_> {
    /// The window's length in seconds.
    pub fn range_seconds(&self) -> f64 {
        (self.end - self.start) as f64 / 1000.0
    }
}

/// A function of one window and the step's scalar arguments.
pub(crate) type RangeFn = fn(&Window<'_>, &[f64]) -> Option<f64>;

/// Evaluates a function call at every step.
pub(crate) fn eval(ev: &mut Evaluator<'_>, call: &Call, grid: Grid) -> Result<Val> {
    let name = call.func.name;
    let args: Vec<&Expr> = call.args.args.iter().map(|a| a.as_ref()).collect();
    if let Some(f) = rate::lookup(name).or_else(|| over_time::lookup(name)) {
        return range_function(ev, call, &args, f, grid);
    }
    match name {
        "time" => Ok(Val::Scalar(grid.times().map(|t| t as f64 / 1000.0).collect())),
        "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; grid.len()])),
        "start" | "end" | "step" | "range" => {
            let ms = match name {
                "start" => ev.query_start,
                "end" => ev.query_end,
                "step" => ev.query_step,
                _ => ev.query_end - ev.query_start,
            };
            Ok(Val::Scalar(vec![ms as f64 / 1000.0; grid.len()]))
        }
        "min_of" | "max_of" => {
            let mut values = ev.eval_scalar(args[0], grid)?;
            for arg in &args[1..] {
                let other = ev.eval_scalar(arg, grid)?;
                for (v, o) in values.iter_mut().zip(other) {
                    *v = if name == "min_of" { go_min(*v, o) } else { go_max(*v, o) };
                }
            }
            Ok(Val::Scalar(values))
        }
        "vector" => {
            let values = ev.eval_scalar(args[0], grid)?;
            let points = grid.times().zip(values).map(|(t, v)| Sample { t, v }).collect();
            Ok(Val::Vector(vec![StepSeries::floats(Labels::empty(), false, points)]))
        }
        "scalar" => {
            let input = ev.eval_vector(args[0], grid)?;
            // Histograms are ignored: one float is the answer, whatever else the vector holds.
            let steps = crate::eval::by_step(&input, grid);
            Ok(Val::Scalar(steps.iter().map(|step| if step.len() == 1 { step[0].v } else { f64::NAN }).collect()))
        }
        "timestamp" => match unparen(args[0]) {
            Expr::VectorSelector(vs) => Ok(Val::Vector(selector::instant_timestamps(ev, vs, grid)?)),
            _ => {
                let mut input = ev.eval_vector(args[0], grid)?;
                for s in &mut input {
                    let times = s.histograms.drain(..).map(|h| Sample { t: h.t, v: h.t as f64 / 1000.0 });
                    s.points.extend(times);
                    s.points.sort_by_key(|p| p.t);
                }
                Ok(Val::Vector(map_points(input, |p| Some(p.t as f64 / 1000.0))))
            }
        },
        "absent" => {
            let input = ev.eval_vector(args[0], grid)?;
            let steps = by_step_all(&input, grid);
            let points: Vec<Sample> = steps
                .iter()
                .enumerate()
                .filter(|(_, step)| step.is_empty())
                .map(|(i, _)| Sample { t: grid.ts(i), v: 1.0 })
                .collect();
            Ok(Val::Vector(single(absent_labels(args[0]), points)))
        }
        "absent_over_time" => {
            let input = selector::range_input(ev, args[0], grid)?;
            let mut points = Vec::new();
            for (i, ts) in grid.times().enumerate() {
                let (start, end) = input.window(ts);
                let present = input.series.iter().any(|s| {
                    s.samples.iter().any(|p| p.t > start && p.t <= end)
                        || s.histograms.iter().any(|p| p.t > start && p.t <= end)
                });
                if !present {
                    points.push(Sample { t: grid.ts(i), v: 1.0 });
                }
            }
            Ok(Val::Vector(single(absent_labels(args[0]), points)))
        }
        "label_replace" => label::replace(ev, &args, grid),
        "label_join" => label::join(ev, &args, grid),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => label::sort(ev, name, &args, grid),
        "histogram_quantile" => histogram::quantile_fn(ev, &args, grid),
        "histogram_fraction" => histogram::fraction_fn(ev, &args, grid),
        "histogram_quantiles" => histogram::quantiles_fn(ev, &args, grid),
        "round" => {
            let input = ev.eval_vector(args[0], grid)?;
            let to_nearest = match args.get(1) {
                Some(arg) => ev.eval_scalar(arg, grid)?,
                None => vec![1.0; grid.len()],
            };
            Ok(Val::Vector(map_points(input, |p| {
                // Inverting first gives fewer floating point surprises, as in Prometheus.
                let inverse = 1.0 / to_nearest[grid.index(p.t)];
                Some((p.v * inverse + 0.5).floor() / inverse)
            })))
        }
        "clamp" | "clamp_min" | "clamp_max" => {
            let input = ev.eval_vector(args[0], grid)?;
            let first = ev.eval_scalar(args[1], grid)?;
            let (min, max) = match name {
                "clamp" => (first, ev.eval_scalar(args[2], grid)?),
                "clamp_min" => (first, vec![f64::INFINITY; grid.len()]),
                _ => (vec![f64::NEG_INFINITY; grid.len()], first),
            };
            Ok(Val::Vector(map_points(input, |p| {
                let i = grid.index(p.t);
                (max[i] >= min[i] || max[i].is_nan() || min[i].is_nan()).then(|| go_max(min[i], go_min(max[i], p.v)))
            })))
        }
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute" | "month" | "year" => {
            let f = time::lookup(name).ok_or_else(|| Error::bad_data(format!("unknown function {name}")))?;
            match args.first() {
                None => {
                    // Go truncates toward zero here, as Rust does.
                    let points = grid.times().map(|t| Sample { t, v: f(t / 1000) }).collect();
                    Ok(Val::Vector(single(Labels::empty(), points)))
                }
                Some(arg) => {
                    let input = ev.eval_vector(arg, grid)?;
                    Ok(Val::Vector(map_points(input, |p| Some(time::of_value(p.v, f)))))
                }
            }
        }
        "info" => info::eval(ev, &args, grid),
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev" | "histogram_stdvar" => {
            let f = native::lookup(name).ok_or_else(|| Error::bad_data(format!("unknown function {name}")))?;
            let input = ev.eval_vector(args[0], grid)?;
            Ok(Val::Vector(native::map_histograms(input, f)))
        }
        _ => match math::lookup(name) {
            Some(f) => {
                let input = ev.eval_vector(args[0], grid)?;
                Ok(Val::Vector(map_points(input, |p| Some(f(p.v)))))
            }
            None => Err(Error::Unsupported { what: format!("function {name}") }),
        },
    }
}

fn unparen(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// A vector of one series, or of none if it has no points.
fn single(labels: Labels, points: Vec<Sample>) -> Vec<StepSeries> {
    if points.is_empty() { Vec::new() } else { vec![StepSeries::floats(labels, false, points)] }
}

/// Applies `f` to every float point; histogram points are dropped, and so is the name.
fn map_points(series: Vec<StepSeries>, f: impl Fn(Sample) -> Option<f64>) -> Vec<StepSeries> {
    series
        .into_iter()
        .filter_map(|mut s| {
            s.points = s.points.iter().filter_map(|&p| f(p).map(|v| Sample { t: p.t, v })).collect();
            s.histograms = Vec::new();
            s.drop_name = true;
            (!s.points.is_empty()).then_some(s)
        })
        .collect()
}

/// The labels `absent` gives its output: those the selector fixes with `=`,
/// except a label it also constrains otherwise.
fn absent_labels(expr: &Expr) -> Labels {
    let vs = match unparen(expr) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let mut builder = series::LabelsBuilder::default();
    let mut seen: Vec<&str> = Vec::new();
    for m in vs.matchers.matchers.iter().chain(vs.matchers.or_matchers.iter().flatten()) {
        if m.name == METRIC_NAME {
            continue;
        }
        if matches!(m.op, promql_parser::label::MatchOp::Equal) && !seen.contains(&m.name.as_str()) {
            builder.set(&m.name, &m.value);
            seen.push(&m.name);
        } else {
            builder.remove(&m.name);
        }
    }
    builder.build()
}

/// Evaluates a function over a range vector: each series' window at each
/// step goes through `f`.
fn range_function(ev: &mut Evaluator<'_>, call: &Call, args: &[&Expr], f: RangeFn, grid: Grid) -> Result<Val> {
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
    let mut out = Vec::with_capacity(input.series.len());
    for batch in input.series.chunks(PAR_BATCH) {
        ev.check_deadline()?;
        let results = par_map(batch, |source| {
            let (points, histograms, warnings) = if source.histograms.is_empty() {
                (range_points(&input, &source.samples, grid, f, &params, counter), Vec::new(), Vec::new())
            } else {
                mixed_range_points(&input, source, grid, name, f, &params)
            };
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

/// One series' points of a range function: `f` over its window at each step.
/// Windows only move forward along the grid, so two cursors find them; for
/// counters, a running count of resets tells which windows need no reset scan.
fn range_points(
    input: &RangeInput,
    samples: &[Sample],
    grid: Grid,
    f: RangeFn,
    params: &[Vec<f64>],
    counter: bool,
) -> Vec<Sample> {
    // resets[k]: how many of samples[1..=k] are below their predecessor.
    let resets: Vec<u32> = if counter {
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
        while lo < samples.len() && samples[lo].t <= start {
            lo += 1;
        }
        hi = hi.max(lo);
        while hi < samples.len() && samples[hi].t <= end {
            hi += 1;
        }
        if lo >= hi {
            continue;
        }
        for (slot, values) in step_params.iter_mut().zip(params) {
            *slot = values[i];
        }
        let may_reset = !counter || resets[hi - 1] != resets[lo];
        let window = Window { samples: &samples[lo..hi], start, end, ts, may_reset };
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
        while lo < samples.len() && samples[lo].t <= start {
            lo += 1;
        }
        hi = hi.max(lo);
        while hi < samples.len() && samples[hi].t <= end {
            hi += 1;
        }
        while h_lo < histograms.len() && histograms[h_lo].t <= start {
            h_lo += 1;
        }
        h_hi = h_hi.max(h_lo);
        while h_hi < histograms.len() && histograms[h_hi].t <= end {
            h_hi += 1;
        }
        for (slot, values) in step_params.iter_mut().zip(params) {
            *slot = values[i];
        }
        let floats = &samples[lo..hi];
        let float_result = |floats: &[Sample]| {
            if floats.is_empty() {
                return None;
            }
            f(&Window { samples: floats, start, end, ts, may_reset: true }, &step_params)
        };
        let outcome = if h_lo == h_hi {
            native_range::Outcome::UseFloats
        } else {
            let window = native_range::MixedWindow { floats, histograms: &histograms[h_lo..h_hi], start, end, metric };
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

/// One step of Kahan-Neumaier summation, as Prometheus's `kahansum.Inc`.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The `q`-quantile of `values` by linear interpolation between closest ranks,
/// as Prometheus's `quantile`: NaN for no values or a NaN `q`, ±Inf outside [0, 1].
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as Go's sort with Prometheus's Less.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).expect("neither is NaN"),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Go's `math.Max`: NaN wins, and +0 beats -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN wins, and -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

/// A float as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it, which
/// is how Prometheus turns values into label values.
pub fn go_format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// Collects per-step outputs of a function over an instant vector.
pub(crate) fn collect(steps: Vec<Vec<(Labels, bool, f64)>>, grid: Grid) -> Result<Vec<StepSeries>> {
    let mut out = Collector::default();
    for (i, step) in steps.into_iter().enumerate() {
        for (labels, drop_name, v) in step {
            out.push(&labels, drop_name, grid.ts(i), v)?;
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests;
