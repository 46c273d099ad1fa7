//! The embedded time-series store.
//!
//! Writes go to the write-ahead log ([`wal`]), then into the in-memory
//! [`head`] of compressed chunks. A flush swaps in an empty head and writes
//! the old one into immutable [`block`]s, one per 2 h window; compaction
//! merges overlapping blocks and joins small ones into larger ranges, and
//! retention deletes blocks by age and total size. Samples of any age are
//! accepted: old samples land in the head like new ones and end up in a
//! block of their own window, merged with what was there.
//!
//! The store implements [`series::Appendable`] and [`series::Queryable`]
//! and knows nothing of HTTP, PromQL or the configuration file.
#![warn(missing_docs)]

mod appender;
mod block;
mod compact;
mod db;
mod error;
mod head;
mod lock;
mod metrics;
mod postings;
mod querier;
mod varint;
mod wal;

pub use db::{Db, Options, Stats};

/// Entry points for the fuzz targets in `fuzz/`; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    /// Decodes one WAL record from arbitrary bytes; must never panic.
    pub fn decode_wal_record(data: &[u8]) -> bool {
        crate::wal::decode_record(data).is_ok()
    }
}
pub use error::{Error, Result};
pub use metrics::Metrics;
