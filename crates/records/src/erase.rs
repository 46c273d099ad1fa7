//! Erasure for data-subject requests: the exchanges of an end user, a
//! session and/or a time range, with everything stored about them, gone from
//! the file and not merely unreachable.
//!
//! One transaction deletes the exchanges and their scores (with their
//! evidence), judgements, feedback and the judge cache's verdicts written
//! for them. The audit of reads (`exchange_reads`) stays: it names who read
//! which exchange id and when, never text or the subject's ids. The writer
//! connection runs with `secure_delete`, so the deleted rows are zeroed in
//! their pages; after the commit the free pages are given back
//! (`incremental_vacuum`) and the WAL is checkpointed and truncated, so the
//! text is in neither file.

use rusqlite::types::Value;
use tracing::warn;

use crate::{Error, Result, Store};

/// Which exchanges to erase: those matching every criterion given. At least
/// one is needed; [`Store::erase`] refuses an erasure with none rather than
/// delete everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Exchanges of this end user (the request's `user`).
    pub user: Option<String>,
    /// Exchanges of this session (the gateway's session header).
    pub session: Option<String>,
    /// Exchanges that started from the first to the second time (ms since
    /// the epoch, both inclusive).
    pub range_ms: Option<(i64, i64)>,
}

impl Erasure {
    /// Whether no criterion is given.
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.session.is_none() && self.range_ms.is_none()
    }

    /// The condition on `exchanges` and its arguments (`?1`, `?2`, …).
    fn to_sql(&self) -> (String, Vec<Value>) {
        let mut clauses = Vec::new();
        let mut args = Vec::new();
        if let Some(user) = &self.user {
            args.push(Value::Text(user.clone()));
            clauses.push(format!("user = ?{}", args.len()));
        }
        if let Some(session) = &self.session {
            args.push(Value::Text(session.clone()));
            clauses.push(format!("session = ?{}", args.len()));
        }
        if let Some((start, end)) = self.range_ms {
            args.push(Value::Integer(start));
            args.push(Value::Integer(end));
            clauses.push(format!("time_ms BETWEEN ?{} AND ?{}", args.len() - 1, args.len()));
        }
        (clauses.join(" AND "), args)
    }
}

impl Store {
    /// Erases the exchanges matching `erasure` and everything stored about
    /// them (scores and their evidence, judgements, feedback, the judge
    /// cache's verdicts of their judgements), in one transaction; returns
    /// how many exchanges were erased. Reads of them stay audited.
    ///
    /// The judge cache is keyed by a hash of the judged text, not by
    /// exchange, so the rows removed are those cached at the time of an
    /// erased judgement: a cache entry of another exchange judged in the
    /// same millisecond may go too, which costs one more judge call.
    ///
    /// # Errors
    ///
    /// [`Error::NoErasureCriteria`] for an erasure without a criterion, and
    /// SQLite's failures (then nothing is erased).
    pub fn erase(&self, erasure: &Erasure) -> Result<usize> {
        if erasure.is_empty() {
            return Err(Error::NoErasureCriteria);
        }
        let (condition, args) = erasure.to_sql();
        let matching = format!("SELECT id FROM exchanges WHERE {condition}");
        let args = rusqlite::params_from_iter(args.iter());
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        tx.execute(
            &format!(
                "DELETE FROM judge_cache WHERE time_ms IN (
                    SELECT time_ms FROM judgements WHERE exchange_id IN ({matching}))"
            ),
            args.clone(),
        )?;
        for table in ["scores", "judgements", "feedback"] {
            tx.execute(&format!("DELETE FROM {table} WHERE exchange_id IN ({matching})"), args.clone())?;
        }
        let erased = tx.execute(&format!("DELETE FROM exchanges WHERE {condition}"), args)?;
        tx.commit()?;
        if erased > 0 {
            conn.execute_batch("PRAGMA incremental_vacuum")?;
            // Until the checkpoint the erased text may still be in the WAL
            // (the frames that inserted it) and in the main file's old pages.
            let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
            if busy != 0 {
                warn!("Records store WAL not truncated after an erasure: a reader held it; the next checkpoint will");
            }
        }
        Ok(erased)
    }
}
