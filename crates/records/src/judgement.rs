//! Judges' verdicts on stored exchanges, and the judge cache: a verdict by
//! its cache key (rubric version, judge model, inputs), so re-judging the
//! same text costs no call, across restarts too.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::{ExchangeId, Result, Store};

/// One judge's verdict on one exchange by one rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgementRecord {
    /// The judge (`[[quality.judge]] name`).
    pub judge: String,
    /// The rubric (`correctness`).
    pub rubric: String,
    /// The rubric's version.
    pub rubric_version: u32,
    /// The model that judged.
    pub judge_model: String,
    /// In `[0, 1]`, higher is better.
    pub score: f64,
    /// The rubric's label the judge gave.
    pub label: String,
    /// Whether that is the rubric's failing label.
    pub failed: bool,
    /// The judge's one-sentence reason (model text: render it as text only).
    pub reason: String,
    /// Tokens the call used (0 for a cache hit).
    pub input_tokens: u64,
    /// Tokens of the judge's answer (0 for a cache hit).
    pub output_tokens: u64,
    /// What the call cost, where a price is configured.
    pub dollars: Option<f64>,
    /// From the judge cache: no call was made.
    pub cached: bool,
    /// When it was judged, in ms since the epoch.
    pub time_ms: i64,
}

impl Store {
    /// Stores a verdict on exchange `id`, replacing an earlier one of the
    /// same judge and rubric.
    pub fn insert_judgement(&self, id: ExchangeId, judgement: &JudgementRecord) -> Result<()> {
        let j = judgement;
        self.writer
            .lock()
            .prepare_cached(
                "INSERT OR REPLACE INTO judgements (exchange_id, judge, rubric, rubric_version, judge_model, score,
                    label, failed, reason, input_tokens, output_tokens, dollars, cached, time_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                id,
                j.judge,
                j.rubric,
                j.rubric_version,
                j.judge_model,
                j.score,
                j.label,
                j.failed,
                j.reason,
                j.input_tokens as i64,
                j.output_tokens as i64,
                j.dollars,
                j.cached,
                j.time_ms
            ])?;
        Ok(())
    }

    /// The verdict cached under `key`, as the judge crate serialized it.
    pub fn cached_verdict(&self, key: u64) -> Result<Option<String>> {
        let found = self
            .reader
            .lock()
            .prepare_cached("SELECT verdict FROM judge_cache WHERE key = ?1")?
            .query_row([key as i64], |row| row.get(0))
            .optional()?;
        Ok(found)
    }

    /// Caches a verdict under `key` at `now_ms` (retention removes it with
    /// the exchanges of its age).
    pub fn cache_verdict(&self, key: u64, verdict: &str, now_ms: i64) -> Result<()> {
        self.writer
            .lock()
            .prepare_cached("INSERT OR REPLACE INTO judge_cache (key, verdict, time_ms) VALUES (?1, ?2, ?3)")?
            .execute(params![key as i64, verdict, now_ms])?;
        Ok(())
    }

    /// The verdicts on exchange `id`, by judge and rubric, without its text.
    pub fn judgements(&self, id: ExchangeId) -> Result<Vec<JudgementRecord>> {
        of(&self.reader.lock(), id)
    }
}

/// The verdicts on exchange `id`, by judge and rubric.
pub(crate) fn of(conn: &Connection, id: ExchangeId) -> Result<Vec<JudgementRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT judge, rubric, rubric_version, judge_model, score, label, failed, reason, input_tokens,
                output_tokens, dollars, cached, time_ms
         FROM judgements WHERE exchange_id = ?1 ORDER BY judge, rubric",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok(JudgementRecord {
            judge: row.get(0)?,
            rubric: row.get(1)?,
            rubric_version: row.get(2)?,
            judge_model: row.get(3)?,
            score: row.get(4)?,
            label: row.get(5)?,
            failed: row.get(6)?,
            reason: row.get(7)?,
            input_tokens: row.get::<_, i64>(8)? as u64,
            output_tokens: row.get::<_, i64>(9)? as u64,
            dollars: row.get(10)?,
            cached: row.get(11)?,
            time_ms: row.get(12)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
