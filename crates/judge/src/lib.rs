//! LLM-as-judge: scores that need a model to read the answer.
//!
//! The deterministic scorers tell whether an answer leaks, refuses or
//! breaks its JSON; a judge tells whether it is right, grounded in its
//! context, relevant or helpful. This crate owns the [`Rubric`]s (built-in,
//! versioned prompt templates, and user rubrics parsed from text), the
//! strict reading of a judge's answer into a [`Verdict`] (anything else is a
//! [`Failure`] counted by reason, never a made-up score), the hard
//! [`Budget`] of a judge (requests per minute, tokens and dollars per day,
//! never overshot by more than the requests in flight), and the [`Judge`]
//! itself: one OpenAI-compatible endpoint, a bounded number of concurrent
//! calls, retries with backoff that honour 429 and `Retry-After`, a
//! [`Cache`] keyed by rubric version, judge model and inputs, and its
//! metrics. [`eval`] measures how well a judge agrees with human labels
//! (confusion matrix, Cohen's kappa, F1 of "fail"). It reads no file and
//! knows nothing of sampling, storage or series: the binary gives it
//! exchanges (or a labelled set's reader) and stores what comes back.
#![warn(missing_docs)]

mod budget;
mod client;
mod error;
pub mod eval;
mod judge;
pub mod metrics;
mod rubric;
mod verdict;

pub use budget::{Budget, Limits, Price, Reservation};
pub use client::Completion;
pub use error::Failure;
pub use judge::{Answerer, Cache, Judge, JudgeConfig, Judged, MemoryCache, Outcome};
pub use metrics::Metrics;
pub use rubric::{BUILT_IN, Input, Message, Rubric, RubricError};
pub use verdict::Verdict;
