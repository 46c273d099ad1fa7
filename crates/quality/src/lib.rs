//! Deterministic quality scorers and drift tests for LLM prompts and responses.
//!
//! This crate owns the CPU half of quality evaluation: PII and secret spans
//! ([`pii`], with [`redact`]), toxicity, harmful help, refusals, jailbreak
//! and prompt-injection attempts, JSON validity against a schema, agreement
//! with a reference answer, self-consistency across samples, and drift of a
//! window of exchanges against a baseline ([`drift`]). Toxicity, harmful
//! help, refusal and jailbreak are learned: hashed n-gram [`features`] into
//! linear [`classifier`]s, calibrated into probabilities together with the
//! rule scores ([`learned`]), trained offline by [`train`] and compiled into
//! the binary. Every scorer is deterministic and linear in its input (only
//! the `regex` crate's automata, never a backtracking engine), and every
//! score carries its scorer's version ([`version_of`]). It does not sample
//! traffic, call judges, store records or write series: the binary feeds it
//! exchanges and stores what comes back. The offline contract of
//! `infersight score` and `infersight drift` lives in [`jsonl`].
#![warn(missing_docs)]

pub mod classifier;
pub mod consistency;
pub mod drift;
mod error;
pub mod eval;
pub mod features;
pub mod harmful;
pub mod jailbreak;
pub mod json;
pub mod jsonl;
pub mod learned;
pub mod pii;
pub mod redact;
pub mod reference;
pub mod refusal;
mod registry;
mod rng;
pub mod schema;
mod score;
pub mod toxicity;
pub mod train;
mod words;

pub use classifier::Cue;
pub use error::{Error, Result};
pub use jsonl::{RunSummary, drift_jsonl, score_jsonl};
pub use pii::redact;
pub use registry::{Registry, SCORER_NAMES, version_of};
pub use score::{Input, JsonChecks, PiiType, Score, Scorer, Span};
