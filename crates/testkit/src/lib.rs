//! Test-only doubles shared by the crates' tests.
//!
//! [`MemStorage`] (from `series::memory`) implements [`series::Appendable`]
//! and [`series::Queryable`] in memory, so the receivers, the API and the
//! query engine can be tested without the embedded store; it is re-exported
//! here so every test finds its doubles in one place.
//!
//! [`upstream::FakeUpstream`] is an OpenAI-compatible server with
//! deterministic answers and knobs for pace and failures, for the gateway;
//! [`judge::FakeJudge`] answers verdicts or scripted faults, for judges.
//! [`bomb`] builds decompression bombs for the push receivers.
#![warn(missing_docs)]

pub mod bomb;
pub mod judge;
pub mod upstream;

pub use series::memory::MemStorage;
