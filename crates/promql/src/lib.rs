//! PromQL evaluation over [`series::Querier`], with Prometheus 3.x semantics.
//!
//! Queries are parsed by the `promql-parser` crate; this crate owns what
//! happens next: [`Engine`] evaluates the syntax tree at one instant or step
//! by step over a range, and answers a [`Value`] with its [`Warning`]s or an
//! [`Error`]. Range queries are evaluated step-wise, but every selector reads
//! its series from the store once for the whole range and each step looks at
//! a window of the decoded samples, so a dashboard panel of 11,000 points
//! costs one read per selector, not one per point.
//!
//! Samples are floats or native histograms (`series::FloatHistogram`,
//! exponential and custom-bucket): selectors, range functions, aggregations
//! and operators carry both, as Prometheus does. The crate does no I/O
//! except through `Querier`, and knows nothing about the HTTP API's JSON
//! shapes.
#![warn(missing_docs)]

mod aggregate;
mod binary;
mod engine;
mod error;
mod eval;
mod functions;
mod metric_name;
mod parse;
mod selector;
mod value;

pub use engine::{Engine, EngineOptions, QueryTime};
pub use error::{Error, ErrorKind, Result};
pub use functions::go_format_float as format_value;
pub use parse::parse;
pub use selector::matcher_sets;
pub use value::{InstantSample, RangeSeries, Value, Warning, WarningLevel};
