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
mod wal;

pub use appender::DbAppender;
pub use db::{Db, Options, Stats};
pub use error::{Error, Result};
pub use metrics::Metrics;
pub use querier::DbQuerier;

/// Entry points for the fuzz targets in `fuzz/` and the benchmarks in
/// `benches/`; not part of the API.
#[doc(hidden)]
pub mod internals {
    use std::path::Path;

    /// Decodes one WAL record from arbitrary bytes; must never panic.
    pub fn decode_wal_record(data: &[u8]) -> bool {
        crate::wal::decode_record(data).is_ok()
    }

    /// Intersection of two sorted postings lists.
    pub fn intersect_postings(a: &[u32], b: &[u32]) -> Vec<u32> {
        crate::postings::intersect(a, b)
    }

    /// A WAL in `dir` that appends sample batches as a commit does.
    #[derive(Debug)]
    pub struct WalAppender {
        wal: crate::wal::Wal,
        encoder: crate::wal::RecordEncoder,
    }

    impl WalAppender {
        /// Opens (replaying and discarding) the WAL in `dir`.
        ///
        /// # Errors
        ///
        /// I/O errors opening the log.
        pub fn open(dir: &Path) -> crate::Result<WalAppender> {
            let (wal, _) = crate::wal::Wal::open(dir, |_| {})?;
            Ok(WalAppender { wal, encoder: crate::wal::RecordEncoder::default() })
        }

        /// Encodes `samples` as one record and writes it.
        ///
        /// # Errors
        ///
        /// I/O errors writing the log.
        pub fn append(&mut self, samples: &[(u64, i64, f64)]) -> crate::Result<()> {
            self.encoder.clear();
            self.encoder.samples(samples);
            self.wal.write(&self.encoder.buf)
        }
    }
}
