//! Binary operators: arithmetic, comparisons, set operators and vector matching.

use std::collections::{HashMap, HashSet};

use promql_parser::label::Labels as NameList;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD, T_MUL, T_NEQ, T_POW,
    T_SUB, TokenId,
};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};
use std::sync::Arc;

use series::{FloatHistogram, HistogramError, HistogramSample, LabelRef, Labels, LabelsBuilder, METRIC_NAME, Sample};

use crate::eval::{Collector, Evaluator, Grid, StepSeries, Val, Value, by_step_all, type_name};
use crate::functions::{mixed_schemas_warning, reconciled_info};
use crate::{Error, Result, Warning, metric_name};

/// Evaluates a binary expression at every step.
pub(crate) fn eval(ev: &mut Evaluator<'_>, expr: &BinaryExpr, grid: Grid) -> Result<Val> {
    let op = expr.op.id();
    let return_bool = expr.modifier.as_ref().is_some_and(|m| m.return_bool);
    let lhs = ev.eval(&expr.lhs, grid)?;
    let rhs = ev.eval(&expr.rhs, grid)?;
    match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => {
            Ok(Val::Scalar(l.into_iter().zip(r).map(|(l, r)| scalar_op(op, l, r)).collect()))
        }
        (Val::Vector(v), Val::Scalar(s)) => Ok(Val::Vector(vector_scalar(ev, op, v, &s, false, return_bool, grid))),
        (Val::Scalar(s), Val::Vector(v)) => Ok(Val::Vector(vector_scalar(ev, op, v, &s, true, return_bool, grid))),
        (Val::Vector(l), Val::Vector(r)) => {
            let matching = Matching::new(expr);
            match op {
                T_LAND | T_LOR | T_LUNLESS => Ok(Val::Vector(set_op(op, l, r, &matching, grid)?)),
                _ => Ok(Val::Vector(vector_vector(ev, op, l, r, &matching, return_bool, grid)?)),
            }
        }
        (l, r) => Err(Error::bad_data(format!(
            "binary expression must contain only scalar and instant vector types, got {} and {}",
            type_name(&l),
            type_name(&r)
        ))),
    }
}

/// Whether an operator changes what a value measures, so the metric name goes at once.
fn is_arithmetic(op: TokenId) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_POW | T_MOD | T_ATAN2)
}

fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

fn bool_to_f64(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Go's `math.Pow` and C's `pow` agree on the special cases PromQL tests; Rust's `powf` is C's.
fn scalar_op(op: TokenId, l: f64, r: f64) -> f64 {
    match op {
        T_ADD => l + r,
        T_SUB => l - r,
        T_MUL => l * r,
        T_DIV => l / r,
        T_POW => l.powf(r),
        T_MOD => l % r,
        T_ATAN2 => l.atan2(r),
        T_EQLC => bool_to_f64(l == r),
        T_NEQ => bool_to_f64(l != r),
        T_GTR => bool_to_f64(l > r),
        T_LSS => bool_to_f64(l < r),
        T_GTE => bool_to_f64(l >= r),
        T_LTE => bool_to_f64(l <= r),
        _ => f64::NAN,
    }
}

/// The value of `l op r` and whether a comparison keeps the element.
fn element_op(op: TokenId, l: f64, r: f64) -> (f64, bool) {
    match op {
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => (scalar_op(op, l, r), true),
    }
}

/// What an operator makes of two values of which at least one may be a histogram.
enum Outcome {
    /// A float, and whether a comparison keeps the element.
    Float(f64, bool),
    /// A histogram, and whether a comparison keeps the element.
    Histogram(Arc<FloatHistogram>, bool),
    /// No element, with what to tell the user.
    Dropped(Warning),
}

/// The operator's name as written in a query.
fn op_name(op: TokenId) -> &'static str {
    match op {
        T_ADD => "+",
        T_SUB => "-",
        T_MUL => "*",
        T_DIV => "/",
        T_POW => "^",
        T_MOD => "%",
        T_ATAN2 => "atan2",
        T_EQLC => "==",
        T_NEQ => "!=",
        T_GTR => ">",
        T_LSS => "<",
        T_GTE => ">=",
        T_LTE => "<=",
        _ => "?",
    }
}

fn incompatible(op: TokenId, l: &str, r: &str) -> Outcome {
    Outcome::Dropped(Warning::info(format!(
        "incompatible sample types encountered for binary operator {:?}: {l} {} {r}",
        op_name(op),
        op_name(op)
    )))
}

/// `l op r` where either side may be a histogram, as Prometheus's
/// `vectorElemBinop`: histograms can be added and subtracted, scaled by a
/// float, and compared for (in)equality; anything else drops the element.
/// The info that comes with a result that stands (reconciled custom bounds)
/// goes into `info`.
fn value_op(op: TokenId, l: Value<'_>, r: Value<'_>, metric: &str, info: &mut Option<Warning>) -> Outcome {
    match (l, r) {
        (Value::Float(l), Value::Float(r)) => {
            let (v, keep) = element_op(op, l, r);
            Outcome::Float(v, keep)
        }
        (Value::Float(f), Value::Histogram(h)) => match op {
            T_MUL => Outcome::Histogram(scaled(h, |h| h.mul(f)), true),
            _ => incompatible(op, "float", "histogram"),
        },
        (Value::Histogram(h), Value::Float(f)) => match op {
            T_MUL => Outcome::Histogram(scaled(h, |h| h.mul(f)), true),
            T_DIV => Outcome::Histogram(scaled(h, |h| h.div(f)), true),
            _ => incompatible(op, "histogram", "float"),
        },
        (Value::Histogram(a), Value::Histogram(b)) => match op {
            T_ADD | T_SUB => {
                let mut result = (**a).clone();
                let combined = if op == T_ADD { result.add(b) } else { result.sub(b) };
                match combined {
                    Ok(combined) => {
                        result.compact();
                        if combined.reconciled_custom_buckets {
                            let operation = if op == T_ADD { "addition" } else { "subtraction" };
                            *info = Some(reconciled_info(operation));
                        }
                        Outcome::Histogram(Arc::new(result), true)
                    }
                    Err(HistogramError::MixedExponentialCustom) => Outcome::Dropped(mixed_schemas_warning(metric)),
                }
            }
            T_EQLC | T_NEQ => {
                let (mut x, mut y) = ((**a).clone(), (**b).clone());
                x.compact();
                y.compact();
                let equal = x.equals(&y);
                Outcome::Histogram(Arc::clone(a), if op == T_EQLC { equal } else { !equal })
            }
            _ => incompatible(op, "histogram", "histogram"),
        },
    }
}

/// A scaled copy of a histogram, compacted.
fn scaled(h: &Arc<FloatHistogram>, f: impl FnOnce(&mut FloatHistogram)) -> Arc<FloatHistogram> {
    let mut h = (**h).clone();
    f(&mut h);
    h.compact();
    Arc::new(h)
}

/// Applies `op` between a vector's histogram points and a scalar; returns what to tell the user.
fn histogram_scalar(
    op: TokenId,
    s: &mut StepSeries,
    histograms: Vec<HistogramSample>,
    scalar: &[f64],
    scalar_is_lhs: bool,
    return_bool: bool,
    grid: Grid,
) -> Vec<Warning> {
    let metric = s.labels.get(METRIC_NAME).unwrap_or("").to_owned();
    let mut warnings = Vec::new();
    for p in histograms {
        let sv = Value::Float(scalar[grid.index(p.t)]);
        let hv = Value::Histogram(&p.h);
        let (l, r) = if scalar_is_lhs { (sv, hv) } else { (hv, sv) };
        let mut info = None;
        match value_op(op, l, r, &metric, &mut info) {
            Outcome::Histogram(h, keep) if !return_bool => {
                if keep {
                    s.histograms.push(HistogramSample { t: p.t, h });
                }
            }
            Outcome::Histogram(_, keep) | Outcome::Float(_, keep) => {
                s.points.push(Sample { t: p.t, v: bool_to_f64(keep) });
            }
            Outcome::Dropped(warning) => warnings.push(warning),
        }
        warnings.extend(info);
    }
    if return_bool {
        s.points.sort_by_key(|p| p.t);
    }
    warnings
}

fn vector_scalar(
    ev: &mut Evaluator<'_>,
    op: TokenId,
    series: Vec<StepSeries>,
    scalar: &[f64],
    scalar_is_lhs: bool,
    return_bool: bool,
    grid: Grid,
) -> Vec<StepSeries> {
    let drop_name = is_arithmetic(op) || return_bool;
    let mut out = Vec::with_capacity(series.len());
    for mut s in series {
        let points = std::mem::take(&mut s.points);
        let histograms = std::mem::take(&mut s.histograms);
        s.points = points
            .into_iter()
            .filter_map(|p| {
                let sv = scalar[grid.index(p.t)];
                let (l, r) = if scalar_is_lhs { (sv, p.v) } else { (p.v, sv) };
                let (mut v, keep) = element_op(op, l, r);
                // A comparison keeps the vector's value, whichever side it is on.
                if is_comparison(op) {
                    v = p.v;
                }
                if return_bool {
                    return Some(Sample { t: p.t, v: bool_to_f64(keep) });
                }
                keep.then_some(Sample { t: p.t, v })
            })
            .collect();
        if !histograms.is_empty() {
            for warning in histogram_scalar(op, &mut s, histograms, scalar, scalar_is_lhs, return_bool, grid) {
                ev.warn(warning);
            }
        }
        if !s.is_empty() {
            s.drop_name |= drop_name;
            out.push(s);
        }
    }
    out
}

/// How two vectors are matched, from `on`/`ignoring`, `group_left`/`group_right`
/// and `fill`/`fill_left`/`fill_right`.
#[derive(Debug)]
pub(crate) struct Matching {
    on: bool,
    names: Vec<String>,
    card: Card,
    include: Vec<String>,
    /// The value a missing "many"-side element takes: `fill_left`. Under
    /// `group_right` that is the right operand, as Prometheus fills the
    /// sides after swapping them.
    fill_many: Option<f64>,
    /// The value a missing "one"-side element takes: `fill_right`.
    fill_one: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

impl Matching {
    fn new(expr: &BinaryExpr) -> Matching {
        let list_of = |list: &NameList| list.labels.clone();
        let (on, names) = match expr.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(list)) => (true, list_of(list)),
            Some(LabelModifier::Exclude(list)) => (false, list_of(list)),
            None => (false, Vec::new()),
        };
        let (card, include) = match expr.modifier.as_ref().map(|m| &m.card) {
            Some(VectorMatchCardinality::ManyToOne(list)) => (Card::ManyToOne, list_of(list)),
            Some(VectorMatchCardinality::OneToMany(list)) => (Card::OneToMany, list_of(list)),
            Some(VectorMatchCardinality::ManyToMany) => (Card::ManyToMany, Vec::new()),
            _ if matches!(expr.op.id(), T_LAND | T_LOR | T_LUNLESS) => (Card::ManyToMany, Vec::new()),
            _ => (Card::OneToOne, Vec::new()),
        };
        let fill = expr.modifier.as_ref().map(|m| &m.fill_values);
        let (fill_many, fill_one) = fill.map_or((None, None), |f| (f.lhs, f.rhs));
        Matching { on, names, card, include, fill_many, fill_one }
    }

    /// The labels two series must share to match: the `on` labels, or all
    /// but the `ignoring` labels and the metric name.
    fn signature(&self, labels: &Labels) -> Labels {
        let keep = |l: &LabelRef<'_>| {
            let listed = self.names.iter().any(|n| n == l.name);
            if self.on { listed } else { !listed && l.name != METRIC_NAME }
        };
        let refs: Vec<LabelRef<'_>> = labels.iter().filter(keep).collect();
        Labels::from_sorted(&refs)
    }
}

fn set_op(
    op: TokenId,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    m: &Matching,
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    let lsigs: Vec<Labels> = lhs.iter().map(|s| m.signature(&s.labels)).collect();
    let rsigs: Vec<Labels> = rhs.iter().map(|s| m.signature(&s.labels)).collect();
    let lsteps = by_step_all(&lhs, grid);
    let rsteps = by_step_all(&rhs, grid);
    let mut out = Collector::default();
    for (i, (lstep, rstep)) in lsteps.iter().zip(&rsteps).enumerate() {
        let t = grid.ts(i);
        match op {
            T_LAND => {
                if rstep.is_empty() {
                    continue;
                }
                let right: HashSet<&Labels> = rstep.iter().map(|e| &rsigs[e.series]).collect();
                for e in lstep {
                    if right.contains(&lsigs[e.series]) {
                        out.push_value(&lhs[e.series].labels, lhs[e.series].drop_name, t, e.value)?;
                    }
                }
            }
            T_LOR => {
                let left: HashSet<&Labels> = lstep.iter().map(|e| &lsigs[e.series]).collect();
                for e in lstep {
                    out.push_value(&lhs[e.series].labels, lhs[e.series].drop_name, t, e.value)?;
                }
                for e in rstep {
                    if !left.contains(&rsigs[e.series]) {
                        out.push_value(&rhs[e.series].labels, rhs[e.series].drop_name, t, e.value)?;
                    }
                }
            }
            _ => {
                let right: HashSet<&Labels> = rstep.iter().map(|e| &rsigs[e.series]).collect();
                for e in lstep {
                    if !right.contains(&lsigs[e.series]) {
                        out.push_value(&lhs[e.series].labels, lhs[e.series].drop_name, t, e.value)?;
                    }
                }
            }
        }
    }
    out.finish()
}

fn vector_vector(
    ev: &mut Evaluator<'_>,
    op: TokenId,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    m: &Matching,
    return_bool: bool,
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    // For one-to-many, swap sides so the right is always the "one" side.
    let swapped = m.card == Card::OneToMany;
    let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
    let many_sigs: Vec<Labels> = many.iter().map(|s| m.signature(&s.labels)).collect();
    let one_sigs: Vec<Labels> = one.iter().map(|s| m.signature(&s.labels)).collect();
    let many_steps = by_step_all(&many, grid);
    let one_steps = by_step_all(&one, grid);
    let mut result_labels: HashMap<(usize, usize), Labels> = HashMap::new();
    let mut out = Collector::default();
    let mut right: HashMap<&Labels, (usize, Value<'_>)> = HashMap::new();
    let mut matched: HashMap<&Labels, HashSet<Labels>> = HashMap::new();
    for (i, (many_step, one_step)) in many_steps.iter().zip(&one_steps).enumerate() {
        let fills_one = m.fill_one.is_some() && !many_step.is_empty();
        let fills_many = m.fill_many.is_some() && !one_step.is_empty();
        if (many_step.is_empty() || one_step.is_empty()) && !fills_one && !fills_many {
            continue;
        }
        ev.check_deadline()?;
        let t = grid.ts(i);
        right.clear();
        matched.clear();
        for e in one_step {
            let sig = &one_sigs[e.series];
            if let Some(&(dup, _)) = right.get(sig) {
                let side = if swapped { "left" } else { "right" };
                // Name the two series in label order, so the message is stable.
                let (first, second) =
                    if one[dup].labels <= one[e.series].labels { (dup, e.series) } else { (e.series, dup) };
                return Err(Error::execution(format!(
                    "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    m.signature(&one[e.series].labels),
                    one[first].labels,
                    one[second].labels,
                )));
            }
            right.insert(sig, (e.series, e.value));
        }
        for e in many_step {
            let sig = &many_sigs[e.series];
            // A missing "one" side is filled as a series without labels, so
            // `group_x` labels cannot be copied from it.
            let (one_idx, one_v) = match (right.get(sig), m.fill_one) {
                (Some(&(one_idx, one_v)), _) => (one_idx, one_v),
                (None, Some(fill)) => (usize::MAX, Value::Float(fill)),
                (None, None) => continue,
            };
            let (l, r) = if swapped { (one_v, e.value) } else { (e.value, one_v) };
            let metric = many[e.series].labels.get(METRIC_NAME).unwrap_or("");
            let mut info = None;
            let outcome = value_op(op, l, r, metric, &mut info);
            if let Some(info) = info {
                ev.warn(info);
            }
            let labels = result_labels
                .entry((e.series, one_idx))
                .or_insert_with(|| {
                    let one_labels = one.get(one_idx).map_or_else(Labels::empty, |s| s.labels.clone());
                    result_metric(&many[e.series].labels, &one_labels, op, m)
                })
                .clone();
            match m.card {
                Card::OneToOne => {
                    if matched.insert(sig, HashSet::new()).is_some() {
                        return Err(Error::execution(
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                        ));
                    }
                }
                _ => {
                    if !matched.entry(sig).or_default().insert(labels.clone()) {
                        return Err(Error::execution(
                            "multiple matches for labels: grouping labels must ensure unique matches",
                        ));
                    }
                }
            }
            // Matching errors are found even where a comparison drops the element.
            let drop_name = return_bool || many[e.series].drop_name;
            match outcome {
                Outcome::Float(_, keep) | Outcome::Histogram(_, keep) if return_bool => {
                    out.push(&labels, drop_name, t, bool_to_f64(keep))?;
                }
                Outcome::Float(_, false) | Outcome::Histogram(_, false) => {}
                // The name survives a filtering comparison unless the input was already marked.
                Outcome::Float(v, true) => out.push(&labels, drop_name, t, v)?,
                Outcome::Histogram(h, true) => out.push_histogram(&labels, drop_name, t, h)?,
                Outcome::Dropped(warning) => ev.warn(warning),
            }
        }
        if let Some(fill) = m.fill_many {
            for e in one_step {
                let sig = &one_sigs[e.series];
                if matched.contains_key(sig) {
                    continue;
                }
                // A missing "many" side yields one element for the match
                // group, labelled with the labels the sides match on.
                let fill = Value::Float(fill);
                let (l, r) = if swapped { (e.value, fill) } else { (fill, e.value) };
                let metric = one[e.series].labels.get(METRIC_NAME).unwrap_or("");
                let mut info = None;
                let outcome = value_op(op, l, r, metric, &mut info);
                if let Some(info) = info {
                    ev.warn(info);
                }
                match outcome {
                    Outcome::Float(_, keep) | Outcome::Histogram(_, keep) if return_bool => {
                        out.push(sig, false, t, bool_to_f64(keep))?;
                    }
                    Outcome::Float(_, false) | Outcome::Histogram(_, false) => {}
                    Outcome::Float(v, true) => out.push(sig, false, t, v)?,
                    Outcome::Histogram(h, true) => out.push_histogram(sig, false, t, h)?,
                    Outcome::Dropped(warning) => ev.warn(warning),
                }
            }
        }
    }
    out.finish()
}

/// The labels of a result element: the "many" side's labels, without the
/// name for arithmetic, reduced to the matching labels for one-to-one, with
/// `group_x` labels copied from the "one" side.
fn result_metric(many: &Labels, one: &Labels, op: TokenId, m: &Matching) -> Labels {
    let mut builder: LabelsBuilder = many.to_builder();
    if is_arithmetic(op) {
        metric_name::remove_name(&mut builder);
    }
    if m.card == Card::OneToOne {
        if m.on {
            for l in many.iter() {
                if !m.names.iter().any(|n| n == l.name) {
                    builder.remove(l.name);
                }
            }
        } else {
            for name in &m.names {
                builder.remove(name);
            }
        }
    }
    for name in &m.include {
        match one.get(name) {
            Some(v) => builder.set(name, v),
            None => builder.remove(name),
        };
    }
    builder.build()
}
