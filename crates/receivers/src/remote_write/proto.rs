//! The remote-write protobuf schemas as prost messages.
//!
//! These are written by hand from Prometheus's `prompb/types.proto` (1.0) and
//! `prompb/io/prometheus/write/v2/types.proto` (2.0), so the build needs no
//! protoc. The receiver does not decode with them (see
//! [`decode_v1`](super::decode_v1)); they encode requests in tests, benches
//! and fuzzing, and are the reference the fast decoder is checked against.
//! Native histograms are abbreviated to the fields the tests need: the
//! receiver only counts them for now.

/// Remote write 1.0: `prometheus.WriteRequest` and its parts.
pub mod v1 {
    /// A request: series with their samples, and metric metadata.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        /// The series.
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
        /// Metadata of metric families (ignored by the receiver).
        #[prost(message, repeated, tag = "3")]
        pub metadata: Vec<MetricMetadata>,
    }

    /// One series: its labels and samples.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        /// The labels, sorted by name.
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        /// Float samples, oldest first.
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
        /// Exemplars of the samples.
        #[prost(message, repeated, tag = "3")]
        pub exemplars: Vec<Exemplar>,
        /// Native histogram samples.
        #[prost(message, repeated, tag = "4")]
        pub histograms: Vec<Histogram>,
    }

    /// A label name and value.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Label {
        /// The label name.
        #[prost(string, tag = "1")]
        pub name: String,
        /// The label value.
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// A float sample.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        /// The value.
        #[prost(double, tag = "1")]
        pub value: f64,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }

    /// An exemplar: an example observation with its own labels (a trace id).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Exemplar {
        /// The exemplar's labels.
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        /// The observed value.
        #[prost(double, tag = "2")]
        pub value: f64,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "3")]
        pub timestamp: i64,
    }

    /// A native histogram sample, abbreviated (see the module docs).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Histogram {
        /// Count of observations (the integer variant of the `count` oneof).
        #[prost(uint64, tag = "1")]
        pub count_int: u64,
        /// Sum of observations.
        #[prost(double, tag = "3")]
        pub sum: f64,
        /// Bucket schema.
        #[prost(sint32, tag = "4")]
        pub schema: i32,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "15")]
        pub timestamp: i64,
    }

    /// Metadata of a metric family.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MetricMetadata {
        /// The metric type, as Prometheus's `MetricType` enum number.
        #[prost(int32, tag = "1")]
        pub r#type: i32,
        /// The family name.
        #[prost(string, tag = "2")]
        pub metric_family_name: String,
        /// The help text.
        #[prost(string, tag = "4")]
        pub help: String,
        /// The unit.
        #[prost(string, tag = "5")]
        pub unit: String,
    }
}

/// Remote write 2.0: `io.prometheus.write.v2.Request` and its parts.
pub mod v2 {
    /// A request: a symbol table and series whose strings index into it.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Request {
        /// Deduplicated strings; must start with the empty string.
        #[prost(string, repeated, tag = "4")]
        pub symbols: Vec<String>,
        /// The series.
        #[prost(message, repeated, tag = "5")]
        pub timeseries: Vec<TimeSeries>,
    }

    /// One series: label references, samples and attachments.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        /// Pairs of indices into `symbols`: name, value, name, value...
        #[prost(uint32, repeated, tag = "1")]
        pub labels_refs: Vec<u32>,
        /// Float samples, oldest first.
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
        /// Native histogram samples.
        #[prost(message, repeated, tag = "3")]
        pub histograms: Vec<Histogram>,
        /// Exemplars of the samples.
        #[prost(message, repeated, tag = "4")]
        pub exemplars: Vec<Exemplar>,
        /// Type, help and unit of the series' metric.
        #[prost(message, optional, tag = "5")]
        pub metadata: Option<Metadata>,
        /// When the counter started counting, in milliseconds; 0 if unknown.
        #[prost(int64, tag = "6")]
        pub created_timestamp: i64,
    }

    /// A float sample.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        /// The value.
        #[prost(double, tag = "1")]
        pub value: f64,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }

    /// An exemplar: an example observation with its own labels (a trace id).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Exemplar {
        /// Pairs of indices into `symbols`.
        #[prost(uint32, repeated, tag = "1")]
        pub labels_refs: Vec<u32>,
        /// The observed value.
        #[prost(double, tag = "2")]
        pub value: f64,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "3")]
        pub timestamp: i64,
    }

    /// A native histogram sample, abbreviated (see the module docs).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Histogram {
        /// Count of observations (the integer variant of the `count` oneof).
        #[prost(uint64, tag = "1")]
        pub count_int: u64,
        /// Sum of observations.
        #[prost(double, tag = "3")]
        pub sum: f64,
        /// Bucket schema.
        #[prost(sint32, tag = "4")]
        pub schema: i32,
        /// Milliseconds since the Unix epoch.
        #[prost(int64, tag = "15")]
        pub timestamp: i64,
    }

    /// Type, help and unit of a series' metric.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metadata {
        /// The metric type, as the `MetricType` enum number.
        #[prost(int32, tag = "1")]
        pub r#type: i32,
        /// Index of the help text in `symbols`.
        #[prost(uint32, tag = "3")]
        pub help_ref: u32,
        /// Index of the unit in `symbols`.
        #[prost(uint32, tag = "4")]
        pub unit_ref: u32,
    }
}
