//! Self-metrics of the receivers: `infersight_remote_write_*` and `infersight_otlp_*`.

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::Error;
use crate::otlp::Encoding;
use crate::otlp::translate::Rejection;
use crate::remote_write::Version;

/// Counters of push ingestion, registered in the binary's registry.
/// Cloning shares the counters.
#[derive(Debug, Clone)]
pub struct Metrics {
    requests: Family<VersionLabel, Counter>,
    samples: Counter,
    rejected: Family<ReasonLabel, Counter>,
    histograms_dropped: Counter,
    exemplars_dropped: Counter,
    otlp_requests: Family<EncodingLabel, Counter>,
    otlp_samples: Counter,
    otlp_rejected: Family<ReasonLabel, Counter>,
    otlp_points_rejected: Family<RejectionLabel, Counter>,
}

impl Metrics {
    /// Creates the counters and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics {
            requests: Family::default(),
            samples: Counter::default(),
            rejected: Family::default(),
            histograms_dropped: Counter::default(),
            exemplars_dropped: Counter::default(),
            otlp_requests: Family::default(),
            otlp_samples: Counter::default(),
            otlp_rejected: Family::default(),
            otlp_points_rejected: Family::default(),
        };
        // The text encoder adds `_total` to counter names.
        registry.register(
            "infersight_remote_write_requests",
            "Remote-write requests received, by protocol version",
            metrics.requests.clone(),
        );
        registry.register(
            "infersight_remote_write_samples",
            "Float samples accepted by remote write",
            metrics.samples.clone(),
        );
        registry.register(
            "infersight_remote_write_rejected",
            "Remote-write requests rejected, by reason; nothing of them was stored",
            metrics.rejected.clone(),
        );
        registry.register(
            "infersight_remote_write_histograms_dropped",
            "Native histogram samples received by remote write and not stored (not supported yet)",
            metrics.histograms_dropped.clone(),
        );
        registry.register(
            "infersight_remote_write_exemplars_dropped",
            "Exemplars received by remote write and not stored (not supported yet)",
            metrics.exemplars_dropped.clone(),
        );
        registry.register(
            "infersight_otlp_requests",
            "OTLP metrics export requests received, by body encoding",
            metrics.otlp_requests.clone(),
        );
        registry.register(
            "infersight_otlp_samples",
            "Samples stored from OTLP metrics (one per series a data point becomes)",
            metrics.otlp_samples.clone(),
        );
        registry.register(
            "infersight_otlp_rejected",
            "OTLP metrics export requests rejected whole, by reason; nothing of them was stored",
            metrics.otlp_rejected.clone(),
        );
        registry.register(
            "infersight_otlp_points_rejected",
            "OTLP data points dropped from accepted requests (reported as partial success), by reason",
            metrics.otlp_points_rejected.clone(),
        );
        metrics
    }

    /// Counts a request of `version` (`None` when its Content-Type was not understood).
    pub(crate) fn count_request(&self, version: Option<Version>) {
        let version = version.map_or("unknown", Version::as_str);
        self.requests.get_or_create(&VersionLabel { version }).inc();
    }

    /// Counts what an accepted request carried.
    pub(crate) fn count_accepted(&self, n_samples: usize, n_histograms: usize, n_exemplars: usize) {
        self.samples.inc_by(n_samples as u64);
        self.histograms_dropped.inc_by(n_histograms as u64);
        self.exemplars_dropped.inc_by(n_exemplars as u64);
    }

    /// Counts a rejected request.
    pub(crate) fn count_rejected(&self, error: &Error) {
        self.rejected.get_or_create(&ReasonLabel { reason: Reason::of(error) }).inc();
    }

    /// Counts an OTLP request in `encoding` (`None` when its Content-Type was not understood).
    pub(crate) fn count_otlp_request(&self, encoding: Option<Encoding>) {
        let encoding = encoding.map_or("unknown", Encoding::as_str);
        self.otlp_requests.get_or_create(&EncodingLabel { encoding }).inc();
    }

    /// Counts what an accepted OTLP request stored and dropped.
    pub(crate) fn count_otlp_accepted(&self, n_samples: usize, rejected: &[(Rejection, usize)]) {
        self.otlp_samples.inc_by(n_samples as u64);
        for &(reason, n_points) in rejected {
            self.otlp_points_rejected
                .get_or_create(&RejectionLabel { reason: reason.as_str() })
                .inc_by(n_points as u64);
        }
    }

    /// Counts a rejected OTLP request.
    pub(crate) fn count_otlp_rejected(&self, error: &Error) {
        self.otlp_rejected.get_or_create(&ReasonLabel { reason: Reason::of(error) }).inc();
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EncodingLabel {
    encoding: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectionLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabel {
    reason: Reason,
}

/// Why a request was rejected, as a bounded label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reason {
    UnsupportedMediaType,
    TooLarge,
    ReadError,
    BadSnappy,
    BadGzip,
    BadProtobuf,
    BadJson,
    InvalidLabels,
    StorageUnavailable,
    StorageError,
    Internal,
}

impl Reason {
    fn of(error: &Error) -> Reason {
        match error {
            Error::UnsupportedMediaType { .. }
            | Error::UnsupportedEncoding { .. }
            | Error::UnsupportedOtlpMediaType { .. }
            | Error::UnsupportedOtlpEncoding { .. } => Reason::UnsupportedMediaType,
            Error::BodyTooLarge { .. } | Error::DecompressedTooLarge { .. } | Error::InflatedTooLarge { .. } => {
                Reason::TooLarge
            }
            Error::ReadBody { .. } => Reason::ReadError,
            Error::Snappy { .. } => Reason::BadSnappy,
            Error::Gzip { .. } => Reason::BadGzip,
            Error::Protobuf { .. } | Error::OtlpProtobuf { .. } => Reason::BadProtobuf,
            Error::OtlpJson { .. } => Reason::BadJson,
            Error::InvalidLabelName { .. }
            | Error::InvalidMetricName { .. }
            | Error::MissingMetricName { .. }
            | Error::DuplicateLabel { .. }
            | Error::TooManyLabels { .. }
            | Error::LabelTooLong { .. } => Reason::InvalidLabels,
            Error::Commit { source: series::Error::Unavailable { .. } } => Reason::StorageUnavailable,
            Error::Commit { .. } => Reason::StorageError,
            Error::Task { .. } => Reason::Internal,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Reason::UnsupportedMediaType => "unsupported_media_type",
            Reason::TooLarge => "too_large",
            Reason::ReadError => "read_error",
            Reason::BadSnappy => "bad_snappy",
            Reason::BadGzip => "bad_gzip",
            Reason::BadProtobuf => "bad_protobuf",
            Reason::BadJson => "bad_json",
            Reason::InvalidLabels => "invalid_labels",
            Reason::StorageUnavailable => "storage_unavailable",
            Reason::StorageError => "storage_error",
            Reason::Internal => "internal",
        }
    }
}

impl EncodeLabelValue for Reason {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
