//! Push ingestion: senders write samples to infersight over HTTP.
//!
//! This crate owns Prometheus remote write 1.0 and 2.0 ([`remote_write`]) and
//! OTLP/HTTP metrics ([`otlp`]): decoding, validating (and for OTLP,
//! translating to Prometheus series) and appending pushed samples through
//! [`series::Appendable`], and the HTTP endpoints that do it. It does not
//! know the store behind the trait, does not bind sockets (the binary merges
//! [`remote_write::router`] and [`otlp::router`] into its server) and does
//! not own the metrics registry. Remote-write decoding is zero-copy: label
//! names and values stay slices of the decompressed request until the store
//! interns them.
#![warn(missing_docs)]

mod batch;
mod body;
mod error;
mod metrics;
pub mod otlp;
pub mod remote_write;
mod wire;

pub use batch::WriteBatch;
pub use error::{Error, Result};
pub use metrics::Metrics;
pub use otlp::{OtlpConfig, OtlpState};
pub use remote_write::{RemoteWriteConfig, RemoteWriteState, router};
pub use wire::WireError;

/// Most labels one pushed series may have, `__name__` included; a request
/// with a series past it is refused whole (400). Real series have tens;
/// VictoriaMetrics refuses past 40 by default, Prometheus's scrape
/// `label_limit` is unset.
pub const MAX_LABELS_PER_SERIES: usize = 128;

/// Longest label name or value of a pushed series, in bytes (16 KiB); a
/// request with a longer one is refused whole (400).
pub const MAX_LABEL_BYTES: usize = 16 << 10;
