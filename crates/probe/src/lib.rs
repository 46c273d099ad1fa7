//! Golden probes: fixed test items sent to each model through the gateway on an interval, scored, and exposed as metrics.
//!
//! A probe is the blackbox exporter of a model: a dataset of [`Item`]s
//! (chat messages and what a right answer looks like), the models to ask,
//! and an interval. Each run sends some items to each model through the
//! gateway like any client (streaming, so time to first token is measured
//! end to end) with `x-infersight-client: probe`, so the gateway labels
//! the traffic `infersight_client="probe"` and keeps it out of the quality
//! pipeline. Each answer is checked against the item ([`check`]) with the
//! deterministic scorers, or by a judge's rubric for items that name one,
//! and the run's outcome becomes the
//! `infersight_probe_*` series ([`Metrics`]). A bad dataset line is an
//! error with its line number, counted and skipped, never a crash.
#![warn(missing_docs)]

pub mod check;
mod client;
mod dataset;
mod metrics;
mod runner;

pub use check::{Check, Outcome};
pub use client::{Answer, Failure};
pub use dataset::{DEFAULT_SET, Dataset, DatasetError, Item};
pub use metrics::Metrics;
pub use runner::{ProbeJudge, ProbeSpec, Prober, RunReport};
