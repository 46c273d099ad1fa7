//! Why a push request was rejected.

use crate::wire::WireError;

/// Why a request could not be ingested. Every variant except [`Error::Commit`]
/// and [`Error::Task`] is the sender's fault, and none of the request was stored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request's `Content-Type` names a format this receiver does not speak.
    #[error(
        "unsupported Content-Type {content_type:?}: expected application/x-protobuf with \
         proto=prometheus.WriteRequest or proto=io.prometheus.write.v2.Request"
    )]
    UnsupportedMediaType {
        /// The header as sent.
        content_type: String,
    },
    /// The request's `Content-Encoding` is not snappy.
    #[error("unsupported Content-Encoding {content_encoding:?}: expected snappy")]
    UnsupportedEncoding {
        /// The header as sent.
        content_encoding: String,
    },
    /// The compressed body is larger than any body within the decompressed limit can be.
    #[error("request body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The largest compressed body accepted.
        limit: usize,
    },
    /// The body would decompress to more bytes than allowed.
    #[error("request body decompresses to {decompressed_len} bytes, more than the limit of {limit} bytes")]
    DecompressedTooLarge {
        /// The length announced by the snappy header.
        decompressed_len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The body could not be read from the connection.
    #[error("cannot read request body")]
    ReadBody {
        /// The transport failure.
        #[source]
        source: axum::Error,
    },
    /// The body is not in snappy block format.
    #[error("request body is not snappy block data")]
    Snappy {
        /// What the decompressor found.
        #[source]
        source: snap::Error,
    },
    /// The decompressed body is not a valid protobuf message of the expected schema.
    #[error("request body is not valid protobuf")]
    Protobuf {
        /// Where and why decoding stopped.
        #[from]
        source: WireError,
    },
    /// A series has a label name outside `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("invalid label name {name:?} in series {series}")]
    InvalidLabelName {
        /// The offending name.
        name: String,
        /// The series, formatted as `{__name__="x", job="y"}`.
        series: String,
    },
    /// A series' `__name__` is outside `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {name:?} in series {series}")]
    InvalidMetricName {
        /// The offending metric name.
        name: String,
        /// The series, formatted as `{__name__="x", job="y"}`.
        series: String,
    },
    /// A series has no `__name__` label, or an empty one.
    #[error("missing metric name in series {series}")]
    MissingMetricName {
        /// The series, formatted as `{job="y"}`.
        series: String,
    },
    /// A series has two labels with the same name.
    #[error("duplicate label name {name:?} in series {series}")]
    DuplicateLabel {
        /// The repeated name.
        name: String,
        /// The series, formatted as `{__name__="x", job="y"}`.
        series: String,
    },
    /// A series has more labels than [`crate::MAX_LABELS_PER_SERIES`].
    #[error("series {series} has {n} labels, more than the {limit} a series may have")]
    TooManyLabels {
        /// How many it has.
        n: usize,
        /// The limit.
        limit: usize,
        /// The series, formatted (and cut short) as `{__name__="x", job="y", …}`.
        series: String,
    },
    /// A label's name or value is longer than [`crate::MAX_LABEL_BYTES`].
    #[error(
        "label {name:?} of series {series} is {len} bytes long, more than the {limit} a label name or value may be"
    )]
    LabelTooLong {
        /// The label's name, cut short.
        name: String,
        /// Length of the longer of name and value, in bytes.
        len: usize,
        /// The limit.
        limit: usize,
        /// The series, formatted and cut short.
        series: String,
    },
    /// An OTLP request's `Content-Type` is neither protobuf nor JSON.
    #[error("unsupported Content-Type {content_type:?}: expected application/x-protobuf or application/json")]
    UnsupportedOtlpMediaType {
        /// The header as sent, empty if missing.
        content_type: String,
    },
    /// An OTLP request's `Content-Encoding` is neither gzip nor none.
    #[error("unsupported Content-Encoding {content_encoding:?}: expected gzip or none")]
    UnsupportedOtlpEncoding {
        /// The header as sent.
        content_encoding: String,
    },
    /// A gzip body inflates to more bytes than allowed.
    #[error("request body decompresses to more than the limit of {limit} bytes")]
    InflatedTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The body is not valid gzip.
    #[error("request body is not valid gzip")]
    Gzip {
        /// What the decompressor found.
        #[source]
        source: std::io::Error,
    },
    /// The body is not a protobuf OTLP `ExportMetricsServiceRequest`.
    #[error("request body is not a valid protobuf ExportMetricsServiceRequest")]
    OtlpProtobuf {
        /// Where and why decoding stopped.
        #[source]
        source: prost::DecodeError,
    },
    /// The body is not an OTLP/JSON `ExportMetricsServiceRequest`.
    #[error("request body is not a valid OTLP/JSON ExportMetricsServiceRequest")]
    OtlpJson {
        /// Where and why parsing stopped.
        #[source]
        source: serde_json::Error,
    },
    /// The store refused the batch; nothing of it was stored.
    #[error("cannot commit samples")]
    Commit {
        /// The store's error; [`series::Error::Unavailable`] means the sender should retry.
        #[source]
        source: series::Error,
    },
    /// The ingestion task panicked or was cancelled: a bug.
    #[error("ingestion task failed")]
    Task {
        /// What happened to the task.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
