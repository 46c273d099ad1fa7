//! The audit of reads: who read which exchange's text, when, and through
//! which endpoint. Rows outlive the exchanges they name (no foreign key), and
//! go by age with the records' retention.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{ExchangeId, Result, Store};

/// One read of one exchange's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRecord {
    /// When it was read, in ms since the epoch.
    pub time_ms: i64,
    /// Who read it: a username, a token's name, or `anonymous` without authentication.
    pub reader: String,
    /// The exchange read.
    pub exchange_id: ExchangeId,
    /// How: `get` (one exchange) or `search` (a page of them).
    pub how: String,
}

impl Store {
    /// Records that `reader` read the text of each of `ids` at `time_ms`
    /// through `how`, in one transaction.
    pub fn record_reads(&self, reader: &str, ids: &[ExchangeId], how: &str, time_ms: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO exchange_reads (time_ms, reader, exchange_id, how) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for id in ids {
                insert.execute(params![time_ms, reader, id, how])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` reads, newest first.
    pub fn reads(&self, limit: usize) -> Result<Vec<ReadRecord>> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT time_ms, reader, exchange_id, how FROM exchange_reads ORDER BY time_ms DESC, rowid DESC LIMIT ?1",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], |row| {
            Ok(ReadRecord { time_ms: row.get(0)?, reader: row.get(1)?, exchange_id: row.get(2)?, how: row.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
