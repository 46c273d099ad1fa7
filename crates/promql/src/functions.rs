//! Function calls: dispatch, and the numeric helpers several functions share.
//!
//! Functions over range vectors (`rate`, `*_over_time`, …) see one window of
//! one series at a time (see [`Window`]); functions over instant vectors see
//! one step of the vector, or are applied point by point when each output
//! depends on one input only.

mod histogram;
mod histogram_sum;
mod info;
mod label;
mod math;
mod native;
mod native_range;
mod over_time;
mod range;
mod rate;
mod start;
mod time;

use promql_parser::parser::{Call, Expr};
use series::{Labels, METRIC_NAME, Sample};

use crate::eval::{Collector, Evaluator, Grid, StepSeries, Val, by_step_all};
use crate::selector;
use crate::{Error, Result};

pub(crate) use histogram_sum::{HistogramMean, start_sum};
pub(crate) use native_range::{mixed_schemas_warning, mixed_warning, reconciled_info};
use range::range_function;
pub(crate) use range::{RangeFn, Window};
pub(crate) use series::kahan_inc;

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
        "start_timestamp" => match unparen(args[0]) {
            Expr::VectorSelector(vs) => Ok(Val::Vector(selector::instant_start_timestamps(ev, vs, grid)?)),
            // Only stored samples have start timestamps; computed ones have none to give.
            other => {
                ev.eval_vector(other, grid)?;
                Ok(Val::Vector(Vec::new()))
            }
        },
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
