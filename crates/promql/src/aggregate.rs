//! Aggregation operators: sum, avg, count, min, max, group, stddev, stdvar,
//! quantile, topk, bottomk, limitk, limit_ratio and count_values, by or without labels.

use std::collections::HashMap;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMIT_RATIO, T_LIMITK, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK, TokenId,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};
use series::{LabelRef, Labels, METRIC_NAME};

use std::sync::Arc;

use series::{Combined, FloatHistogram, HistogramError, KahanSum, Sample};

use crate::eval::{AnyElem, Collector, Evaluator, Grid, StepSeries, Val, Value, by_step_all};
use crate::functions::{
    HistogramMean, go_format_float, kahan_inc, mixed_schemas_warning, mixed_warning, quantile, reconciled_info,
    start_sum,
};
use crate::{Error, Result, Warning};

/// Evaluates an aggregation at every step.
pub(crate) fn eval(ev: &mut Evaluator<'_>, agg: &AggregateExpr, grid: Grid) -> Result<Val> {
    let op = agg.op.id();
    let (without, names) = match &agg.modifier {
        Some(LabelModifier::Include(list)) => (false, list.labels.clone()),
        Some(LabelModifier::Exclude(list)) => (true, list.labels.clone()),
        None => (false, Vec::new()),
    };
    let grouping = Grouping { without, names };
    if op == T_COUNT_VALUES {
        let label = match agg.param.as_deref().map(|p| ev.eval(p, grid)).transpose()? {
            Some(Val::String(label)) => label,
            _ => return Err(Error::bad_data("count_values needs a string parameter")),
        };
        if label.is_empty() {
            return Err(Error::bad_data(format!("invalid label name {label:?}")));
        }
        let input = ev.eval_vector(&agg.expr, grid)?;
        return Ok(Val::Vector(count_values(&input, &grouping, &label, grid)?));
    }
    let param = match &agg.param {
        Some(p) if matches!(op, T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO | T_QUANTILE) => {
            Some(ev.eval_scalar(p, grid)?)
        }
        _ => None,
    };
    let mut input = ev.eval_vector(&agg.expr, grid)?;
    let has_histograms = input.iter().any(|s| !s.histograms.is_empty());
    if has_histograms && matches!(op, T_TOPK | T_BOTTOMK | T_MIN | T_MAX | T_STDDEV | T_STDVAR | T_QUANTILE) {
        ev.warn(Warning::info(format!("ignored histogram in {} aggregation", agg.op)));
    }
    match op {
        T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO => {
            let param = param.ok_or_else(|| Error::bad_data("aggregation needs a parameter"))?;
            let steps = by_step_all(&input, grid);
            Ok(Val::Vector(select_k(ev, op, &input, &steps, &grouping, &param, grid)?))
        }
        T_SUM | T_AVG if has_histograms => Ok(Val::Vector(aggregate_histograms(ev, op, &input, &grouping, grid)?)),
        T_COUNT | T_GROUP if has_histograms => {
            // Only presence matters: a histogram counts as one element like a float.
            for s in &mut input {
                let times = s.histograms.drain(..).map(|h| Sample { t: h.t, v: 0.0 });
                s.points.extend(times);
                s.points.sort_by_key(|p| p.t);
            }
            Ok(Val::Vector(aggregate(ev, op, &input, &grouping, param.as_deref(), grid)?))
        }
        _ => Ok(Val::Vector(aggregate(ev, op, &input, &grouping, param.as_deref(), grid)?)),
    }
}

/// One group's running sum (or mean) of histograms at one step.
struct HistogramCell {
    sum: Accumulator,
    failed: bool,
}

/// A compensated sum, or a mean.
enum Accumulator {
    Sum(KahanSum),
    /// Boxed: a mean holds a second running sum once the first overflows.
    Mean(Box<HistogramMean>),
}

impl Accumulator {
    fn add(&mut self, h: &FloatHistogram) -> Result<Combined, HistogramError> {
        match self {
            Accumulator::Sum(sum) => sum.add(h),
            Accumulator::Mean(mean) => mean.add(h),
        }
    }

    fn result(self) -> FloatHistogram {
        match self {
            Accumulator::Sum(sum) => sum.total(),
            Accumulator::Mean(mean) => (*mean).mean(),
        }
    }
}

/// `sum` and `avg` over input with histograms: floats and histograms are
/// aggregated apart, and a group that has both at a step is dropped there
/// with a warning, as Prometheus does.
fn aggregate_histograms(
    ev: &mut Evaluator<'_>,
    op: TokenId,
    input: &[StepSeries],
    grouping: &Grouping,
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    let mut floats = aggregate(ev, op, input, grouping, None, grid)?;
    let (group_of, group_labels) = grouping.assign(input);
    let mut cells: HashMap<(usize, i64), HistogramCell> = HashMap::new();
    let mut order: Vec<(usize, i64)> = Vec::new();
    for (series, &g) in input.iter().zip(&group_of) {
        let metric = series.labels.get(METRIC_NAME).unwrap_or("");
        for p in &series.histograms {
            match cells.entry((g, p.t)) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    order.push((g, p.t));
                    let sum = if op == T_AVG {
                        Accumulator::Mean(Box::new(HistogramMean::new(&p.h)))
                    } else {
                        Accumulator::Sum(start_sum(&p.h))
                    };
                    e.insert(HistogramCell { sum, failed: false });
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    let cell = e.get_mut();
                    if cell.failed {
                        continue;
                    }
                    match cell.sum.add(&p.h) {
                        Ok(combined) if combined.reconciled_custom_buckets => ev.warn(reconciled_info("aggregation")),
                        Ok(_) => {}
                        Err(HistogramError::MixedExponentialCustom) => {
                            ev.warn(mixed_schemas_warning(metric));
                            cell.failed = true;
                        }
                    }
                }
            }
        }
    }
    let float_index: HashMap<Labels, usize> = floats.iter().enumerate().map(|(i, s)| (s.labels.clone(), i)).collect();
    let mut drop_name = vec![false; group_labels.len()];
    for (series, &g) in input.iter().zip(&group_of) {
        drop_name[g] |= series.drop_name;
    }
    let mut out = Collector::default();
    for key in order {
        let Some(cell) = cells.remove(&key) else {
            continue;
        };
        let (g, t) = key;
        if let Some(&fi) = float_index.get(&group_labels[g])
            && let Ok(pos) = floats[fi].points.binary_search_by_key(&t, |p| p.t)
        {
            floats[fi].points.remove(pos);
            ev.warn(mixed_warning(""));
            continue;
        }
        if cell.failed {
            continue;
        }
        let mut result = cell.sum.result();
        result.compact();
        out.push_histogram(&group_labels[g], drop_name[g], t, Arc::new(result))?;
    }
    let mut result = out.finish()?;
    for s in &mut result {
        s.histograms.sort_by_key(|h| h.t);
        if let Some(&fi) = float_index.get(&s.labels) {
            s.points = std::mem::take(&mut floats[fi].points);
        }
    }
    let histogram_groups: std::collections::HashSet<Labels> = result.iter().map(|s| s.labels.clone()).collect();
    result.extend(floats.into_iter().filter(|s| !s.points.is_empty() && !histogram_groups.contains(&s.labels)));
    Ok(result)
}

/// `by (…)` or `without (…)`.
struct Grouping {
    without: bool,
    names: Vec<String>,
}

impl Grouping {
    /// The labels of the group a series belongs to: only the `by` labels, or
    /// all but the `without` labels and the metric name.
    fn labels(&self, labels: &Labels) -> Labels {
        let refs: Vec<LabelRef<'_>> = labels
            .iter()
            .filter(|l| {
                let listed = self.names.iter().any(|n| n == l.name);
                if self.without { !listed && l.name != METRIC_NAME } else { listed }
            })
            .collect();
        Labels::from_sorted(&refs)
    }

    /// Each series' group index, and the groups' labels in order of first appearance.
    fn assign(&self, input: &[StepSeries]) -> (Vec<usize>, Vec<Labels>) {
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut groups = Vec::new();
        let of_series = input
            .iter()
            .map(|s| {
                let labels = self.labels(&s.labels);
                *index.entry(labels.clone()).or_insert_with(|| {
                    groups.push(labels);
                    groups.len() - 1
                })
            })
            .collect();
        (of_series, groups)
    }
}

/// One group's running aggregate at one step (the quantile's values aside).
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    seen: bool,
    incremental_mean: bool,
    value: f64,
    mean: f64,
    kahan: f64,
    count: f64,
}

impl Cell {
    /// The state after the group's first value at a step.
    fn first(op: TokenId, f: f64) -> Cell {
        let mut c = Cell { seen: true, incremental_mean: false, value: f, mean: f, kahan: 0.0, count: 1.0 };
        match op {
            T_STDVAR | T_STDDEV => c.value = if f.is_nan() || f.is_infinite() { f64::NAN } else { 0.0 },
            T_GROUP => c.value = 1.0,
            _ => {}
        }
        c
    }

    /// Adds a later value of the step, in input order, as Prometheus does.
    fn add(&mut self, op: TokenId, f: f64) {
        match op {
            T_SUM => (self.value, self.kahan) = kahan_inc(f, self.value, self.kahan),
            T_AVG => {
                self.count += 1.0;
                if !self.incremental_mean {
                    let (sum, c) = kahan_inc(f, self.value, self.kahan);
                    if !sum.is_infinite() {
                        (self.value, self.kahan) = (sum, c);
                        return;
                    }
                    self.incremental_mean = true;
                    self.mean = self.value / (self.count - 1.0);
                    self.kahan /= self.count - 1.0;
                }
                if self.mean.is_infinite() {
                    if f.is_infinite() && (self.mean > 0.0) == (f > 0.0) {
                        return;
                    }
                    if !f.is_infinite() && !f.is_nan() {
                        return;
                    }
                }
                let current = self.mean + self.kahan;
                (self.mean, self.kahan) = kahan_inc(f / self.count - current / self.count, self.mean, self.kahan);
            }
            T_MAX if self.value < f || self.value.is_nan() => self.value = f,
            T_MIN if self.value > f || self.value.is_nan() => self.value = f,
            T_COUNT | T_QUANTILE => self.count += 1.0,
            T_STDVAR | T_STDDEV => {
                self.count += 1.0;
                let delta = f - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (f - self.mean);
            }
            _ => {}
        }
    }

    /// The aggregate's value (for all but the quantile).
    fn result(&self, op: TokenId) -> f64 {
        match op {
            T_AVG if self.incremental_mean => self.mean + self.kahan,
            T_AVG => (self.value + self.kahan) / self.count,
            T_COUNT => self.count,
            T_STDVAR => self.value / self.count,
            T_STDDEV => (self.value / self.count).sqrt(),
            T_SUM => self.value + self.kahan,
            _ => self.value,
        }
    }
}

/// The most group × step cells the series-by-series aggregation holds at
/// once, unless the input has more points than that.
const MAX_CELLS: usize = 1 << 20;

fn aggregate(
    ev: &mut Evaluator<'_>,
    op: TokenId,
    input: &[StepSeries],
    grouping: &Grouping,
    param: Option<&[f64]>,
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    let (group_of, group_labels) = grouping.assign(input);
    let mut drop_name = vec![false; group_labels.len()];
    for (series, &g) in input.iter().zip(&group_of) {
        drop_name[g] |= series.drop_name;
    }
    let mut out: Vec<StepSeries> = group_labels
        .into_iter()
        .zip(drop_name)
        .map(|(labels, drop_name)| StepSeries::floats(labels, drop_name, Vec::new()))
        .collect();
    let n = grid.len();
    let points: usize = input.iter().map(|s| s.points.len()).sum();
    if op != T_QUANTILE && out.len().saturating_mul(n) <= MAX_CELLS.max(points) {
        // Series by series into a group × step table: each cell still sees
        // its values in input order, so the result is the same as step by step.
        let mut cells = vec![Cell::default(); out.len() * n];
        for (series, &g) in input.iter().zip(&group_of) {
            let row = &mut cells[g * n..(g + 1) * n];
            for p in &series.points {
                let cell = &mut row[grid.index(p.t)];
                if cell.seen {
                    cell.add(op, p.v);
                } else {
                    *cell = Cell::first(op, p.v);
                }
            }
        }
        for (series, row) in out.iter_mut().zip(cells.chunks_exact(n.max(1))) {
            series.points = row
                .iter()
                .enumerate()
                .filter(|(_, c)| c.seen)
                .map(|(i, c)| series::Sample { t: grid.ts(i), v: c.result(op) })
                .collect();
        }
        out.retain(|s| !s.points.is_empty());
        return Ok(out);
    }
    let steps = crate::eval::by_step(input, grid);
    let mut groups: Vec<Cell> = vec![Cell::default(); out.len()];
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); if op == T_QUANTILE { out.len() } else { 0 }];
    for (i, step) in steps.iter().enumerate() {
        let q = param.map_or(f64::NAN, |p| p[i]);
        if op == T_QUANTILE && !(0.0..=1.0).contains(&q) {
            ev.warn(Warning::warn(format!("quantile value should be between 0 and 1, got {}", go_format_float(q))));
        }
        if step.is_empty() {
            continue;
        }
        for g in groups.iter_mut() {
            g.seen = false;
        }
        for e in step {
            let idx = group_of[e.series];
            let g = &mut groups[idx];
            if g.seen {
                g.add(op, e.v);
            } else {
                *g = Cell::first(op, e.v);
                if op == T_QUANTILE {
                    values[idx].clear();
                }
            }
            if op == T_QUANTILE {
                values[idx].push(e.v);
            }
        }
        let t = grid.ts(i);
        for (idx, g) in groups.iter().enumerate() {
            if !g.seen {
                continue;
            }
            let v = if op == T_QUANTILE { quantile(q, &mut values[idx]) } else { g.result(op) };
            out[idx].points.push(series::Sample { t, v });
        }
    }
    out.retain(|s| !s.points.is_empty());
    Ok(out)
}

/// Go's ordering for topk: NaN counts as the smallest value.
fn greater(a: f64, b: f64) -> bool {
    (a > b) || (b.is_nan() && !a.is_nan())
}

fn select_k(
    ev: &mut Evaluator<'_>,
    op: TokenId,
    input: &[StepSeries],
    steps: &[Vec<AnyElem<'_>>],
    grouping: &Grouping,
    param: &[f64],
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    let (group_of, group_labels) = grouping.assign(input);
    let mut out = Collector::default();
    let mut members: Vec<Vec<(usize, Value<'_>)>> = vec![Vec::new(); group_labels.len()];
    for (i, step) in steps.iter().enumerate() {
        // The parameter is checked even where there is nothing to select from.
        let p = param[i];
        let (k, ratio) = if op == T_LIMIT_RATIO {
            if p.is_nan() {
                return Err(Error::bad_data("Ratio value is NaN"));
            }
            let r = p.clamp(-1.0, 1.0);
            if r != p {
                ev.warn(Warning::warn(format!(
                    "ratio value should be between -1 and 1, got {}, capping to {}",
                    go_format_float(p),
                    go_format_float(r)
                )));
            }
            (usize::MAX, r)
        } else {
            if p.is_nan() {
                return Err(Error::bad_data("Parameter value is NaN"));
            }
            if p <= i64::MIN as f64 || p >= i64::MAX as f64 {
                return Err(Error::bad_data(format!("Scalar value {} overflows int64", go_format_float(p))));
            }
            let k = p as i64;
            if k < 1 {
                continue;
            }
            (usize::try_from(k).unwrap_or(usize::MAX), 0.0)
        };
        if step.is_empty() {
            continue;
        }
        for m in members.iter_mut() {
            m.clear();
        }
        for e in step {
            // topk and bottomk rank floats only; limitk and limit_ratio keep histograms too.
            if matches!(e.value, Value::Histogram(_)) && matches!(op, T_TOPK | T_BOTTOMK) {
                continue;
            }
            members[group_of[e.series]].push((e.series, e.value));
        }
        let t = grid.ts(i);
        let float = |v: &Value<'_>| match v {
            Value::Float(f) => *f,
            Value::Histogram(_) => f64::NAN,
        };
        for group in members.iter_mut() {
            if group.is_empty() {
                continue;
            }
            match op {
                T_TOPK => group.sort_by(|a, b| {
                    let (a, b) = (float(&a.1), float(&b.1));
                    order(greater(a, b), greater(b, a))
                }),
                T_BOTTOMK => group.sort_by(|a, b| {
                    let (a, b) = (float(&a.1), float(&b.1));
                    order(lesser(a, b), lesser(b, a))
                }),
                T_LIMIT_RATIO => group.retain(|e| ratio_sampled(ratio, &input[e.0].labels)),
                _ => {}
            }
            for &(idx, value) in group.iter().take(k) {
                let series = &input[idx];
                out.push_value(&series.labels, series.drop_name, t, value)?;
            }
        }
    }
    out.finish()
}

/// Go's ordering for bottomk: NaN counts as the largest value.
fn lesser(a: f64, b: f64) -> bool {
    (a < b) || (b.is_nan() && !a.is_nan())
}

fn order(a_before_b: bool, b_before_a: bool) -> std::cmp::Ordering {
    match (a_before_b, b_before_a) {
        (true, _) => std::cmp::Ordering::Less,
        (_, true) => std::cmp::Ordering::Greater,
        _ => std::cmp::Ordering::Equal,
    }
}

/// Whether `limit_ratio` keeps a series: Prometheus places each series at
/// `hash(labels) / 2^64` and keeps those below the ratio (or, for a negative
/// ratio, those at or above `1 + ratio`), so the choice is stable over time.
fn ratio_sampled(ratio: f64, labels: &Labels) -> bool {
    let mut bytes = Vec::with_capacity(labels.heap_size() + 2 * labels.len());
    for l in labels.iter() {
        bytes.extend_from_slice(l.name.as_bytes());
        bytes.push(0xff);
        bytes.extend_from_slice(l.value.as_bytes());
        bytes.push(0xff);
    }
    let offset = xxhash_rust::xxh64::xxh64(&bytes, 0) as f64 / u64::MAX as f64;
    (ratio >= 0.0 && offset < ratio) || (ratio < 0.0 && offset >= 1.0 + ratio)
}

fn count_values(input: &[StepSeries], grouping: &Grouping, label: &str, grid: Grid) -> Result<Vec<StepSeries>> {
    let mut names = grouping.names.clone();
    if !grouping.without {
        names.push(label.to_owned());
    }
    let grouping = Grouping { without: grouping.without, names };
    let steps = by_step_all(input, grid);
    let mut out = Collector::default();
    for (i, step) in steps.iter().enumerate() {
        let mut counts: Vec<(Labels, f64)> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        for e in step {
            // A histogram's value is its text form, as Prometheus writes it.
            let value = match e.value {
                Value::Float(v) => go_format_float(v),
                Value::Histogram(h) => h.to_string(),
            };
            let mut builder = input[e.series].labels.to_builder();
            builder.set(label, &value);
            let group = grouping.labels(&builder.build());
            match index.get(&group) {
                Some(&idx) => counts[idx].1 += 1.0,
                None => {
                    index.insert(group.clone(), counts.len());
                    counts.push((group, 1.0));
                }
            }
        }
        for (labels, count) in counts {
            out.push(&labels, false, grid.ts(i), count)?;
        }
    }
    out.finish()
}
