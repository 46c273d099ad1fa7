//! The query engine: options, parsing, and turning evaluated nodes into results.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use promql_parser::parser::{self, Expr};
use series::{Labels, Querier, Sample};

use crate::eval::{Evaluator, Grid, StepSeries, Val, sort_and_check};
use crate::{Error, InstantSample, RangeSeries, Result, Value, Warning, metric_name};

/// Limits and defaults of query evaluation, as Prometheus's engine flags.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far an instant selector looks back for a sample (Prometheus's `--query.lookback-delta`).
    pub lookback_delta: Duration,
    /// The longest a query may run (`--query.timeout`).
    pub timeout: Duration,
    /// The most samples one node may hold in memory (`--query.max-samples`).
    pub max_samples: usize,
    /// The most steps of a range query (the API's limit of 11,000 points per series).
    pub max_range_points: i64,
    /// The step of subqueries that give none (Prometheus uses the global evaluation interval).
    pub default_subquery_step: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(5 * 60),
            timeout: Duration::from_secs(2 * 60),
            max_samples: 50_000_000,
            max_range_points: 11_000,
            default_subquery_step: Duration::from_secs(60),
        }
    }
}

impl EngineOptions {
    pub(crate) fn lookback_delta_ms(&self) -> i64 {
        self.lookback_delta.as_millis() as i64
    }

    pub(crate) fn subquery_step_ms(&self) -> i64 {
        (self.default_subquery_step.as_millis() as i64).max(1)
    }
}

/// When a query is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryTime {
    /// At one time, in milliseconds since the epoch.
    Instant(i64),
    /// At `start`, `start + step`, … up to `end`, in milliseconds.
    Range {
        /// The first evaluation time.
        start: i64,
        /// The last evaluation time (inclusive, if on the grid).
        end: i64,
        /// The distance between evaluation times; positive.
        step: i64,
    },
}

/// Evaluates PromQL queries against a [`Querier`].
#[derive(Debug, Clone, Default)]
pub struct Engine {
    options: EngineOptions,
}

impl Engine {
    /// An engine with the given limits.
    pub fn new(options: EngineOptions) -> Engine {
        Engine { options }
    }

    /// The engine's limits.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Evaluates `query` at `time_ms`.
    ///
    /// # Errors
    ///
    /// See [`Engine::query`].
    pub fn instant_query(&self, querier: &dyn Querier, query: &str, time_ms: i64) -> Result<(Value, Vec<Warning>)> {
        self.query(querier, query, QueryTime::Instant(time_ms), &AtomicBool::new(false))
    }

    /// Evaluates `query` from `start_ms` to `end_ms` every `step_ms`; the result is a
    /// [`Value::Matrix`] sorted by labels.
    ///
    /// # Errors
    ///
    /// See [`Engine::query`].
    pub fn range_query(
        &self,
        querier: &dyn Querier,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<(Value, Vec<Warning>)> {
        let time = QueryTime::Range { start: start_ms, end: end_ms, step: step_ms };
        self.query(querier, query, time, &AtomicBool::new(false))
    }

    /// Evaluates `query` at `time`; setting `canceled` from another thread
    /// stops the evaluation at its next check.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] if the query does not parse or type-check,
    /// [`Error::BadData`] for a bad range or argument, [`Error::Execution`],
    /// [`Error::TooManySamples`] and [`Error::TooManyPoints`] when evaluation
    /// fails, [`Error::Timeout`] and [`Error::Canceled`], and
    /// [`Error::Storage`] when the store fails.
    pub fn query(
        &self,
        querier: &dyn Querier,
        query: &str,
        time: QueryTime,
        canceled: &AtomicBool,
    ) -> Result<(Value, Vec<Warning>)> {
        let expr = crate::parse(query)?;
        self.query_expr(querier, &expr, time, canceled)
    }

    /// Evaluates an already parsed query (from [`crate::parse`]): what a
    /// caller that runs one query again and again, such as a rule, uses to
    /// parse it once.
    ///
    /// # Errors
    ///
    /// As [`Engine::query`], except parse errors.
    pub fn query_expr(
        &self,
        querier: &dyn Querier,
        expr: &parser::Expr,
        time: QueryTime,
        canceled: &AtomicBool,
    ) -> Result<(Value, Vec<Warning>)> {
        let (grid, is_range) = match time {
            QueryTime::Instant(t) => (Grid { start: t, end: t, step: 1 }, false),
            QueryTime::Range { start, end, step } => {
                if step <= 0 {
                    return Err(Error::bad_data(
                        "zero or negative query resolution step widths are not accepted. Try a positive integer",
                    ));
                }
                if end < start {
                    return Err(Error::bad_data("end timestamp must not be before start time"));
                }
                let points = (end - start) / step + 1;
                if points > self.options.max_range_points {
                    return Err(Error::TooManyPoints { points, limit: self.options.max_range_points });
                }
                (Grid { start, end, step }, true)
            }
        };
        if is_range && matches!(expr.value_type(), parser::value::ValueType::Matrix | parser::value::ValueType::String)
        {
            return Err(Error::bad_data(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                match expr.value_type() {
                    parser::value::ValueType::Matrix => "range vector",
                    _ => "string",
                }
            )));
        }
        let mut evaluator = Evaluator::new(querier, &self.options, grid.start, grid.end, canceled);
        evaluator.is_range = is_range;
        evaluator.query_step = if is_range { grid.step } else { 0 };
        let val = evaluator.eval(expr, grid)?;
        let value = if is_range { to_matrix(val, grid)? } else { to_instant(val, grid.start, expr)? };
        Ok((value, evaluator.warnings))
    }
}

/// Drops the names that delayed name removal marked, and merges series that
/// end up with the same labels; fails if two of them have a point at the same time.
fn cleanup(series: Vec<StepSeries>) -> Result<Vec<StepSeries>> {
    let mut out: Vec<StepSeries> = Vec::with_capacity(series.len());
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(series.len());
    let mut merged = false;
    for mut s in series {
        if s.drop_name && metric_name::has_name(&s.labels) {
            let mut builder = s.labels.to_builder();
            metric_name::remove_name(&mut builder);
            s.labels = builder.build();
        }
        s.drop_name = false;
        match index.get(&s.labels) {
            Some(&idx) => {
                out[idx].points.extend_from_slice(&s.points);
                out[idx].histograms.extend_from_slice(&s.histograms);
                merged = true;
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for s in &mut out {
            sort_and_check(s)?;
        }
    }
    Ok(out)
}

fn to_instant(val: Val, t: i64, expr: &Expr) -> Result<Value> {
    Ok(match val {
        Val::Scalar(values) => Value::Scalar(Sample { t, v: values.first().copied().unwrap_or(f64::NAN) }),
        Val::String(value) => Value::String { t, value },
        Val::Vector(mut series) => {
            series.retain(|s| !s.is_empty());
            let series = cleanup(series)?;
            Value::Vector(
                series
                    .into_iter()
                    .map(|s| match s.histograms.into_iter().next() {
                        Some(h) => InstantSample { labels: s.labels, t, v: f64::NAN, h: Some(h.h) },
                        None => InstantSample { labels: s.labels, t, v: s.points[0].v, h: None },
                    })
                    .collect(),
            )
        }
        Val::Matrix(series) => {
            let series = cleanup(series)?;
            let mut out: Vec<RangeSeries> = series.into_iter().map(range_series).collect();
            if !matches!(expr, Expr::MatrixSelector(_)) {
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
            }
            Value::Matrix(out)
        }
    })
}

fn to_matrix(val: Val, grid: Grid) -> Result<Value> {
    let mut series = match val {
        Val::Scalar(values) => vec![StepSeries::floats(
            Labels::empty(),
            false,
            grid.times().zip(values).map(|(t, v)| Sample { t, v }).collect(),
        )],
        Val::Vector(series) => series,
        Val::String(_) | Val::Matrix(_) => {
            return Err(Error::bad_data("invalid expression type for range query, must be Scalar or instant Vector"));
        }
    };
    series.retain(|s| !s.is_empty());
    let series = cleanup(series)?;
    let mut out: Vec<RangeSeries> = series.into_iter().map(range_series).collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(Value::Matrix(out))
}

fn range_series(s: StepSeries) -> RangeSeries {
    RangeSeries { labels: s.labels, samples: s.points, histograms: s.histograms }
}
