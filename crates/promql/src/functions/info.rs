//! `info(v, {selector})`: adds the data labels of info metrics to the series they describe.
//!
//! An info metric (`target_info` unless the selector names others with
//! `__name__` matchers) describes a target; it shares the *identifying*
//! labels `instance` and `job` with the series of that target, and its other
//! labels are *data* labels. At every step, each series of `v` gets the data
//! labels of the info series that share its identifying labels (as of the
//! time the series itself was read, after `@` and `offset`), except labels
//! it already has; the selector's other matchers pick which data labels to
//! add and which info series count. When two info series of one metric
//! match at a step, the one with the later sample wins. A series of `v` that
//! is itself one of the info metrics passes unchanged.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use promql_parser::label::{MatchOp, Matcher, Matchers};
use promql_parser::parser::token::T_EQL_REGEX;
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};
use series::{Labels, LabelsBuilder, METRIC_NAME};

use super::go_format_float;
use crate::eval::{Collector, Evaluator, Grid, StepSeries, Val, by_step, offset_ms};
use crate::{Error, Result, parse, selector};

/// The info metric `info()` reads when the selector names none.
const TARGET_INFO: &str = "target_info";

/// The labels an info series and the series it describes share.
const IDENTIFYING_LABELS: [&str; 2] = ["instance", "job"];

/// Evaluates `info(v)` or `info(v, {selector})` at every step.
pub(super) fn eval(ev: &mut Evaluator<'_>, args: &[&Expr], grid: Grid) -> Result<Val> {
    let matchers = match args.get(1) {
        Some(arg) => selector_matchers(arg)?,
        None => Vec::new(),
    };
    let (name_matchers, data_matchers): (Vec<Matcher>, Vec<Matcher>) =
        matchers.into_iter().partition(|m| m.name == METRIC_NAME);
    let selector = Selector { names: effective_name_matchers(name_matchers), data: data_matchers };
    let base = ev.eval_vector(args[0], grid)?;
    let ignored: Vec<bool> = base.iter().map(|s| selector.is_info_metric(&s.labels)).collect();
    let info = select_info(ev, args[0], &selector, &base, &ignored, grid)?;
    let infos = InfoSet::new(&info);
    // Per series to enrich, its signature for each info metric.
    let base_signatures: Vec<Vec<Labels>> =
        base.iter().map(|s| infos.names.iter().map(|name| signature(name, &s.labels)).collect()).collect();
    let base_steps = by_step(&base, grid);
    let info_steps = by_step(&info, grid);
    let mut out = Collector::default();
    let mut latest: HashMap<&Labels, (usize, f64)> = HashMap::new();
    for (i, (base_step, info_step)) in base_steps.iter().zip(&info_steps).enumerate() {
        if base_step.is_empty() {
            continue;
        }
        ev.check_deadline()?;
        latest.clear();
        for e in info_step {
            let signature = &infos.signatures[e.series];
            match latest.get(signature) {
                Some(&(other, t)) if t == e.v => {
                    return Err(Error::execution(format!(
                        "found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                        info[other].labels,
                        seconds_to_ms(t),
                        info[e.series].labels,
                        seconds_to_ms(e.v)
                    )));
                }
                Some(&(_, t)) if t > e.v => {}
                _ => {
                    latest.insert(signature, (e.series, e.v));
                }
            }
        }
        let t = grid.ts(i);
        for e in base_step {
            let series = &base[e.series];
            let labels = if ignored[e.series] {
                Some(series.labels.clone())
            } else {
                let matches =
                    base_signatures[e.series].iter().filter_map(|sig| latest.get(sig)).map(|&(idx, _)| &info[idx]);
                enrich(&series.labels, matches, &selector)?
            };
            if let Some(labels) = labels {
                out.push(&labels, series.drop_name, t, e.v)?;
            }
        }
    }
    Ok(Val::Vector(out.finish()?))
}

/// `info()`'s label selector, split.
struct Selector {
    /// Which metrics are info metrics, by their `__name__`.
    names: Vec<Matcher>,
    /// Which info series count and which of their labels are added.
    data: Vec<Matcher>,
}

impl Selector {
    fn is_info_metric(&self, labels: &Labels) -> bool {
        let name = labels.get(METRIC_NAME).unwrap_or("");
        self.names.iter().all(|m| m.is_match(name))
    }

    /// Whether a label of an info series is one to add.
    fn selects(&self, label: &str) -> bool {
        label != METRIC_NAME && (self.data.is_empty() || self.data.iter().any(|m| m.name == label))
    }
}

/// The info series that may describe the series of `base` that are not
/// info series themselves, each point holding its sample's time in seconds.
fn select_info(
    ev: &mut Evaluator<'_>,
    arg: &Expr,
    selector: &Selector,
    base: &[StepSeries],
    ignored: &[bool],
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    let wanted = identifying_values(base, ignored);
    if wanted.values().all(BTreeSet::is_empty) {
        return Ok(Vec::new());
    }
    let matchers = selector.names.iter().chain(&selector.data).cloned().collect();
    let (at, offset) = reference_time(ev, arg, None, 0);
    let (mut info, histograms) = selector::instant_timestamps_and_kind(ev, &info_selector(matchers, at, offset), grid)?;
    if histograms {
        return Err(Error::execution("info(): info metrics must hold float samples, not native histograms"));
    }
    info.retain(|s| {
        wanted.iter().all(|(name, values)| values.is_empty() || values.contains(s.labels.get(name).unwrap_or("")))
    });
    Ok(info)
}

/// The labels of a series enriched by the info series that match it at a
/// step (at most one per info metric), or `None` when none matches and the
/// selector asks for a data label that cannot be empty.
///
/// # Errors
///
/// When two info metrics give one data label different values.
fn enrich<'a>(
    labels: &Labels,
    matches: impl Iterator<Item = &'a StepSeries>,
    selector: &Selector,
) -> Result<Option<Labels>> {
    let mut added = LabelsBuilder::default();
    let mut matched = false;
    for info in matches {
        matched = true;
        for label in info.labels.iter().filter(|l| selector.selects(l.name)) {
            if added.get(label.name).is_some_and(|v| v != label.value) {
                return Err(Error::execution(format!("conflicting label: {}", label.name)));
            }
            if labels.get(label.name).is_none() {
                added.set(label.name, label.value);
            }
        }
    }
    if !matched && selector.data.iter().any(|m| !m.is_match("")) {
        return Ok(None);
    }
    let added = added.build();
    if added.is_empty() {
        return Ok(Some(labels.clone()));
    }
    let mut builder = labels.to_builder();
    for label in added.iter() {
        builder.set(label.name, label.value);
    }
    Ok(Some(builder.build()))
}

/// Which metrics are info metrics: those the `__name__` matchers of the
/// selector pick if one of them is positive; with only negative ones, the
/// metrics named `…_info` they do not exclude; with none, `target_info`.
fn effective_name_matchers(mut name_matchers: Vec<Matcher>) -> Vec<Matcher> {
    let is_positive = |m: &Matcher| matches!(m.op, MatchOp::Equal | MatchOp::Re(_));
    if name_matchers.is_empty() {
        name_matchers.push(Matcher::new(MatchOp::Equal, METRIC_NAME, TARGET_INFO));
    } else if !name_matchers.iter().any(is_positive) {
        let info_names = Matcher::new_matcher(T_EQL_REGEX, METRIC_NAME.to_owned(), ".+_info".to_owned())
            .expect("a constant regex compiles");
        name_matchers.insert(0, info_names);
    }
    name_matchers
}

/// The matchers of `info()`'s label selector, without the placeholder the
/// parser needed to accept a selector whose matchers all match the empty string.
fn selector_matchers(arg: &Expr) -> Result<Vec<Matcher>> {
    let vs = match arg {
        Expr::VectorSelector(vs) => vs,
        Expr::Paren(p) => return selector_matchers(&p.expr),
        _ => return Err(Error::bad_data("info() expects a label selector as its second argument")),
    };
    if !vs.matchers.or_matchers.is_empty() {
        return Err(Error::bad_data("info() does not support \"or\" in its label selector"));
    }
    let mut matchers: Vec<Matcher> =
        vs.matchers.matchers.iter().filter(|m| m.name != parse::INFO_PLACEHOLDER_LABEL).cloned().collect();
    if let Some(name) = &vs.name {
        matchers.push(Matcher::new(MatchOp::Equal, METRIC_NAME, name));
    }
    Ok(matchers)
}

/// Per identifying label, the values the series to enrich have; info series
/// must have one of them (any value, where no series has the label).
fn identifying_values<'a>(base: &'a [StepSeries], ignored: &[bool]) -> HashMap<&'static str, BTreeSet<&'a str>> {
    let mut wanted: HashMap<&'static str, BTreeSet<&str>> =
        IDENTIFYING_LABELS.iter().map(|&name| (name, BTreeSet::new())).collect();
    for (series, _) in base.iter().zip(ignored).filter(|(_, ignored)| !**ignored) {
        for name in IDENTIFYING_LABELS {
            if let Some(value) = series.labels.get(name).filter(|v| !v.is_empty()) {
                wanted.get_mut(name).expect("every identifying label has a set").insert(value);
            }
        }
    }
    wanted
}

/// The info series found, their metric names and their match signatures.
struct InfoSet {
    /// The info metrics' names, sorted, so conflicts are found in a stable order.
    names: Vec<String>,
    signatures: Vec<Labels>,
}

impl InfoSet {
    fn new(info: &[StepSeries]) -> InfoSet {
        let names: BTreeSet<&str> = info.iter().filter_map(|s| s.labels.get(METRIC_NAME)).collect();
        InfoSet {
            names: names.into_iter().map(str::to_owned).collect(),
            signatures: info.iter().map(|s| signature(s.labels.get(METRIC_NAME).unwrap_or(""), &s.labels)).collect(),
        }
    }
}

/// What an info series of metric `name` and a series it describes share:
/// the metric name and the identifying labels the series has.
fn signature(name: &str, labels: &Labels) -> Labels {
    let mut builder = LabelsBuilder::default();
    builder.set(METRIC_NAME, name);
    for label in IDENTIFYING_LABELS {
        if let Some(value) = labels.get(label) {
            builder.set(label, value);
        }
    }
    builder.build()
}

/// When the first selector of `expr` reads its samples, as an `@` time (if
/// pinned) and an offset: info series are read as of the same time, so `@`
/// and `offset`, also on an enclosing subquery, move the enrichment with the data.
fn reference_time(ev: &Evaluator<'_>, expr: &Expr, at: Option<i64>, offset: i64) -> (Option<i64>, i64) {
    let pinned = |modifier: Option<&AtModifier>, own_offset: Option<&Offset>| match ev.at_time(modifier) {
        Some(time) => (Some(time), offset_ms(own_offset)),
        None => (at, offset + offset_ms(own_offset)),
    };
    match expr {
        Expr::VectorSelector(vs) => pinned(vs.at.as_ref(), vs.offset.as_ref()),
        Expr::MatrixSelector(ms) => pinned(ms.vs.at.as_ref(), ms.vs.offset.as_ref()),
        Expr::Subquery(sq) => {
            let (at, offset) = pinned(sq.at.as_ref(), sq.offset.as_ref());
            reference_time(ev, &sq.expr, at, offset)
        }
        Expr::Paren(p) => reference_time(ev, &p.expr, at, offset),
        Expr::Unary(u) => reference_time(ev, &u.expr, at, offset),
        Expr::Aggregate(agg) => match &agg.param {
            Some(param) if !has_selector(&agg.expr) => reference_time(ev, param, at, offset),
            _ => reference_time(ev, &agg.expr, at, offset),
        },
        Expr::Binary(bin) if has_selector(&bin.lhs) => reference_time(ev, &bin.lhs, at, offset),
        Expr::Binary(bin) => reference_time(ev, &bin.rhs, at, offset),
        Expr::Call(call) => match call.args.args.iter().find(|arg| has_selector(arg)) {
            Some(arg) => reference_time(ev, arg, at, offset),
            None => (at, offset),
        },
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => (at, offset),
    }
}

/// Whether `expr` reads series from the store anywhere.
fn has_selector(expr: &Expr) -> bool {
    match expr {
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => true,
        Expr::Subquery(sq) => has_selector(&sq.expr),
        Expr::Paren(p) => has_selector(&p.expr),
        Expr::Unary(u) => has_selector(&u.expr),
        Expr::Aggregate(agg) => has_selector(&agg.expr) || agg.param.as_deref().is_some_and(has_selector),
        Expr::Binary(bin) => has_selector(&bin.lhs) || has_selector(&bin.rhs),
        Expr::Call(call) => call.args.args.iter().any(|arg| has_selector(arg)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => false,
    }
}

/// A selector of the info series, read as of `at` (if pinned) minus `offset`.
fn info_selector(matchers: Vec<Matcher>, at: Option<i64>, offset: i64) -> VectorSelector {
    let mut vs = VectorSelector::new(None, Matchers::new(matchers));
    let duration = |ms: i64| Duration::from_millis(ms.unsigned_abs());
    vs.offset = match offset {
        0 => None,
        ms if ms > 0 => Some(Offset::Pos(duration(ms))),
        ms => Some(Offset::Neg(duration(ms))),
    };
    vs.at = at.map(|ms| {
        let time = if ms >= 0 { UNIX_EPOCH + duration(ms) } else { UNIX_EPOCH - duration(ms) };
        AtModifier::At(time)
    });
    vs
}

/// A timestamp read back from `instant_timestamps` (seconds), in milliseconds.
fn seconds_to_ms(seconds: f64) -> String {
    go_format_float((seconds * 1000.0).round())
}
