//! Time-series vocabulary shared by every crate that writes or reads series.
//!
//! This crate owns the words (label, sample, native histogram, matcher, chunk) and the two
//! traits that separate storage from everything else: [`Appender`] to write
//! samples and [`Querier`] to read them. It knows nothing about disks, HTTP
//! or PromQL: the embedded store implements the traits, and the query engine,
//! the receivers and the API only ever see them, so each can be tested on an
//! in-memory store.
#![warn(missing_docs)]

pub mod chunk;
mod duration;
mod error;
pub mod histogram;
mod kahan;
mod labels;
mod matcher;
pub mod memory;
pub mod regex_cache;
mod sample;
mod size;
mod storage;
pub mod varint;

pub use chunk::start::StartTimestamp;
pub use chunk::{Chunk, ChunkEncoding, ChunkIter, SampleIter};
pub use duration::parse_duration;
pub use error::{Error, Result};
pub use histogram::{
    Bucket, BucketBounds, BucketEnds, Combined, CounterResetHint, FloatHistogram, HistogramError, HistogramSample,
    KahanSum,
};
pub use kahan::kahan_inc;
pub use labels::{
    LabelRef, Labels, LabelsBuilder, METRIC_NAME, encode_into as encode_labels, is_valid_label_name,
    is_valid_metric_name,
};
pub use matcher::{MatchOp, Matcher};
pub use sample::{STALE_NAN, Sample, is_stale_nan};
pub use size::parse_size;
pub use storage::{Appendable, Appender, Querier, Queryable, SelectHints, Series};
