//! OTLP metrics to Prometheus series, as Prometheus 3's OTLP endpoint does.
//!
//! Names follow [`name`](super::name). Every data point's attributes become
//! labels; the resource contributes `job` (`service.namespace/service.name`)
//! and `instance` (`service.instance.id`), and its other attributes go to one
//! `target_info` series of value 1, as Prometheus does by default. The
//! instrumentation scope adds nothing: Prometheus 3 only adds
//! `otel_scope_*` labels when `otlp.promote_scope_metadata` is set, which is
//! off by default.
//!
//! - Gauges and sums become one series per point; monotonic sums get
//!   `_total`. Delta sums are added up per series in [`DeltaTotals`], so
//!   they are stored as cumulative counters, as if the sender had used
//!   cumulative temporality.
//! - Histograms become classic histograms: `_bucket{le}` with cumulative
//!   counts and a `+Inf` bucket equal to the count, `_sum` when the point has
//!   one, and `_count`.
//! - Exponential histograms are stored as classic histograms too, until the
//!   store has native histograms: each bucket's upper bound `base^(i+1)`
//!   becomes an `le`, after downscaling to at most [`MAX_CLASSIC_SCALE`] so
//!   that `le` values stay the same while the sender's SDK rescales. The zero
//!   bucket becomes `le` = its threshold. Points with observations in
//!   negative buckets are rejected: their classic buckets would be wrong.
//! - Summaries become `{quantile}` series, `_sum` and `_count`.
//!
//! A histogram point of more than [`MAX_BUCKETS`] buckets is rejected: each
//! bucket is a series with all the point's labels, so a small request could
//! otherwise claim a great deal of memory.
//!
//! A point flagged "no recorded value" becomes a stale marker on each of its
//! series. Points that cannot be translated are dropped one by one and
//! reported, so the sender gets an OTLP partial success for them and the rest
//! of its request is stored.

use std::collections::HashMap;
use std::fmt::Write as _;

use series::{Labels, STALE_NAN, Sample};

use super::attribute::{attribute_labels, attribute_value};
use super::name::{MetricType, metric_name};
use super::proto::{
    ExponentialHistogramDataPoint, ExportMetricsServiceRequest, FLAG_NO_RECORDED_VALUE, HistogramDataPoint, KeyValue,
    Metric, NumberDataPoint, SummaryDataPoint, metric, number_data_point, temporality,
};
use super::series_buf::{SeriesBuf, SeriesLabels};

/// Exponential histograms are downscaled to at most this scale (8 buckets per
/// power of two, bounds within 9% of each other) before becoming classic
/// buckets. SDKs start at scale 20 and lower it as observations spread; a
/// fixed ceiling keeps the set of `le` values, and so the series, stable.
pub const MAX_CLASSIC_SCALE: i32 = 3;

/// Most classic buckets one histogram point may become. Every bucket is a
/// series carrying all of the point's labels, so this bounds how much memory
/// a small request can claim; SDKs use 160 exponential buckets by default.
pub const MAX_BUCKETS: usize = 4096;

/// Resource attributes that identify the target; they become `job` and
/// `instance` rather than `target_info` labels.
const SERVICE_NAME: &str = "service.name";
const SERVICE_NAMESPACE: &str = "service.namespace";
const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// How many distinct messages a partial success carries at most.
const MAX_MESSAGES: usize = 8;

/// Why a data point was dropped, as a bounded label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rejection {
    /// The metric name is empty once translated.
    InvalidName,
    /// A sum or histogram with unspecified aggregation temporality.
    InvalidTemporality,
    /// A gauge or sum point with no value.
    MissingValue,
    /// Bucket counts that do not match the bounds, bounds out of order, more
    /// than [`MAX_BUCKETS`], or a scale out of range.
    InvalidBuckets,
    /// An exponential histogram with observations in negative buckets.
    NegativeBuckets,
    /// A delta point for a new series while [`DeltaTotals`] is full.
    DeltaSeriesLimit,
}

impl Rejection {
    /// The reason as a metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::InvalidName => "invalid_name",
            Rejection::InvalidTemporality => "invalid_temporality",
            Rejection::MissingValue => "missing_value",
            Rejection::InvalidBuckets => "invalid_buckets",
            Rejection::NegativeBuckets => "negative_buckets",
            Rejection::DeltaSeriesLimit => "delta_series_limit",
        }
    }
}

/// The running totals of delta-temporality series, so a delta sum or
/// histogram is stored as the cumulative series Prometheus expects. Shared
/// by the requests of one receiver; a request's changes are applied only
/// once its samples are committed, so a retried request counts once.
#[derive(Debug)]
pub struct DeltaTotals {
    totals: HashMap<Labels, DeltaTotal>,
    max_series: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct DeltaTotal {
    value: f64,
    /// Timestamp of the last point added, in milliseconds.
    last_t: i64,
}

/// Totals not updated for this long (in sample time) are forgotten when the
/// map is full: the series has ended, and a restart starts it from zero.
const DELTA_IDLE_MS: i64 = 60 * 60 * 1000;

impl DeltaTotals {
    /// Totals for at most `max_series` series.
    pub fn new(max_series: usize) -> DeltaTotals {
        DeltaTotals { totals: HashMap::new(), max_series }
    }

    /// The number of series with a running total.
    pub fn len(&self) -> usize {
        self.totals.len()
    }

    /// Whether no series has a running total.
    pub fn is_empty(&self) -> bool {
        self.totals.is_empty()
    }

    /// Applies the new totals of a committed request, then, if full, forgets
    /// series idle for an hour before the request's newest delta point, so
    /// that new series are accepted again from the next request on.
    pub fn apply(&mut self, translation: &mut Translation) {
        self.totals.extend(translation.delta_updates.drain());
        if let Some(newest) = translation.newest_delta_t
            && self.totals.len() >= self.max_series
        {
            let horizon = newest.saturating_sub(DELTA_IDLE_MS);
            self.totals.retain(|_, total| total.last_t >= horizon);
        }
    }
}

/// The series of one request, and what was dropped from it.
#[derive(Debug, Default)]
pub struct Translation {
    series: SeriesBuf,
    n_rejected: usize,
    rejected: Vec<(Rejection, usize)>,
    messages: Vec<String>,
    /// New totals of delta series, applied by [`DeltaTotals::apply`] after commit.
    delta_updates: HashMap<Labels, DeltaTotal>,
    /// Timestamp of the newest delta point, accepted or not.
    newest_delta_t: Option<i64>,
}

impl Translation {
    /// The samples in request order, each with its series' labels. This
    /// builds every label set, for tests and tools; [`Translation::append_to`]
    /// is the fast way to the store.
    pub fn samples(&self) -> Vec<(Labels, Sample)> {
        let mut labels = Vec::new();
        (0..self.series.len())
            .map(|i| {
                let sample = self.series.fill(i, &mut labels);
                (Labels::from_sorted(&labels), sample)
            })
            .collect()
    }

    /// The number of samples.
    pub fn num_samples(&self) -> usize {
        self.series.len()
    }

    /// The number of data points dropped.
    pub fn num_rejected(&self) -> usize {
        self.n_rejected
    }

    /// The number of data points dropped, by reason.
    pub fn rejected(&self) -> &[(Rejection, usize)] {
        &self.rejected
    }

    /// Why points were dropped, for the sender: the first point of each
    /// metric and reason, at most eight, joined by `; `.
    pub fn error_message(&self) -> String {
        self.messages.join("; ")
    }

    /// Appends every sample to `appender` and returns how many; the caller commits.
    pub fn append_to(&self, appender: &mut dyn series::Appender) -> usize {
        let mut labels = Vec::new();
        for i in 0..self.series.len() {
            let sample = self.series.fill(i, &mut labels);
            appender.append(&labels, sample.t, sample.v);
        }
        self.series.len()
    }

    fn reject(&mut self, reason: Rejection, n_points: usize, message: impl FnOnce() -> String) {
        if n_points == 0 {
            return;
        }
        self.n_rejected += n_points;
        match self.rejected.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += n_points,
            None => self.rejected.push((reason, n_points)),
        }
        if self.messages.len() < MAX_MESSAGES {
            let message = message();
            if !self.messages.contains(&message) {
                self.messages.push(message);
            }
        }
    }
}

/// Whether any metric of `request` has delta temporality, so the caller
/// knows whether it needs [`DeltaTotals`] at all.
pub fn has_delta(request: &ExportMetricsServiceRequest) -> bool {
    let metrics = request.resource_metrics.iter().flat_map(|r| &r.scope_metrics).flat_map(|s| &s.metrics);
    metrics.into_iter().any(|metric| match &metric.data {
        Some(metric::Data::Sum(sum)) => sum.aggregation_temporality == temporality::DELTA,
        Some(metric::Data::Histogram(h)) => h.aggregation_temporality == temporality::DELTA,
        Some(metric::Data::ExponentialHistogram(h)) => h.aggregation_temporality == temporality::DELTA,
        _ => false,
    })
}

/// Translates `request` into Prometheus series, adding delta points to the
/// totals in `deltas` (read only: see [`DeltaTotals::apply`]).
pub fn translate(request: &ExportMetricsServiceRequest, deltas: &DeltaTotals) -> Translation {
    let mut translator = Translator { deltas, out: Translation::default() };
    for resource_metrics in &request.resource_metrics {
        let attributes = resource_metrics.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let target = Target::of(attributes);
        let first_sample = translator.out.series.len();
        for scope_metrics in &resource_metrics.scope_metrics {
            for metric in &scope_metrics.metrics {
                translator.metric(metric, &target);
            }
        }
        let newest = translator.out.series.samples(first_sample).map(|sample| sample.t).max();
        if let Some(t) = newest
            && let Some(labels) = target_info(attributes, &target)
        {
            SeriesLabels::new(&labels).push(&mut translator.out.series, "target_info", None, Sample { t, v: 1.0 });
        }
    }
    translator.out
}

/// The `job` and `instance` labels of a resource.
#[derive(Debug, Default)]
struct Target {
    job: Option<String>,
    instance: Option<String>,
}

impl Target {
    fn of(attributes: &[KeyValue]) -> Target {
        let get = |key: &str| attributes.iter().find(|kv| kv.key == key).map(|kv| attribute_value(kv.value.as_ref()));
        let job = get(SERVICE_NAME).map(|name| match get(SERVICE_NAMESPACE) {
            Some(namespace) if !namespace.is_empty() => format!("{namespace}/{name}"),
            _ => name,
        });
        Target { job, instance: get(SERVICE_INSTANCE_ID) }
    }

    fn apply(&self, labels: &mut Vec<(String, String)>) {
        for (name, value) in [("job", &self.job), ("instance", &self.instance)] {
            if let Some(value) = value {
                labels.retain(|(n, _)| n != name);
                labels.push((name.to_owned(), value.clone()));
            }
        }
        labels.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
}

/// The `target_info` series of a resource: its attributes other than the
/// identifying ones, with `job` and `instance`. None when the resource has
/// nothing else to say or no `job` or `instance` to join on.
fn target_info(attributes: &[KeyValue], target: &Target) -> Option<Vec<(String, String)>> {
    if target.job.is_none() && target.instance.is_none() {
        return None;
    }
    let rest: Vec<KeyValue> = attributes
        .iter()
        .filter(|kv| ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID].contains(&kv.key.as_str()))
        .cloned()
        .collect();
    if rest.is_empty() {
        return None;
    }
    let mut labels = attribute_labels(&rest);
    target.apply(&mut labels);
    Some(labels)
}

/// Translates metrics with the shared state of one request.
struct Translator<'d> {
    deltas: &'d DeltaTotals,
    out: Translation,
}

/// What writing a data point's series to a [`SeriesBuf`] comes to: nothing
/// written, or why the point is rejected.
type PointResult = Result<(), (Rejection, String)>;

impl Translator<'_> {
    fn metric(&mut self, metric: &Metric, target: &Target) {
        let Some(data) = &metric.data else { return };
        let (metric_type, n_points, temporality) = match data {
            metric::Data::Gauge(gauge) => (MetricType::Gauge, gauge.data_points.len(), None),
            metric::Data::Sum(sum) => {
                let metric_type =
                    if sum.is_monotonic { MetricType::MonotonicCounter } else { MetricType::NonMonotonicCounter };
                (metric_type, sum.data_points.len(), Some(sum.aggregation_temporality))
            }
            metric::Data::Histogram(h) => (MetricType::Histogram, h.data_points.len(), Some(h.aggregation_temporality)),
            metric::Data::ExponentialHistogram(h) => {
                (MetricType::Histogram, h.data_points.len(), Some(h.aggregation_temporality))
            }
            metric::Data::Summary(s) => (MetricType::Summary, s.data_points.len(), None),
        };
        let Some(name) = metric_name(&metric.name, &metric.unit, metric_type) else {
            self.out.reject(Rejection::InvalidName, n_points, || {
                format!("metric {:?}: name is empty once translated to Prometheus", metric.name)
            });
            return;
        };
        let delta = match temporality {
            None | Some(temporality::CUMULATIVE) => false,
            Some(temporality::DELTA) => true,
            Some(other) => {
                self.out.reject(Rejection::InvalidTemporality, n_points, || {
                    format!("metric {:?}: invalid aggregation temporality {other}", metric.name)
                });
                return;
            }
        };
        let names = Names::new(name);
        let context = PointContext { otel_name: &metric.name, names: &names, target, delta };
        match data {
            metric::Data::Gauge(gauge) => {
                for point in &gauge.data_points {
                    self.point(&context, point.time_unix_nano, point.flags, |out, t| {
                        number_point(&context, point, out, t)
                    });
                }
            }
            metric::Data::Sum(sum) => {
                for point in &sum.data_points {
                    self.point(&context, point.time_unix_nano, point.flags, |out, t| {
                        number_point(&context, point, out, t)
                    });
                }
            }
            metric::Data::Histogram(histogram) => {
                let mut les = LeCache::default();
                for point in &histogram.data_points {
                    self.point(&context, point.time_unix_nano, point.flags, |out, t| {
                        histogram_point(&context, point, &mut les, out, t)
                    });
                }
            }
            metric::Data::ExponentialHistogram(histogram) => {
                for point in &histogram.data_points {
                    self.point(&context, point.time_unix_nano, point.flags, |out, t| {
                        exponential_histogram_point(&context, point, out, t)
                    });
                }
            }
            metric::Data::Summary(summary) => {
                for point in &summary.data_points {
                    self.point(&context, point.time_unix_nano, point.flags, |out, t| {
                        summary_point(&context, point, out, t)
                    });
                }
            }
        }
    }

    /// Stores the series of one point, which `series` writes at time `t`:
    /// as stale markers if it has no recorded value, added to the running
    /// totals if it is a delta.
    fn point(
        &mut self,
        context: &PointContext<'_>,
        time_unix_nano: u64,
        flags: u32,
        series: impl FnOnce(&mut SeriesBuf, i64) -> PointResult,
    ) {
        let t = (time_unix_nano / 1_000_000) as i64;
        let mark = self.out.series.mark();
        if let Err((reason, what)) = series(&mut self.out.series, t) {
            self.out.series.truncate(mark);
            self.out.reject(reason, 1, || format!("metric {:?}: {what}", context.otel_name));
            return;
        }
        if flags & FLAG_NO_RECORDED_VALUE != 0 {
            for sample in self.out.series.samples_mut(mark.samples) {
                sample.v = STALE_NAN;
            }
            return;
        }
        if !context.delta {
            return;
        }
        self.out.newest_delta_t = self.out.newest_delta_t.max(Some(t));
        let mut labels = Vec::new();
        let keys: Vec<Labels> = (mark.samples..self.out.series.len())
            .map(|i| {
                self.out.series.fill(i, &mut labels);
                Labels::from_sorted(&labels)
            })
            .collect();
        let known = |key: &Labels| self.out.delta_updates.contains_key(key) || self.deltas.totals.contains_key(key);
        let n_new = keys.iter().filter(|key| !known(key)).count();
        if n_new > 0 && self.deltas.totals.len() + self.out.delta_updates.len() + n_new > self.deltas.max_series {
            self.out.series.truncate(mark);
            self.out.reject(Rejection::DeltaSeriesLimit, 1, || {
                format!(
                    "metric {:?}: more than {} delta series to accumulate",
                    context.otel_name, self.deltas.max_series
                )
            });
            return;
        }
        for (key, sample) in keys.into_iter().zip(self.out.series.samples_mut(mark.samples)) {
            let previous = self.out.delta_updates.get(&key).or_else(|| self.deltas.totals.get(&key));
            let value = previous.map_or(0.0, |total| total.value) + sample.v;
            let last_t = previous.map_or(t, |total| total.last_t.max(t));
            self.out.delta_updates.insert(key, DeltaTotal { value, last_t });
            sample.v = value;
        }
    }
}

/// The names of a metric's series.
struct Names {
    base: String,
    bucket: String,
    sum: String,
    count: String,
}

impl Names {
    fn new(base: String) -> Names {
        Names { bucket: format!("{base}_bucket"), sum: format!("{base}_sum"), count: format!("{base}_count"), base }
    }
}

/// What every point of a metric shares.
struct PointContext<'a> {
    otel_name: &'a str,
    names: &'a Names,
    target: &'a Target,
    delta: bool,
}

impl PointContext<'_> {
    /// A point's labels without the metric name: its attributes, then `job`
    /// and `instance`, sorted by name.
    fn labels(&self, attributes: &[KeyValue]) -> Vec<(String, String)> {
        let mut labels = attribute_labels(attributes);
        self.target.apply(&mut labels);
        labels
    }
}

fn number_point(context: &PointContext<'_>, point: &NumberDataPoint, out: &mut SeriesBuf, t: i64) -> PointResult {
    let value = match point.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        // A stale marker needs no value.
        None if point.flags & FLAG_NO_RECORDED_VALUE != 0 => 0.0,
        None => return Err((Rejection::MissingValue, "data point has no value".to_owned())),
    };
    let labels = context.labels(&point.attributes);
    SeriesLabels::new(&labels).push(out, &context.names.base, None, Sample { t, v: value });
    Ok(())
}

fn histogram_point(
    context: &PointContext<'_>,
    point: &HistogramDataPoint,
    les: &mut LeCache,
    out: &mut SeriesBuf,
    t: i64,
) -> PointResult {
    let bounds = &point.explicit_bounds;
    if !point.bucket_counts.is_empty() && point.bucket_counts.len() != bounds.len() + 1 {
        return Err((
            Rejection::InvalidBuckets,
            format!("{} bucket counts for {} explicit bounds", point.bucket_counts.len(), bounds.len()),
        ));
    }
    if bounds.len() > MAX_BUCKETS {
        return Err((Rejection::InvalidBuckets, format!("{} buckets, more than {MAX_BUCKETS}", bounds.len())));
    }
    if !bounds.iter().all(|b| b.is_finite()) || !bounds.is_sorted_by(|a, b| a < b) {
        return Err((Rejection::InvalidBuckets, "explicit bounds are not finite and increasing".to_owned()));
    }
    let labels = context.labels(&point.attributes);
    let mut builder = SeriesLabels::new(&labels);
    let names = context.names;
    let mut cumulative = 0u64;
    for (le, count) in les.get(bounds).iter().zip(&point.bucket_counts) {
        cumulative = cumulative.saturating_add(*count);
        builder.push(out, &names.bucket, Some(("le", le)), Sample { t, v: cumulative as f64 });
    }
    push_count_and_sum(&mut builder, out, names, point.count, point.sum, t);
    Ok(())
}

/// The `+Inf` bucket, `_sum` (if there is one) and `_count` of a histogram.
fn push_count_and_sum<'a>(
    builder: &mut SeriesLabels<'a>,
    out: &mut SeriesBuf,
    names: &'a Names,
    count: u64,
    sum: Option<f64>,
    t: i64,
) {
    builder.push(out, &names.bucket, Some(("le", "+Inf")), Sample { t, v: count as f64 });
    if let Some(sum) = sum {
        builder.push(out, &names.sum, None, Sample { t, v: sum });
    }
    builder.push(out, &names.count, None, Sample { t, v: count as f64 });
}

/// The `le` values of the last bounds seen: the points of a histogram
/// usually share their bounds, and formatting floats is costly.
#[derive(Default)]
struct LeCache {
    bounds: Vec<f64>,
    les: Vec<String>,
}

impl LeCache {
    fn get(&mut self, bounds: &[f64]) -> &[String] {
        if self.bounds != bounds {
            self.bounds = bounds.to_vec();
            self.les = bounds.iter().map(|b| format_float(*b)).collect();
        }
        &self.les
    }
}

fn exponential_histogram_point(
    context: &PointContext<'_>,
    point: &ExponentialHistogramDataPoint,
    out: &mut SeriesBuf,
    t: i64,
) -> PointResult {
    let buckets = classic_buckets(point)?;
    let les: Vec<String> = buckets.iter().map(|(upper, _)| format_float(*upper)).collect();
    let labels = context.labels(&point.attributes);
    let mut builder = SeriesLabels::new(&labels);
    let names = context.names;
    for (le, (_, cumulative)) in les.iter().zip(buckets) {
        builder.push(out, &names.bucket, Some(("le", le)), Sample { t, v: cumulative as f64 });
    }
    push_count_and_sum(&mut builder, out, names, point.count, point.sum, t);
    Ok(())
}

/// The finite classic buckets of an exponential histogram: upper bound and
/// cumulative count, the zero bucket first.
pub(crate) fn classic_buckets(point: &ExponentialHistogramDataPoint) -> Result<Vec<(f64, u64)>, (Rejection, String)> {
    if let Some(negative) = &point.negative {
        let n_negative: u64 = negative.bucket_counts.iter().fold(0, |n, c| n.saturating_add(*c));
        if n_negative > 0 {
            return Err((
                Rejection::NegativeBuckets,
                format!("exponential histogram has {n_negative} observations in negative buckets"),
            ));
        }
    }
    // The scales the data model allows; beyond them bounds over- or underflow.
    if !(-10..=20).contains(&point.scale) {
        return Err((Rejection::InvalidBuckets, format!("exponential histogram scale {} out of range", point.scale)));
    }
    let scale = point.scale.min(MAX_CLASSIC_SCALE);
    let shift = point.scale - scale;
    let empty = Vec::new();
    let (offset, counts) = point.positive.as_ref().map_or((0, &empty), |p| (p.offset, &p.bucket_counts));
    let first = i64::from(offset) >> shift;
    let last = (i64::from(offset) + counts.len() as i64 - 1) >> shift;
    let n_buckets = if counts.is_empty() { 0 } else { (last - first + 1) as usize };
    if n_buckets > MAX_BUCKETS {
        return Err((Rejection::InvalidBuckets, format!("{n_buckets} buckets, more than {MAX_BUCKETS}")));
    }
    let mut merged = vec![0u64; n_buckets];
    for (k, count) in counts.iter().enumerate() {
        let index = ((i64::from(offset) + k as i64) >> shift) - first;
        merged[index as usize] = merged[index as usize].saturating_add(*count);
    }
    // Bucket i covers (base^i, base^(i+1)] with base = 2^(2^-scale).
    let upper_bound = |index: i64| ((index + 1) as f64 * (-f64::from(scale)).exp2()).exp2();
    let mut buckets = Vec::with_capacity(merged.len() + 1);
    let mut cumulative = point.zero_count;
    let zero_threshold = point.zero_threshold;
    let first_upper = if merged.is_empty() { f64::INFINITY } else { upper_bound(first) };
    if zero_threshold.is_finite() && zero_threshold >= 0.0 && zero_threshold < first_upper {
        buckets.push((zero_threshold, cumulative));
    }
    for (i, count) in merged.into_iter().enumerate() {
        let upper = upper_bound(first + i as i64);
        if !upper.is_finite() {
            // Observations this large only count towards +Inf.
            break;
        }
        cumulative = cumulative.saturating_add(count);
        if upper > zero_threshold {
            buckets.push((upper, cumulative));
        }
    }
    Ok(buckets)
}

fn summary_point(context: &PointContext<'_>, point: &SummaryDataPoint, out: &mut SeriesBuf, t: i64) -> PointResult {
    let quantiles: Vec<String> = point.quantile_values.iter().map(|q| format_float(q.quantile)).collect();
    let labels = context.labels(&point.attributes);
    let mut builder = SeriesLabels::new(&labels);
    let names = context.names;
    for (q, quantile) in quantiles.iter().zip(&point.quantile_values) {
        builder.push(out, &names.base, Some(("quantile", q)), Sample { t, v: quantile.value });
    }
    builder.push(out, &names.sum, None, Sample { t, v: point.sum });
    builder.push(out, &names.count, None, Sample { t, v: point.count as f64 });
    Ok(())
}

/// A float as a label value, as Prometheus writes `le` and `quantile` for
/// OTLP data (Go's `FormatFloat(f, 'f', -1, 64)`): shortest round-trip
/// decimal, no exponent.
pub(crate) fn format_float(f: f64) -> String {
    let mut text = String::new();
    if f.is_infinite() {
        text.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        write!(text, "{f}").expect("writing to a String cannot fail");
    }
    text
}

#[cfg(test)]
mod tests;
