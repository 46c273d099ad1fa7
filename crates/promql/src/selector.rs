//! Selectors: reading series from the store, once per selector for the whole grid.
//!
//! An instant vector selector looks back from each step for the latest
//! sample in the left-open window `(t - lookback, t]`; a stale marker there
//! ends the series. A range vector selector (or a subquery) yields, for each
//! step, the samples in `(t - range, t]`, stale markers left out. Offsets
//! shift both windows back; `@` pins them to one time for every step.

use promql_parser::label::{MatchOp as ParserMatchOp, Matchers};
use promql_parser::parser::{Expr, MatrixSelector, SubqueryExpr, VectorSelector};
use series::{
    HistogramSample, Labels, METRIC_NAME, MatchOp, Matcher, Sample, SelectHints, StartTimestamp, is_stale_nan,
};

use crate::eval::{Evaluator, Grid, PAR_BATCH, StepSeries, Val, offset_ms, par_map};
use crate::{Error, Result};

/// A range vector's series for every step of a grid, with the window rule.
#[derive(Debug)]
pub(crate) struct RangeInput {
    pub series: Vec<RangeSource>,
    /// The window length in milliseconds.
    pub range: i64,
    offset: i64,
    at: Option<i64>,
}

/// One series of a range vector: all samples any step's window needs.
#[derive(Debug)]
pub(crate) struct RangeSource {
    pub labels: Labels,
    pub drop_name: bool,
    pub samples: Vec<Sample>,
    /// Native-histogram samples, at times where `samples` has none.
    pub histograms: Vec<HistogramSample>,
    /// The samples' start timestamps (selectors only: a subquery has none).
    pub starts: StartTimes,
}

/// The start ("created") timestamps of a series' samples, aligned with
/// them: entry `i` belongs to sample `i`, and 0 means the sample has none,
/// as in Prometheus. Both lists are empty for a series without any, which
/// is almost every series, so their samples cost nothing more.
#[derive(Debug, Clone, Default)]
pub(crate) struct StartTimes {
    pub floats: Vec<i64>,
    pub histograms: Vec<i64>,
}

impl StartTimes {
    /// Aligns `starts` (sorted by sample time) with the samples they belong to.
    fn align(starts: &[StartTimestamp], samples: &[Sample], histograms: &[HistogramSample]) -> StartTimes {
        let aligned = |times: &mut dyn Iterator<Item = i64>| -> Vec<i64> {
            let mut cursor = 0;
            times
                .map(|t| {
                    while cursor < starts.len() && starts[cursor].t < t {
                        cursor += 1;
                    }
                    starts.get(cursor).filter(|s| s.t == t).map_or(0, |s| s.start)
                })
                .collect()
        };
        StartTimes {
            floats: aligned(&mut samples.iter().map(|s| s.t)),
            histograms: aligned(&mut histograms.iter().map(|h| h.t)),
        }
    }

    /// Whether no sample has a start timestamp.
    pub fn is_empty(&self) -> bool {
        self.floats.is_empty() && self.histograms.is_empty()
    }
}

/// A series' decoded samples: floats and histograms, each in time order,
/// and their start timestamps.
#[derive(Debug, Default)]
struct Decoded {
    samples: Vec<Sample>,
    histograms: Vec<HistogramSample>,
    starts: StartTimes,
}

impl Decoded {
    /// Leaves out stale markers (with their start timestamps): range vectors never contain them.
    fn without_stale_markers(mut self) -> Decoded {
        if !self.starts.floats.is_empty() {
            let kept = self.samples.iter().map(|p| !is_stale_nan(p.v));
            self.starts.floats = self.starts.floats.iter().zip(kept).filter(|(_, k)| *k).map(|(s, _)| *s).collect();
        }
        if !self.starts.histograms.is_empty() {
            let kept = self.histograms.iter().map(|p| !p.h.is_stale());
            self.starts.histograms =
                self.starts.histograms.iter().zip(kept).filter(|(_, k)| *k).map(|(s, _)| *s).collect();
        }
        self.samples.retain(|p| !is_stale_nan(p.v));
        self.histograms.retain(|p| !p.h.is_stale());
        self
    }
}

impl RangeInput {
    /// The window of the step at `ts`: samples with `start < t <= end`.
    pub fn window(&self, ts: i64) -> (i64, i64) {
        let end = self.at.unwrap_or(ts) - self.offset;
        (end - self.range, end)
    }
}

/// The store matchers of a selector, one list per `or` alternative, with
/// the metric name as an equality matcher. The API turns `match[]`
/// selectors into matchers with this too.
///
/// # Errors
///
/// [`series::Error::InvalidRegex`] when a regex matcher does not compile.
pub fn matcher_sets(vs: &VectorSelector) -> series::Result<Vec<Vec<Matcher>>> {
    let convert = |list: &[promql_parser::label::Matcher]| -> series::Result<Vec<Matcher>> {
        let mut out = Vec::with_capacity(list.len() + 1);
        if let Some(name) = &vs.name {
            out.push(Matcher::equal(METRIC_NAME, name));
        }
        for m in list {
            let op = match m.op {
                ParserMatchOp::Equal => MatchOp::Equal,
                ParserMatchOp::NotEqual => MatchOp::NotEqual,
                ParserMatchOp::Re(_) => MatchOp::Regex,
                ParserMatchOp::NotRe(_) => MatchOp::NotRegex,
            };
            out.push(Matcher::new(op, &m.name, &m.value)?);
        }
        Ok(out)
    };
    let Matchers { matchers, or_matchers } = &vs.matchers;
    if or_matchers.is_empty() {
        Ok(vec![convert(matchers)?])
    } else {
        or_matchers.iter().map(|list| convert(list)).collect()
    }
}

/// Selects the series of `vs`, decodes their samples in `[mint, maxt]` and
/// hands each series' samples through `keep` (on the machine's cores, a batch
/// of series at a time); series left with no samples are dropped.
fn load(
    ev: &mut Evaluator<'_>,
    vs: &VectorSelector,
    mint: i64,
    maxt: i64,
    hint_mint: i64,
    keep: impl Fn(Decoded) -> Decoded + Sync,
) -> Result<Vec<RangeSource>> {
    let sets = matcher_sets(vs).map_err(|e| Error::bad_data(e.to_string()))?;
    let hints = SelectHints::range(hint_mint, maxt);
    let mut out: Vec<RangeSource> = Vec::new();
    let mut loaded = 0usize;
    for matchers in &sets {
        let mut selected = ev.querier.select(&hints, matchers)?;
        if sets.len() > 1 {
            selected.retain(|series| !out.iter().any(|s| s.labels == series.labels));
        }
        for batch in selected.chunks(PAR_BATCH) {
            let decoded = par_map(batch, |series| {
                let samples: Vec<Sample> = series.decode(mint, maxt);
                let histograms =
                    if series.has_histograms() { series.decode_histograms(mint, maxt) } else { Vec::new() };
                let starts = if series.has_start_timestamps() {
                    StartTimes::align(&series.decode_start_timestamps(mint, maxt), &samples, &histograms)
                } else {
                    StartTimes::default()
                };
                (samples.len() + histograms.len(), keep(Decoded { samples, histograms, starts }))
            });
            for (series, (n, decoded)) in batch.iter().zip(decoded) {
                loaded += n;
                let Decoded { samples, histograms, starts } = decoded;
                if !samples.is_empty() || !histograms.is_empty() {
                    out.push(RangeSource {
                        labels: series.labels.clone(),
                        drop_name: false,
                        samples,
                        histograms,
                        starts,
                    });
                }
            }
            ev.check_samples(loaded)?;
            ev.check_deadline()?;
        }
    }
    if sets.len() > 1 {
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    Ok(out)
}

/// The reference times (after `@` and offset) of the grid's first and last steps.
fn reference_span(ev: &Evaluator<'_>, vs: &VectorSelector, grid: Grid) -> (i64, i64, Option<i64>, i64) {
    let offset = offset_ms(vs.offset.as_ref());
    let at = ev.at_time(vs.at.as_ref());
    let (first, last) = match at {
        Some(at) => (at - offset, at - offset),
        None => (grid.start - offset, grid.end - offset),
    };
    (first, last, at, offset)
}

/// Evaluates an instant vector selector at every step.
pub(crate) fn instant(ev: &mut Evaluator<'_>, vs: &VectorSelector, grid: Grid) -> Result<Vec<StepSeries>> {
    let lookback = ev.options.lookback_delta_ms();
    let (first, last, at, offset) = reference_span(ev, vs, grid);
    let sources = load(ev, vs, first - lookback + 1, last, first - lookback, |decoded| {
        lookback_mixed(&decoded, grid, at, offset, lookback, Pick::Value)
    })?;
    Ok(sources
        .into_iter()
        .map(|s| StepSeries { labels: s.labels, drop_name: false, points: s.samples, histograms: s.histograms })
        .collect())
}

/// `timestamp(selector)`: the time of the sample each step looks back to, in seconds.
pub(crate) fn instant_timestamps(ev: &mut Evaluator<'_>, vs: &VectorSelector, grid: Grid) -> Result<Vec<StepSeries>> {
    Ok(instant_timestamps_and_kind(ev, vs, grid)?.0)
}

/// [`instant_timestamps`], and whether any selected series holds native
/// histograms in the range (for functions that accept floats only).
pub(crate) fn instant_timestamps_and_kind(
    ev: &mut Evaluator<'_>,
    vs: &VectorSelector,
    grid: Grid,
) -> Result<(Vec<StepSeries>, bool)> {
    let lookback = ev.options.lookback_delta_ms();
    let (first, last, at, offset) = reference_span(ev, vs, grid);
    let saw_histograms = std::sync::atomic::AtomicBool::new(false);
    let sources = load(ev, vs, first - lookback + 1, last, first - lookback, |decoded| {
        if !decoded.histograms.is_empty() {
            saw_histograms.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        lookback_mixed(&decoded, grid, at, offset, lookback, Pick::Timestamp)
    })?;
    let series = sources.into_iter().map(|s| StepSeries::floats(s.labels, true, s.samples)).collect();
    Ok((series, saw_histograms.into_inner()))
}

/// `start_timestamp(selector)`: the start timestamp, in seconds, of the
/// sample each step looks back to (0 for a sample without one).
pub(crate) fn instant_start_timestamps(
    ev: &mut Evaluator<'_>,
    vs: &VectorSelector,
    grid: Grid,
) -> Result<Vec<StepSeries>> {
    let lookback = ev.options.lookback_delta_ms();
    let (first, last, at, offset) = reference_span(ev, vs, grid);
    let sources = load(ev, vs, first - lookback + 1, last, first - lookback, |decoded| {
        lookback_mixed(&decoded, grid, at, offset, lookback, Pick::StartTimestamp)
    })?;
    Ok(sources.into_iter().map(|s| StepSeries::floats(s.labels, true, s.samples)).collect())
}

/// What a step of an instant selector yields for the sample it looks back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// The sample itself, float or histogram.
    Value,
    /// Its time in seconds, a float.
    Timestamp,
    /// Its start timestamp in seconds (0 if it has none), a float.
    StartTimestamp,
}

/// For each step, the latest sample in `(t - lookback, t]` unless it is a
/// stale marker, as `pick` says.
fn lookback_mixed(decoded: &Decoded, grid: Grid, at: Option<i64>, offset: i64, lookback: i64, pick: Pick) -> Decoded {
    let Decoded { samples, histograms, starts } = decoded;
    if histograms.is_empty() && pick == Pick::Value {
        let points = lookback_floats(samples, grid, at, offset, lookback);
        return Decoded { samples: points, ..Decoded::default() };
    }
    let start_of = |starts: &[i64], i: usize| starts.get(i).map_or(0.0, |&st| st as f64 / 1000.0);
    let (mut points, mut hist_points) = (Vec::new(), Vec::new());
    let (mut cursor, mut h_cursor) = (0, 0);
    for ts in grid.times() {
        let reference = at.unwrap_or(ts) - offset;
        while cursor < samples.len() && samples[cursor].t <= reference {
            cursor += 1;
        }
        while h_cursor < histograms.len() && histograms[h_cursor].t <= reference {
            h_cursor += 1;
        }
        let float = cursor.checked_sub(1).map(|i| (i, samples[i]));
        let hist = h_cursor.checked_sub(1).map(|i| (i, &histograms[i]));
        let float_is_latest = float.is_some_and(|(_, f)| hist.is_none_or(|(_, h)| h.t < f.t));
        if float_is_latest {
            if let Some((i, f)) = float
                && f.t > reference - lookback
                && !is_stale_nan(f.v)
            {
                let v = match pick {
                    Pick::Value => f.v,
                    Pick::Timestamp => f.t as f64 / 1000.0,
                    Pick::StartTimestamp => start_of(&starts.floats, i),
                };
                points.push(Sample { t: ts, v });
            }
        } else if let Some((i, h)) = hist
            && h.t > reference - lookback
            && !h.h.is_stale()
        {
            match pick {
                Pick::Value => hist_points.push(HistogramSample { t: ts, h: h.h.clone() }),
                Pick::Timestamp => points.push(Sample { t: ts, v: h.t as f64 / 1000.0 }),
                Pick::StartTimestamp => points.push(Sample { t: ts, v: start_of(&starts.histograms, i) }),
            }
        }
    }
    Decoded { samples: points, histograms: hist_points, starts: StartTimes::default() }
}

/// [`lookback_mixed`] for the values of a series of floats only, the hot path.
fn lookback_floats(samples: &[Sample], grid: Grid, at: Option<i64>, offset: i64, lookback: i64) -> Vec<Sample> {
    let mut points = Vec::new();
    let mut cursor = 0;
    for ts in grid.times() {
        let reference = at.unwrap_or(ts) - offset;
        // Reference times never decrease along the grid, so the cursor only moves forward.
        while cursor < samples.len() && samples[cursor].t <= reference {
            cursor += 1;
        }
        if cursor == 0 {
            continue;
        }
        let s = samples[cursor - 1];
        if s.t > reference - lookback && !is_stale_nan(s.v) {
            points.push(Sample { t: ts, v: s.v });
        }
    }
    points
}

/// The range vector of a matrix selector or subquery (parentheses allowed
/// around it), with every sample any step of `grid` needs.
pub(crate) fn range_input(ev: &mut Evaluator<'_>, expr: &Expr, grid: Grid) -> Result<RangeInput> {
    match expr {
        Expr::Paren(p) => range_input(ev, &p.expr, grid),
        Expr::MatrixSelector(ms) => matrix(ev, ms, grid),
        Expr::Subquery(sq) => subquery(ev, sq, grid),
        _ => Err(Error::bad_data("expected a range vector")),
    }
}

fn matrix(ev: &mut Evaluator<'_>, ms: &MatrixSelector, grid: Grid) -> Result<RangeInput> {
    let range = ms.range.as_millis() as i64;
    let (first, last, at, offset) = reference_span(ev, &ms.vs, grid);
    let lookback = ev.options.lookback_delta_ms();
    let series = load(ev, &ms.vs, first - range + 1, last, first - range - lookback, Decoded::without_stale_markers)?;
    Ok(RangeInput { series, range, offset, at })
}

/// Evaluates a subquery's inner expression over its own grid, aligned to its
/// step, covering every outer step's window (as Prometheus does).
fn subquery(ev: &mut Evaluator<'_>, sq: &SubqueryExpr, grid: Grid) -> Result<RangeInput> {
    let range = sq.range.as_millis() as i64;
    let offset = offset_ms(sq.offset.as_ref());
    let at = ev.at_time(sq.at.as_ref());
    let step = match sq.step {
        Some(step) if !step.is_zero() => step.as_millis() as i64,
        _ => ev.options.subquery_step_ms(),
    };
    let (outer_start, outer_end) = match at {
        Some(at) => (at, at),
        None => (grid.start, grid.end),
    };
    let first_window_start = outer_start - offset - range;
    // Go's integer division truncates toward zero; keep it for identical alignment.
    let mut start = step * (first_window_start / step);
    if start <= first_window_start {
        start += step;
    }
    let end = outer_end - offset;
    let inner = Grid { start, end, step };
    let series = if end < start {
        Vec::new()
    } else {
        match ev.eval(&sq.expr, inner)? {
            Val::Vector(series) => series,
            Val::Scalar(values) => vec![StepSeries::floats(
                Labels::empty(),
                false,
                inner.times().zip(values).map(|(t, v)| Sample { t, v }).collect(),
            )],
            _ => return Err(Error::bad_data("subquery is only allowed on instant vector")),
        }
    };
    let series = series
        .into_iter()
        .map(|mut s| {
            forget_counter_resets(&mut s.histograms);
            // A subquery's points are computed, so they have no start timestamps.
            RangeSource {
                labels: s.labels,
                drop_name: s.drop_name,
                samples: s.points,
                histograms: s.histograms,
                starts: StartTimes::default(),
            }
        })
        .collect();
    Ok(RangeInput { series, range, offset, at })
}

/// A subquery's points may skip samples or repeat one, so a counter-reset
/// hint copied from a sample does not tell whether the counter was reset
/// between two points: rate and friends must compare the histograms instead.
fn forget_counter_resets(histograms: &mut [HistogramSample]) {
    use series::CounterResetHint;
    for p in histograms {
        if matches!(p.h.counter_reset_hint, CounterResetHint::Reset | CounterResetHint::NotReset) {
            std::sync::Arc::make_mut(&mut p.h).counter_reset_hint = CounterResetHint::Unknown;
        }
    }
}
