//! `/api/v1/query` and `/api/v1/query_range`: PromQL evaluation, answered
//! in Prometheus's result format (numbers as strings, times as seconds).

mod histogram;

use std::time::Duration;

use axum::extract::State;
use promql::{Engine, InstantSample, RangeSeries, Value, WarningLevel};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use series::{Labels, Sample};

use self::histogram::{HistogramPoint, HistogramPoints};
use crate::clock::now_ms;
use crate::params::Params;
use crate::{ApiState, Error, Result, Success};

/// Prometheus's cap on points per series of a range query.
const MAX_POINTS: i64 = 11_000;

/// `GET|POST /api/v1/query`: evaluates `query` at `time` (default now).
pub(crate) async fn instant(State(state): State<ApiState>, params: Params) -> Result<Success<QueryData>> {
    let query = params.value("query").unwrap_or_default().to_owned();
    let time = params.time("time", now_ms())?;
    let engine = engine_for(&state, &params)?;
    let limit = params.limit()?;
    let queryable = state.queryable.clone();
    let (value, warnings) = tokio::task::spawn_blocking(move || -> Result<_> {
        let querier = queryable.querier()?;
        engine.instant_query(&*querier, &query, time).map_err(Error::Query)
    })
    .await
    .map_err(|source| Error::Task { source })??;
    let mut data = QueryData(value);
    let truncated = limit.is_some_and(|limit| data.truncate(limit));
    Ok(answer(data, &warnings, truncated))
}

/// `GET|POST /api/v1/query_range`: evaluates `query` at every `step` from
/// `start` to `end`.
pub(crate) async fn range(State(state): State<ApiState>, params: Params) -> Result<Success<QueryData>> {
    let query = params.value("query").unwrap_or_default().to_owned();
    let start = required_time(&params, "start")?;
    let end = required_time(&params, "end")?;
    if end < start {
        return Err(Error::BadRange { message: "end timestamp must not be before start time" });
    }
    let step = match params.value("step") {
        Some(value) => parse_duration_ms(value)
            .ok_or_else(|| Error::InvalidDuration { value: value.to_owned() }.in_parameter("step"))?,
        None => return Err(Error::InvalidDuration { value: String::new() }.in_parameter("step")),
    };
    if step <= 0 {
        return Err(Error::BadRange {
            message: "zero or negative query resolution step widths are not accepted. Try a positive integer",
        });
    }
    if (end - start) / step > MAX_POINTS {
        return Err(Error::BadRange {
            message: "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        });
    }
    let engine = engine_for(&state, &params)?;
    let queryable = state.queryable.clone();
    let (value, warnings) = tokio::task::spawn_blocking(move || -> Result<_> {
        let querier = queryable.querier()?;
        engine.range_query(&*querier, &query, start, end, step).map_err(Error::Query)
    })
    .await
    .map_err(|source| Error::Task { source })??;
    Ok(answer(QueryData(value), &warnings, false))
}

fn answer(data: QueryData, warnings: &[promql::Warning], truncated: bool) -> Success<QueryData> {
    let mut success = Success::new(data);
    for warning in warnings {
        match warning.level {
            WarningLevel::Warning => success.warn(warning.to_string()),
            WarningLevel::Info => success.inform(warning.to_string()),
        }
    }
    if truncated {
        success.warn(crate::series::TRUNCATED_WARNING);
    }
    success
}

fn required_time(params: &Params, name: &'static str) -> Result<i64> {
    if params.value(name).is_none() {
        return Err(Error::InvalidTime { name, value: String::new() }.in_parameter(name));
    }
    params.time(name, 0)
}

/// The engine for this request: the server's, with the request's `timeout`
/// (never above the server's) and `lookback_delta`.
fn engine_for(state: &ApiState, params: &Params) -> Result<Engine> {
    let mut options = state.engine.options().clone();
    if let Some(value) = params.value("timeout") {
        let ms = parse_duration_ms(value)
            .filter(|ms| *ms > 0)
            .ok_or_else(|| Error::InvalidDuration { value: value.to_owned() }.in_parameter("timeout"))?;
        options.timeout = options.timeout.min(Duration::from_millis(ms as u64));
    }
    if let Some(value) = params.value("lookback_delta") {
        let ms = parse_duration_ms(value)
            .filter(|ms| *ms > 0)
            .ok_or_else(|| Error::InvalidDuration { value: value.to_owned() }.in_parameter("lookback_delta"))?;
        options.lookback_delta = Duration::from_millis(ms as u64);
    }
    Ok(Engine::new(options))
}

/// A duration as Prometheus's API takes it: seconds as a float (`"15"`,
/// `"0.5"`) or a duration string (`"15s"`, `"1m30s"`). Milliseconds.
pub(crate) fn parse_duration_ms(value: &str) -> Option<i64> {
    if let Ok(seconds) = value.parse::<f64>() {
        let ms = (seconds * 1000.0).round();
        // A positive duration below a millisecond is the shortest one, not none.
        let ms = if seconds > 0.0 { ms.max(1.0) } else { ms };
        return (ms.is_finite() && ms.abs() < 9.2e18).then_some(ms as i64);
    }
    series::parse_duration(value).ok().and_then(|d| i64::try_from(d.as_millis()).ok())
}

/// A query result as Prometheus writes it: `{"resultType": ..., "result": ...}`.
#[derive(Debug)]
pub(crate) struct QueryData(Value);

impl QueryData {
    /// Keeps the first `limit` series of a vector or matrix; whether any were dropped.
    fn truncate(&mut self, limit: usize) -> bool {
        match &mut self.0 {
            Value::Vector(v) if v.len() > limit => v.truncate(limit),
            Value::Matrix(m) if m.len() > limit => m.truncate(limit),
            _ => return false,
        }
        true
    }
}

impl Serialize for QueryData {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        match &self.0 {
            Value::Scalar(sample) => {
                map.serialize_entry("resultType", "scalar")?;
                map.serialize_entry("result", &Point(*sample))?;
            }
            Value::String { t, value } => {
                map.serialize_entry("resultType", "string")?;
                map.serialize_entry("result", &(Time(*t), value))?;
            }
            Value::Vector(samples) => {
                map.serialize_entry("resultType", "vector")?;
                map.serialize_entry("result", &VectorJson(samples))?;
            }
            Value::Matrix(series) => {
                map.serialize_entry("resultType", "matrix")?;
                map.serialize_entry("result", &MatrixJson(series))?;
            }
        }
        map.end()
    }
}

struct VectorJson<'a>(&'a [InstantSample]);

impl Serialize for VectorJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for sample in self.0 {
            seq.serialize_element(&VectorElement(sample))?;
        }
        seq.end()
    }
}

struct VectorElement<'a>(&'a InstantSample);

impl Serialize for VectorElement<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("metric", &Metric(&self.0.labels))?;
        match &self.0.h {
            Some(h) => {
                let sample = series::HistogramSample { t: self.0.t, h: h.clone() };
                map.serialize_entry("histogram", &HistogramPoint(&sample))?;
            }
            None => map.serialize_entry("value", &Point(Sample { t: self.0.t, v: self.0.v }))?,
        }
        map.end()
    }
}

struct MatrixJson<'a>(&'a [RangeSeries]);

impl Serialize for MatrixJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for series in self.0 {
            seq.serialize_element(&MatrixElement(series))?;
        }
        seq.end()
    }
}

struct MatrixElement<'a>(&'a RangeSeries);

impl Serialize for MatrixElement<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("metric", &Metric(&self.0.labels))?;
        // As Prometheus: each key only when the series has points of that kind.
        if !self.0.samples.is_empty() || self.0.histograms.is_empty() {
            map.serialize_entry("values", &Points(&self.0.samples))?;
        }
        if !self.0.histograms.is_empty() {
            map.serialize_entry("histograms", &HistogramPoints(&self.0.histograms))?;
        }
        map.end()
    }
}

struct Metric<'a>(&'a Labels);

impl Serialize for Metric<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for label in self.0 {
            map.serialize_entry(label.name, label.value)?;
        }
        map.end()
    }
}

struct Points<'a>(&'a [Sample]);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for &sample in self.0 {
            seq.serialize_element(&Point(sample))?;
        }
        seq.end()
    }
}

/// `[<unix seconds>, "<value>"]`.
struct Point(Sample);

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        (Time(self.0.t), promql::format_value(self.0.v)).serialize(serializer)
    }
}

/// Milliseconds written as seconds, with the fraction only when there is one.
struct Time(i64);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            serializer.serialize_i64(self.0 / 1000)
        } else {
            serializer.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seconds_or_duration_strings() {
        for (text, ms) in [
            ("15", Some(15_000)),
            ("0.5", Some(500)),
            ("1m30s", Some(90_000)),
            ("15s", Some(15_000)),
            ("1h", Some(3_600_000)),
        ] {
            assert_eq!(parse_duration_ms(text), ms, "{text}");
        }
        for bad in ["", "s", "1x", "1s1m", "abc"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_are_formatted_as_go_does() {
        use promql::format_value;
        for (v, text) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (1e21, "1000000000000000000000"),
            (1e-7, "0.0000001"),
            (-0.0, "-0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(format_value(v), text);
        }
    }

    #[test]
    fn histograms_are_written_as_prometheus_writes_them() {
        use std::sync::Arc;

        use series::{Bucket, FloatHistogram};
        let h = FloatHistogram {
            count: 5.0,
            sum: 7.5,
            zero_threshold: 0.001,
            zero_count: 1.0,
            positive: vec![Bucket { index: 1, count: 3.0 }, Bucket { index: 2, count: 0.0 }],
            negative: vec![Bucket { index: 0, count: 1.0 }],
            ..FloatHistogram::default()
        };
        let sample = InstantSample { labels: Labels::empty(), t: 2_000, v: f64::NAN, h: Some(Arc::new(h)) };
        let json = serde_json::to_string(&QueryData(Value::Vector(vec![sample]))).expect("serializable");
        assert_eq!(
            json,
            r#"{"resultType":"vector","result":[{"metric":{},"histogram":[2,{"count":"5","sum":"7.5","buckets":[[1,"-1","-0.5","1"],[3,"-0.001","0.001","1"],[0,"1","2","3"]]}]}]}"#
        );
    }
}
