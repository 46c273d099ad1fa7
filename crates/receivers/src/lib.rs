//! Push ingestion: senders write samples to infersight over HTTP.
//!
//! This crate owns Prometheus remote write 1.0 and 2.0 ([`remote_write`]):
//! decoding, validating and appending pushed samples through
//! [`series::Appendable`], and the HTTP endpoint that does it. It does not
//! know the store behind the trait, does not bind sockets (the binary merges
//! [`remote_write::router`] into its server) and does not own the metrics
//! registry. Decoding is zero-copy: label names and values stay slices of the
//! decompressed request until the store interns them.
#![warn(missing_docs)]

mod batch;
mod error;
mod metrics;
pub mod remote_write;
mod wire;

pub use batch::WriteBatch;
pub use error::{Error, Result};
pub use metrics::Metrics;
pub use remote_write::{RemoteWriteConfig, RemoteWriteState, router};
pub use wire::WireError;
