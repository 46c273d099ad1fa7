//! The records store: sampled exchanges and their quality scores in SQLite.
//!
//! One file, `records.db` in the data directory, in SQLite's WAL mode so
//! the dashboard reads while the pipeline writes. The store keeps what it is
//! given: sampling and redaction happen before [`Store::insert`], and no
//! text reaches it that the configuration does not allow to be kept. Rows
//! are bounded by age and total size ([`Store::enforce_retention`]), and
//! erased on request by end user, session or time ([`Store::erase`]).
//!
//! The tables are described column by column in `docs/format/records.md`.
#![warn(missing_docs)]

mod annotation;
mod audit;
mod erase;
mod error;
mod feedback;
mod judgement;
mod query;
mod schema;
mod store;

pub use annotation::AnnotationRecord;
pub use audit::ReadRecord;
pub use erase::Erasure;
pub use error::{Error, Result};
pub use feedback::FeedbackRecord;
pub use judgement::JudgementRecord;
pub use query::{Filter, Page, StatusFilter};
pub use store::{Evidence, ExchangeId, ExchangeRecord, ScoreRecord, ScoreTarget, Store};
