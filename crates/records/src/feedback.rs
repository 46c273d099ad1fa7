//! End-user feedback on stored exchanges: thumbs up or down, or a score,
//! with a comment; and finding an exchange by the id the gateway gave out.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::{ExchangeId, Result, Store};

/// One piece of feedback on an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    /// When it was given, in ms since the epoch.
    pub time_ms: i64,
    /// `up`, `down` or `score`.
    pub value: String,
    /// The score given, in `[0, 1]`, for `score`.
    pub score: Option<f64>,
    /// The user's comment (user text: render it as text only).
    pub comment: String,
}

impl Store {
    /// The stored exchange the gateway called `key`, and its model.
    pub fn find_by_key(&self, key: &str) -> Result<Option<(ExchangeId, String)>> {
        let found = self
            .reader
            .lock()
            .prepare_cached("SELECT id, request_model FROM exchanges WHERE exchange_key = ?1 AND exchange_key != ''")?
            .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        Ok(found)
    }

    /// The model of stored exchange `id`.
    pub fn model_of(&self, id: ExchangeId) -> Result<Option<String>> {
        let found = self
            .reader
            .lock()
            .prepare_cached("SELECT request_model FROM exchanges WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        Ok(found)
    }

    /// Stores feedback on exchange `id`.
    pub fn insert_feedback(&self, id: ExchangeId, feedback: &FeedbackRecord) -> Result<()> {
        self.writer
            .lock()
            .prepare_cached(
                "INSERT INTO feedback (exchange_id, time_ms, value, score, comment) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, feedback.time_ms, feedback.value, feedback.score, feedback.comment])?;
        Ok(())
    }
}

/// The feedback on exchange `id`, oldest first.
pub(crate) fn of(conn: &Connection, id: ExchangeId) -> Result<Vec<FeedbackRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT time_ms, value, score, comment FROM feedback WHERE exchange_id = ?1 ORDER BY time_ms, rowid",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok(FeedbackRecord { time_ms: row.get(0)?, value: row.get(1)?, score: row.get(2)?, comment: row.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
