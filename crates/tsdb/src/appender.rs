//! Batched appends: buffered until commit, then logged and applied.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use series::{Appendable, Appender, LabelRef};

use crate::db::{Db, hash_labels};
use crate::head::{Appended, MemSeries};
use crate::wal::RecordEncoder;

/// A batch of samples for [`Db`].
///
/// `append` only copies the canonical label bytes into a buffer; `commit`
/// resolves series, writes one WAL write for the whole batch and applies it
/// to the head, all under a read lock on the store's state, so a concurrent
/// flush never splits a batch between two heads.
#[derive(Debug)]
pub struct DbAppender<'a> {
    db: &'a Db,
    labels: Vec<u8>,
    /// (start, end) of the label bytes, timestamp, value.
    entries: Vec<(u32, u32, i64, f64)>,
    encoder: RecordEncoder,
    resolved: Vec<Arc<MemSeries>>,
    samples: Vec<(u64, i64, f64)>,
}

impl Appender for DbAppender<'_> {
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64) {
        let start = self.labels.len() as u32;
        series::encode_labels(labels, &mut self.labels);
        self.entries.push((start, self.labels.len() as u32, t, v));
    }

    fn commit(&mut self) -> series::Result<usize> {
        if self.entries.is_empty() {
            return Ok(0);
        }
        let state = self.db.state.read();
        let head = &state.head;
        self.resolved.clear();
        self.samples.clear();
        self.encoder.clear();
        let mut newly_logged: Vec<usize> = Vec::new();
        for &(start, end, t, v) in &self.entries {
            let bytes = &self.labels[start as usize..end as usize];
            let series =
                head.get_or_create(hash_labels(bytes), bytes, || self.db.next_ref.fetch_add(1, Ordering::Relaxed));
            // Until a series record is known to be in the log, every batch
            // that uses the series carries one before its samples: batches
            // reach the log in any order, and replay must meet the
            // definition first. Duplicate records are harmless.
            if !series.logged.load(Ordering::Acquire) {
                self.encoder.series(series.series_ref, &series.labels);
                newly_logged.push(self.resolved.len());
            }
            self.samples.push((series.series_ref, t, v));
            self.resolved.push(series);
        }
        self.encoder.samples(&self.samples);
        let written = self.db.wal.lock().write(&self.encoder.buf);
        if let Err(err) = written {
            self.db.metrics.commit_failures.inc();
            self.clear();
            return Err(err.into());
        }
        for &i in &newly_logged {
            self.resolved[i].logged.store(true, Ordering::Release);
        }
        self.db.metrics.wal_bytes.inc_by(self.encoder.buf.len() as u64);
        let (mut duplicates, mut min_t, mut max_t) = (0u64, i64::MAX, i64::MIN);
        for (series, &(_, t, v)) in self.resolved.iter().zip(&self.samples) {
            if head.append(series, t, v) == Appended::Duplicate {
                duplicates += 1;
            } else {
                min_t = min_t.min(t);
                max_t = max_t.max(t);
            }
        }
        head.record_appends(self.samples.len() as u64 - duplicates, min_t, max_t);
        drop(state);
        let n = self.entries.len();
        self.db.metrics.samples_appended.inc_by(n as u64 - duplicates);
        self.db.metrics.samples_duplicate.inc_by(duplicates);
        self.clear();
        Ok(n)
    }

    fn rollback(&mut self) {
        self.clear();
    }
}

impl DbAppender<'_> {
    fn clear(&mut self) {
        self.labels.clear();
        self.entries.clear();
        self.resolved.clear();
        self.samples.clear();
        self.encoder.clear();
    }
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(DbAppender {
            db: self,
            labels: Vec::new(),
            entries: Vec::new(),
            encoder: RecordEncoder::default(),
            resolved: Vec::new(),
            samples: Vec::new(),
        })
    }
}
