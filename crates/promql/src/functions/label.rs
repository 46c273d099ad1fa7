//! Functions on labels and order: `label_replace`, `label_join`, `sort*`.

use std::cmp::Ordering;

use promql_parser::parser::Expr;
use series::{Labels, METRIC_NAME};

use crate::eval::{Collector, Evaluator, Grid, StepSeries, Val, Value, by_step_all};
use crate::{Error, Result, Warning};

fn string_arg(expr: &Expr) -> Result<&str> {
    match expr {
        Expr::StringLiteral(s) => Ok(&s.val),
        Expr::Paren(p) => string_arg(&p.expr),
        _ => Err(Error::bad_data("expected a string literal")),
    }
}

/// Prometheus 3 accepts any non-empty UTF-8 label name.
fn is_valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// `label_replace(v, dst, replacement, src, regex)`.
pub(super) fn replace(ev: &mut Evaluator<'_>, args: &[&Expr], grid: Grid) -> Result<Val> {
    let dst = string_arg(args[1])?;
    let replacement = string_arg(args[2])?;
    let src = string_arg(args[3])?;
    let pattern = string_arg(args[4])?;
    let regex = series::regex_cache::anchored(pattern)
        .map_err(|_| Error::execution(format!("invalid regular expression in label_replace(): {pattern}")))?;
    if !is_valid_label_name(dst) {
        return Err(Error::bad_data(format!("invalid destination label name in label_replace(): {dst}")));
    }
    let input = ev.eval_vector(args[0], grid)?;
    relabel(
        input,
        |labels| {
            let value = labels.get(src).unwrap_or("");
            let captures = regex.captures(value)?;
            let mut expanded = String::new();
            // Go's `Regexp.Expand` and Rust's agree on `$1`, `${1}`, `$name` and `$$`.
            captures.expand(replacement, &mut expanded);
            let mut builder = labels.to_builder();
            builder.set(dst, &expanded);
            Some(builder.build())
        },
        dst,
    )
}

/// `label_join(v, dst, separator, src...)`.
pub(super) fn join(ev: &mut Evaluator<'_>, args: &[&Expr], grid: Grid) -> Result<Val> {
    let dst = string_arg(args[1])?;
    let separator = string_arg(args[2])?;
    let sources: Vec<&str> = args[3..].iter().map(|a| string_arg(a)).collect::<Result<_>>()?;
    for src in &sources {
        if !is_valid_label_name(src) {
            return Err(Error::bad_data(format!("invalid source label name in label_join(): {src}")));
        }
    }
    if !is_valid_label_name(dst) {
        return Err(Error::bad_data(format!("invalid destination label name in label_join(): {dst}")));
    }
    let input = ev.eval_vector(args[0], grid)?;
    relabel(
        input,
        |labels| {
            let joined: Vec<&str> = sources.iter().map(|src| labels.get(src).unwrap_or("")).collect();
            let mut builder = labels.to_builder();
            builder.set(dst, &joined.join(separator));
            Some(builder.build())
        },
        dst,
    )
}

/// Replaces each series' labels where `f` says so and merges series that end
/// up with the same labels, failing if they have points at the same time.
fn relabel(input: Vec<StepSeries>, f: impl Fn(&Labels) -> Option<Labels>, dst: &str) -> Result<Val> {
    let mut out = Collector::default();
    for series in input {
        let (labels, drop_name) = match f(&series.labels) {
            // Setting the name explicitly keeps it.
            Some(labels) => (labels, if dst == METRIC_NAME { false } else { series.drop_name }),
            None => (series.labels.clone(), series.drop_name),
        };
        for p in &series.points {
            out.push(&labels, drop_name, p.t, p.v)?;
        }
        for p in &series.histograms {
            out.push_histogram(&labels, drop_name, p.t, p.h.clone())?;
        }
    }
    Ok(Val::Vector(out.finish()?))
}

/// `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`: the order of
/// an instant query's result (range query results are always sorted by labels).
pub(super) fn sort(ev: &mut Evaluator<'_>, name: &str, args: &[&Expr], grid: Grid) -> Result<Val> {
    if ev.is_range {
        ev.warn(Warning::warn("sort is ineffective for range queries since results are always ordered by labels"));
    }
    let input = ev.eval_vector(args[0], grid)?;
    let label_names: Vec<&str> = args[1..].iter().map(|a| string_arg(a)).collect::<Result<_>>()?;
    let steps = by_step_all(&input, grid);
    let mut out = Collector::default();
    let float = |v: &Value<'_>| match v {
        Value::Float(f) => *f,
        Value::Histogram(_) => f64::NAN,
    };
    for (i, mut step) in steps.into_iter().enumerate() {
        match name {
            "sort" | "sort_desc" => {
                // Sorting by value ignores histograms, as Prometheus does.
                step.retain(|e| matches!(e.value, Value::Float(_)));
                let sign = if name == "sort" { 1.0 } else { -1.0 };
                step.sort_by(|a, b| ascending_nan_last(sign * float(&a.value), sign * float(&b.value)));
            }
            "sort_by_label" => {
                step.sort_by(|a, b| by_labels(&input[a.series].labels, &input[b.series].labels, &label_names))
            }
            _ => step.sort_by(|a, b| by_labels(&input[b.series].labels, &input[a.series].labels, &label_names)),
        }
        for e in step {
            let series = &input[e.series];
            // sort and sort_desc keep the metric name; so do the label sorts.
            out.push_value(&series.labels, series.drop_name, grid.ts(i), e.value)?;
        }
    }
    Ok(Val::Vector(out.finish()?))
}

fn ascending_nan_last(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).expect("neither is NaN"),
    }
}

fn by_labels(a: &Labels, b: &Labels, names: &[&str]) -> Ordering {
    for name in names {
        let (va, vb) = (a.get(name).unwrap_or(""), b.get(name).unwrap_or(""));
        if va == vb {
            continue;
        }
        return if natural_less(va, vb) { Ordering::Less } else { Ordering::Greater };
    }
    a.cmp(b)
}

/// Natural order as the `natsort` package Prometheus uses: runs of digits
/// compare as numbers, other runs as strings.
fn natural_less(a: &str, b: &str) -> bool {
    let chunks_a = chunks(a);
    let chunks_b = chunks(b);
    for (i, ca) in chunks_a.iter().enumerate() {
        let Some(cb) = chunks_b.get(i) else {
            return false;
        };
        let last_a = i == chunks_a.len() - 1;
        let last_b = i == chunks_b.len() - 1;
        if let (Ok(na), Ok(nb)) = (ca.parse::<i64>(), cb.parse::<i64>()) {
            if na == nb {
                if last_a {
                    return true;
                } else if last_b {
                    return false;
                }
                continue;
            }
            return na < nb;
        }
        if ca == cb {
            if last_a {
                return true;
            } else if last_b {
                return false;
            }
            continue;
        }
        return ca < cb;
    }
    false
}

fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digits: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let is_digit = c.is_ascii_digit();
        if digits.is_some_and(|d| d != is_digit) {
            out.push(&s[start..i]);
            start = i;
        }
        digits = Some(is_digit);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}
