//! The evaluator: walks the syntax tree over a grid of steps.
//!
//! Every node is evaluated for all steps at once, as Prometheus's range
//! evaluation does: an instant vector becomes a list of series with one
//! point per step where the series has a value, a scalar becomes one value
//! per step. Selectors read the store once per node for the whole grid (see
//! `selector`), and operators, aggregations and functions then work step by
//! step on the decoded points. Decoding and range functions work series by
//! series, so they spread batches of series over the machine's cores ([`par_map`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use std::sync::Arc;

use promql_parser::parser::{AtModifier, Expr, Offset};
use series::{FloatHistogram, HistogramSample, Labels, Querier, Sample};

use crate::engine::EngineOptions;
use crate::{Error, Result, Warning, aggregate, binary, functions, selector};

/// The evaluation times of a node: `start`, `start + step`, … up to `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grid {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

impl Grid {
    /// The number of steps.
    pub fn len(&self) -> usize {
        usize::try_from((self.end - self.start) / self.step + 1).unwrap_or(0)
    }

    /// The time of step `i`.
    pub fn ts(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }

    /// The step at time `t`, which must be on the grid.
    pub fn index(&self, t: i64) -> usize {
        ((t - self.start) / self.step) as usize
    }

    /// The step times.
    pub fn times(&self) -> impl Iterator<Item = i64> + use<> {
        let grid = *self;
        (0..grid.len()).map(move |i| grid.ts(i))
    }
}

/// One series of an instant vector evaluated over a grid.
#[derive(Debug, Clone)]
pub(crate) struct StepSeries {
    pub labels: Labels,
    /// Prometheus's delayed `__name__` removal: the name is dropped when the
    /// query's result is returned, so `label_replace` and friends can still see it.
    pub drop_name: bool,
    /// Points at grid times (or raw sample times, in a range vector), in time order.
    pub points: Vec<Sample>,
    /// Native-histogram points, at times where `points` has none, in time order.
    pub histograms: Vec<HistogramSample>,
}

impl StepSeries {
    /// A series of float points only.
    pub fn floats(labels: Labels, drop_name: bool, points: Vec<Sample>) -> StepSeries {
        StepSeries { labels, drop_name, points, histograms: Vec::new() }
    }

    /// Whether the series has no point at all.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.histograms.is_empty()
    }

    /// The number of points, floats and histograms.
    pub fn len(&self) -> usize {
        self.points.len() + self.histograms.len()
    }
}

/// One sample's value, borrowed: a float or a native histogram.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Float(f64),
    Histogram(&'a Arc<FloatHistogram>),
}

/// One step's element of an instant vector, of either kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnyElem<'a> {
    /// Index of the series in its input.
    pub series: usize,
    pub value: Value<'a>,
}

/// Transposes the histogram points of series into per-step lists of (series, histogram).
pub(crate) fn hist_by_step(series: &[StepSeries], grid: Grid) -> Vec<Vec<(usize, &Arc<FloatHistogram>)>> {
    let mut steps: Vec<Vec<(usize, &Arc<FloatHistogram>)>> = vec![Vec::new(); grid.len()];
    for (idx, s) in series.iter().enumerate() {
        for h in &s.histograms {
            steps[grid.index(h.t)].push((idx, &h.h));
        }
    }
    steps
}

/// Transposes series into per-step lists of elements, floats and histograms
/// (a series has at most one of either at a step), in series order.
pub(crate) fn by_step_all(series: &[StepSeries], grid: Grid) -> Vec<Vec<AnyElem<'_>>> {
    let mut steps: Vec<Vec<AnyElem<'_>>> = vec![Vec::new(); grid.len()];
    for (idx, s) in series.iter().enumerate() {
        for p in &s.points {
            steps[grid.index(p.t)].push(AnyElem { series: idx, value: Value::Float(p.v) });
        }
        for h in &s.histograms {
            steps[grid.index(h.t)].push(AnyElem { series: idx, value: Value::Histogram(&h.h) });
        }
    }
    steps
}

/// An evaluated node.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    String(String),
    /// An instant vector over the grid.
    Vector(Vec<StepSeries>),
    /// A range vector at a single evaluation time (instant queries only).
    Matrix(Vec<StepSeries>),
}

/// The state of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub querier: &'a dyn Querier,
    pub options: &'a EngineOptions,
    /// The query's start and end, for `@ start()` and `@ end()`.
    pub query_start: i64,
    pub query_end: i64,
    /// Whether this is a range query (some functions warn that they have no effect there).
    pub is_range: bool,
    /// The range query's step in milliseconds; 0 for instant queries.
    pub query_step: i64,
    started: Instant,
    canceled: &'a AtomicBool,
    pub warnings: Vec<Warning>,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        querier: &'a dyn Querier,
        options: &'a EngineOptions,
        query_start: i64,
        query_end: i64,
        canceled: &'a AtomicBool,
    ) -> Evaluator<'a> {
        Evaluator {
            querier,
            options,
            query_start,
            query_end,
            is_range: false,
            query_step: 0,
            started: Instant::now(),
            canceled,
            warnings: Vec::new(),
        }
    }

    /// Fails if the query was canceled or ran out of time.
    pub fn check_deadline(&self) -> Result<()> {
        if self.canceled.load(Ordering::Relaxed) {
            return Err(Error::Canceled { stage: "expression evaluation" });
        }
        if self.started.elapsed() > self.options.timeout {
            return Err(Error::Timeout { stage: "expression evaluation" });
        }
        Ok(())
    }

    /// Fails if a node holds more samples than allowed.
    pub fn check_samples(&self, n: usize) -> Result<()> {
        if n > self.options.max_samples {
            return Err(Error::TooManySamples { limit: self.options.max_samples });
        }
        Ok(())
    }

    /// Adds a warning once.
    pub fn warn(&mut self, warning: Warning) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The time an `@` modifier pins a selector or subquery to.
    pub fn at_time(&self, at: Option<&AtModifier>) -> Option<i64> {
        at.map(|at| match at {
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
            AtModifier::At(time) => match time.duration_since(std::time::UNIX_EPOCH) {
                Ok(d) => d.as_millis() as i64,
                Err(before) => -(before.duration().as_millis() as i64),
            },
        })
    }

    /// Evaluates `expr` at every step of `grid`.
    pub fn eval(&mut self, expr: &Expr, grid: Grid) -> Result<Val> {
        self.check_deadline()?;
        let val = match expr {
            Expr::NumberLiteral(n) => Val::Scalar(vec![n.val; grid.len()]),
            Expr::StringLiteral(s) => Val::String(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr, grid)?,
            Expr::Unary(u) => negate(self.eval(&u.expr, grid)?),
            Expr::VectorSelector(vs) => Val::Vector(selector::instant(self, vs, grid)?),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                if grid.len() != 1 {
                    return Err(Error::bad_data(
                        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector",
                    ));
                }
                let input = selector::range_input(self, expr, grid)?;
                let ts = grid.start;
                let (start, end) = input.window(ts);
                let series = input
                    .series
                    .into_iter()
                    .filter_map(|s| {
                        let lo = s.samples.partition_point(|p| p.t <= start);
                        let hi = s.samples.partition_point(|p| p.t <= end);
                        let h_lo = s.histograms.partition_point(|p| p.t <= start);
                        let h_hi = s.histograms.partition_point(|p| p.t <= end);
                        (lo < hi || h_lo < h_hi).then(|| StepSeries {
                            labels: s.labels,
                            drop_name: s.drop_name,
                            points: s.samples[lo..hi].to_vec(),
                            histograms: s.histograms[h_lo..h_hi].to_vec(),
                        })
                    })
                    .collect();
                Val::Matrix(series)
            }
            Expr::Call(call) => functions::eval(self, call, grid)?,
            Expr::Aggregate(agg) => aggregate::eval(self, agg, grid)?,
            Expr::Binary(bin) => binary::eval(self, bin, grid)?,
            Expr::Extension(_) => return Err(Error::bad_data("extension expressions are not supported")),
        };
        if let Val::Vector(series) | Val::Matrix(series) = &val {
            self.check_samples(series.iter().map(StepSeries::len).sum())?;
        }
        Ok(val)
    }

    /// Evaluates an expression that must be an instant vector.
    pub fn eval_vector(&mut self, expr: &Expr, grid: Grid) -> Result<Vec<StepSeries>> {
        match self.eval(expr, grid)? {
            Val::Vector(v) => Ok(v),
            other => Err(Error::bad_data(format!("expected instant vector, got {}", type_name(&other)))),
        }
    }

    /// Evaluates an expression that must be a scalar.
    pub fn eval_scalar(&mut self, expr: &Expr, grid: Grid) -> Result<Vec<f64>> {
        match self.eval(expr, grid)? {
            Val::Scalar(v) => Ok(v),
            other => Err(Error::bad_data(format!("expected scalar, got {}", type_name(&other)))),
        }
    }
}

/// The PromQL name of a value's type.
pub(crate) fn type_name(val: &Val) -> &'static str {
    match val {
        Val::Scalar(_) => "scalar",
        Val::String(_) => "string",
        Val::Vector(_) => "instant vector",
        Val::Matrix(_) => "range vector",
    }
}

/// Unary minus: negates every value (a histogram's counts too); on vectors
/// the name goes, as for any operator.
fn negate(val: Val) -> Val {
    match val {
        Val::Scalar(values) => Val::Scalar(values.into_iter().map(|v| -v).collect()),
        Val::Vector(mut series) => {
            for s in &mut series {
                s.drop_name = true;
                for p in &mut s.points {
                    p.v = -p.v;
                }
                for h in &mut s.histograms {
                    Arc::make_mut(&mut h.h).mul(-1.0);
                }
            }
            Val::Vector(series)
        }
        other => other,
    }
}

/// An offset modifier in milliseconds (negative for `offset -5m`).
pub(crate) fn offset_ms(offset: Option<&Offset>) -> i64 {
    match offset {
        None => 0,
        Some(Offset::Pos(d)) => d.as_millis() as i64,
        Some(Offset::Neg(d)) => -(d.as_millis() as i64),
    }
}

/// One step's worth of an instant vector, borrowed from the series it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Elem {
    /// Index of the series in its input.
    pub series: usize,
    pub v: f64,
}

/// Transposes series into per-step lists of (series, value).
pub(crate) fn by_step(series: &[StepSeries], grid: Grid) -> Vec<Vec<Elem>> {
    let mut steps: Vec<Vec<Elem>> = vec![Vec::new(); grid.len()];
    for (idx, s) in series.iter().enumerate() {
        for p in &s.points {
            steps[grid.index(p.t)].push(Elem { series: idx, v: p.v });
        }
    }
    steps
}

/// Builds output series from per-step results, one series per label set in
/// the order they first appear; fails like Prometheus if one step yields two
/// samples with the same labels.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    index: HashMap<Labels, usize>,
    series: Vec<StepSeries>,
    /// The time of each series' latest point, of either kind.
    last_t: Vec<i64>,
    unsorted: bool,
}

impl Collector {
    fn slot(&mut self, labels: &Labels, drop_name: bool, t: i64) -> Result<usize> {
        let idx = match self.index.entry(labels.clone()) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                e.insert(self.series.len());
                self.series.push(StepSeries::floats(labels.clone(), drop_name, Vec::new()));
                self.last_t.push(i64::MIN);
                self.series.len() - 1
            }
        };
        let last = self.last_t[idx];
        if last == t {
            return Err(Error::execution("vector cannot contain metrics with the same labelset"));
        }
        if last > t {
            self.unsorted = true;
        }
        self.last_t[idx] = t;
        Ok(idx)
    }

    pub fn push(&mut self, labels: &Labels, drop_name: bool, t: i64, v: f64) -> Result<()> {
        let idx = self.slot(labels, drop_name, t)?;
        self.series[idx].points.push(Sample { t, v });
        Ok(())
    }

    pub fn push_histogram(&mut self, labels: &Labels, drop_name: bool, t: i64, h: Arc<FloatHistogram>) -> Result<()> {
        let idx = self.slot(labels, drop_name, t)?;
        self.series[idx].histograms.push(HistogramSample { t, h });
        Ok(())
    }

    /// Pushes a value of either kind.
    pub fn push_value(&mut self, labels: &Labels, drop_name: bool, t: i64, value: Value<'_>) -> Result<()> {
        match value {
            Value::Float(v) => self.push(labels, drop_name, t, v),
            Value::Histogram(h) => self.push_histogram(labels, drop_name, t, Arc::clone(h)),
        }
    }

    /// The collected series; fails if two merged series share a time.
    pub fn finish(mut self) -> Result<Vec<StepSeries>> {
        if self.unsorted {
            for s in &mut self.series {
                sort_and_check(s)?;
            }
        }
        Ok(self.series)
    }
}

/// Sorts a series' points by time; fails if two points, of either kind, share a time.
pub(crate) fn sort_and_check(s: &mut StepSeries) -> Result<()> {
    s.points.sort_by_key(|p| p.t);
    s.histograms.sort_by_key(|p| p.t);
    let duplicate = s.points.windows(2).any(|w| w[0].t == w[1].t)
        || s.histograms.windows(2).any(|w| w[0].t == w[1].t)
        || (!s.histograms.is_empty()
            && s.histograms.iter().any(|h| s.points.binary_search_by_key(&h.t, |p| p.t).is_ok()));
    if duplicate {
        return Err(Error::execution("vector cannot contain metrics with the same labelset"));
    }
    Ok(())
}

/// How many series a parallel batch holds between deadline checks.
pub(crate) const PAR_BATCH: usize = 8192;

/// Maps `items` through `f` on the machine's cores, keeping their order; small
/// inputs stay on the calling thread.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 256 {
        return items.iter().map(f).collect();
    }
    let per_thread = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per_thread)
            .skip(1)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = items[..per_thread.min(items.len())].iter().map(f).collect();
        for handle in handles {
            out.extend(handle.join().expect("a query worker thread panicked"));
        }
        out
    })
}
