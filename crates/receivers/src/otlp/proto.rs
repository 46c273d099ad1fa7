//! The OTLP metrics schema as prost messages that also read OTLP/JSON.
//!
//! Written by hand from opentelemetry-proto's
//! `collector/metrics/v1/metrics_service.proto`, `metrics/v1/metrics.proto`,
//! `common/v1/common.proto` and `resource/v1/resource.proto`, with the
//! upstream field numbers, so the build needs no protoc. Only what the
//! receiver translates is declared: exemplars, metric metadata, min/max and
//! dropped-attribute counts are left out, and prost skips them on the wire.
//!
//! The same structs deserialize the OTLP/JSON encoding (lowerCamelCase field
//! names, 64-bit integers as strings or numbers, enums as integers, unknown
//! fields ignored): the messages with a `oneof` go through a flat mirror
//! (in the private `json` module) that picks the variant that is present.

use serde::Deserialize;

use super::json;

/// `AggregationTemporality` values.
pub mod temporality {
    /// Not set: the data cannot be interpreted and is rejected.
    pub const UNSPECIFIED: i32 = 0;
    /// Each point covers the time since the previous one.
    pub const DELTA: i32 = 1;
    /// Each point covers the time since a fixed start.
    pub const CUMULATIVE: i32 = 2;
}

/// `DataPointFlags` bit: the point marks the series as absent (a stale marker).
pub const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// The body of `POST /v1/metrics`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExportMetricsServiceRequest {
    /// Metrics, grouped by the resource that produced them.
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// The answer to an export: empty, or which points were rejected.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceResponse {
    /// Set when some points were rejected and the rest accepted.
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportMetricsPartialSuccess>,
}

/// How much of an export was rejected, and why.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsPartialSuccess {
    /// The number of data points rejected.
    #[prost(int64, tag = "1")]
    pub rejected_data_points: i64,
    /// Why, for a human.
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// `google.rpc.Status`: the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// The gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// The metrics of one resource (a process, a pod).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceMetrics {
    /// The resource; absent means no attributes.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// The metrics, grouped by instrumentation scope.
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
}

/// What produced the telemetry.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Resource {
    /// `service.name`, `service.instance.id`, `host.name`, ...
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

/// The metrics of one instrumentation scope (a library's meter).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeMetrics {
    /// The scope.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// The metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
}

/// An instrumentation library's name and version.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstrumentationScope {
    /// The scope's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The scope's version.
    #[prost(string, tag = "2")]
    pub version: String,
    /// The scope's attributes.
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
}

/// One instrument's data points.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(from = "json::Metric")]
pub struct Metric {
    /// The instrument name, `gen_ai.client.operation.duration`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// What it measures.
    #[prost(string, tag = "2")]
    pub description: String,
    /// UCUM unit, `s`, `By`, `{token}`.
    #[prost(string, tag = "3")]
    pub unit: String,
    /// The points, by kind.
    #[prost(oneof = "metric::Data", tags = "5, 7, 9, 10, 11")]
    pub data: Option<metric::Data>,
}

/// The `data` oneof of [`Metric`].
pub mod metric {
    /// A metric's points, by kind.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Data {
        /// Sampled values.
        #[prost(message, tag = "5")]
        Gauge(super::Gauge),
        /// Sums over time (counters, up-down counters).
        #[prost(message, tag = "7")]
        Sum(super::Sum),
        /// Explicit-bucket histograms.
        #[prost(message, tag = "9")]
        Histogram(super::Histogram),
        /// Base-2 exponential histograms.
        #[prost(message, tag = "10")]
        ExponentialHistogram(super::ExponentialHistogram),
        /// Quantiles computed by the client.
        #[prost(message, tag = "11")]
        Summary(super::Summary),
    }
}

/// Sampled values.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Gauge {
    /// The points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

/// Sums over time.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Sum {
    /// The points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// A [`temporality`] value.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
    /// Whether the sum only ever grows (a counter).
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

/// Explicit-bucket histograms.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Histogram {
    /// The points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<HistogramDataPoint>,
    /// A [`temporality`] value.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
}

/// Base-2 exponential histograms.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExponentialHistogram {
    /// The points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<ExponentialHistogramDataPoint>,
    /// A [`temporality`] value.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
}

/// Quantiles computed by the client.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Summary {
    /// The points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<SummaryDataPoint>,
}

/// A gauge or sum value.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(from = "json::NumberDataPoint")]
pub struct NumberDataPoint {
    /// The point's dimensions.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    /// When a cumulative series started, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// When the value was observed, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// The value.
    #[prost(oneof = "number_data_point::Value", tags = "4, 6")]
    pub value: Option<number_data_point::Value>,
    /// `DataPointFlags` bits, see [`FLAG_NO_RECORDED_VALUE`].
    #[prost(uint32, tag = "8")]
    pub flags: u32,
}

/// The `value` oneof of [`NumberDataPoint`].
pub mod number_data_point {
    /// A float or integer value.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Value {
        /// A float.
        #[prost(double, tag = "4")]
        AsDouble(f64),
        /// An integer.
        #[prost(sfixed64, tag = "6")]
        AsInt(i64),
    }
}

/// An explicit-bucket histogram.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HistogramDataPoint {
    /// The point's dimensions.
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    /// When a cumulative series started, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "2")]
    #[serde(deserialize_with = "json::number")]
    pub start_time_unix_nano: u64,
    /// When the histogram was observed, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "3")]
    #[serde(deserialize_with = "json::number")]
    pub time_unix_nano: u64,
    /// Number of observations.
    #[prost(fixed64, tag = "4")]
    #[serde(deserialize_with = "json::number")]
    pub count: u64,
    /// Sum of observations; absent when negative observations make it meaningless.
    #[prost(double, optional, tag = "5")]
    #[serde(deserialize_with = "json::optional_number")]
    pub sum: Option<f64>,
    /// Observations per bucket (not cumulative): one more than `explicit_bounds`, or none.
    #[prost(fixed64, repeated, tag = "6")]
    #[serde(deserialize_with = "json::numbers")]
    pub bucket_counts: Vec<u64>,
    /// Upper bounds of the buckets, increasing; the last bucket is unbounded.
    #[prost(double, repeated, tag = "7")]
    #[serde(deserialize_with = "json::numbers")]
    pub explicit_bounds: Vec<f64>,
    /// `DataPointFlags` bits, see [`FLAG_NO_RECORDED_VALUE`].
    #[prost(uint32, tag = "10")]
    pub flags: u32,
}

/// A base-2 exponential histogram.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExponentialHistogramDataPoint {
    /// The point's dimensions.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
    /// When a cumulative series started, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "2")]
    #[serde(deserialize_with = "json::number")]
    pub start_time_unix_nano: u64,
    /// When the histogram was observed, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "3")]
    #[serde(deserialize_with = "json::number")]
    pub time_unix_nano: u64,
    /// Number of observations.
    #[prost(fixed64, tag = "4")]
    #[serde(deserialize_with = "json::number")]
    pub count: u64,
    /// Sum of observations.
    #[prost(double, optional, tag = "5")]
    #[serde(deserialize_with = "json::optional_number")]
    pub sum: Option<f64>,
    /// Resolution: bucket `i` covers `(base^i, base^(i+1)]` with `base = 2^(2^-scale)`.
    #[prost(sint32, tag = "6")]
    pub scale: i32,
    /// Observations within `zero_threshold` of zero.
    #[prost(fixed64, tag = "7")]
    #[serde(deserialize_with = "json::number")]
    pub zero_count: u64,
    /// Buckets of positive observations.
    #[prost(message, optional, tag = "8")]
    pub positive: Option<Buckets>,
    /// Buckets of negative observations.
    #[prost(message, optional, tag = "9")]
    pub negative: Option<Buckets>,
    /// `DataPointFlags` bits, see [`FLAG_NO_RECORDED_VALUE`].
    #[prost(uint32, tag = "10")]
    pub flags: u32,
    /// Width of the zero bucket; 0 means exactly zero.
    #[prost(double, tag = "14")]
    #[serde(deserialize_with = "json::number")]
    pub zero_threshold: f64,
}

/// Consecutive exponential buckets (`ExponentialHistogramDataPoint.Buckets`).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Buckets {
    /// Index of the first bucket.
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Observations per bucket, from `offset` on.
    #[prost(uint64, repeated, tag = "2")]
    #[serde(deserialize_with = "json::numbers")]
    pub bucket_counts: Vec<u64>,
}

/// Client-side quantiles.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SummaryDataPoint {
    /// The point's dimensions.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    /// When a cumulative series started, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "2")]
    #[serde(deserialize_with = "json::number")]
    pub start_time_unix_nano: u64,
    /// When the summary was observed, in nanoseconds since the epoch.
    #[prost(fixed64, tag = "3")]
    #[serde(deserialize_with = "json::number")]
    pub time_unix_nano: u64,
    /// Number of observations.
    #[prost(fixed64, tag = "4")]
    #[serde(deserialize_with = "json::number")]
    pub count: u64,
    /// Sum of observations.
    #[prost(double, tag = "5")]
    #[serde(deserialize_with = "json::number")]
    pub sum: f64,
    /// The quantiles.
    #[prost(message, repeated, tag = "6")]
    pub quantile_values: Vec<ValueAtQuantile>,
    /// `DataPointFlags` bits, see [`FLAG_NO_RECORDED_VALUE`].
    #[prost(uint32, tag = "8")]
    pub flags: u32,
}

/// One quantile of a summary (`SummaryDataPoint.ValueAtQuantile`).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ValueAtQuantile {
    /// The quantile, in `[0, 1]`.
    #[prost(double, tag = "1")]
    #[serde(deserialize_with = "json::number")]
    pub quantile: f64,
    /// Its value.
    #[prost(double, tag = "2")]
    #[serde(deserialize_with = "json::number")]
    pub value: f64,
}

/// An attribute.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValue {
    /// The attribute name, `gen_ai.request.model`.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Its value; absent means empty.
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// An attribute value.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(from = "json::AnyValue")]
pub struct AnyValue {
    /// The value, by type; absent means empty.
    #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<any_value::Value>,
}

/// The `value` oneof of [`AnyValue`].
pub mod any_value {
    /// An attribute value, by type.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// Text.
        #[prost(string, tag = "1")]
        StringValue(String),
        /// A boolean.
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        /// An integer.
        #[prost(int64, tag = "3")]
        IntValue(i64),
        /// A float.
        #[prost(double, tag = "4")]
        DoubleValue(f64),
        /// A list.
        #[prost(message, tag = "5")]
        ArrayValue(super::ArrayValue),
        /// A map.
        #[prost(message, tag = "6")]
        KvlistValue(super::KeyValueList),
        /// Bytes.
        #[prost(bytes, tag = "7")]
        BytesValue(Vec<u8>),
    }
}

/// A list attribute value.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArrayValue {
    /// The elements.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<AnyValue>,
}

/// A map attribute value.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValueList {
    /// The entries.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<KeyValue>,
}
