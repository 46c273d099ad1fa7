//! The store: opening the file, writing exchanges and scores, reading them back.

use std::path::Path;
use std::time::Duration;

use inference::{Exchange, GapSummary, Operation, Timings, Usage};
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::query::{Filter, Page};
use crate::{Error, Result, schema};

/// Row id of a stored exchange.
pub type ExchangeId = i64;

/// Which text of an exchange a score is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreTarget {
    /// The request's text.
    Prompt,
    /// The response's text.
    Response,
}

impl ScoreTarget {
    fn as_str(self) -> &'static str {
        match self {
            ScoreTarget::Prompt => "prompt",
            ScoreTarget::Response => "response",
        }
    }

    fn parse(s: &str) -> ScoreTarget {
        if s == "prompt" { ScoreTarget::Prompt } else { ScoreTarget::Response }
    }
}

/// A part of the stored text that a score rests on (a PII span, a refusal
/// phrase), in Unicode code points of the stored (redacted) text, end
/// exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
    /// What it is (`EMAIL_ADDRESS`, `refusal`, …).
    #[serde(rename = "type")]
    pub kind: String,
}

/// One scorer's verdict on one text of an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// Scorer name (`pii`, `refusal`, …).
    pub scorer: String,
    /// Which text was scored.
    pub target: ScoreTarget,
    /// Higher means more of what the scorer names.
    pub value: f64,
    /// Whether the scorer flagged it.
    pub label: bool,
    /// Where in the text, when the scorer says.
    pub evidence: Vec<Evidence>,
    /// The scorer's version (`toxicity-lr1-55c39180`), so that a change of
    /// scorer is told apart from a change in the model it scores; empty for
    /// scores stored before versions were.
    #[serde(default)]
    pub version: String,
}

/// A stored exchange with its id and scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExchangeRecord {
    /// Row id.
    pub id: ExchangeId,
    /// The exchange as stored (text already redacted).
    #[serde(flatten)]
    pub exchange: Exchange,
    /// Every score of it.
    pub scores: Vec<ScoreRecord>,
    /// Every judge's verdict on it (left out of search pages).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub judgements: Vec<crate::JudgementRecord>,
    /// End-user feedback on it (left out of search pages).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<crate::FeedbackRecord>,
}

/// The records store. Writes go through one connection, reads through
/// another, so a long dashboard read never waits for the pipeline's writes
/// (SQLite's WAL mode lets them overlap).
#[derive(Debug)]
pub struct Store {
    pub(crate) writer: Mutex<Connection>,
    pub(crate) reader: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let open = |flags| -> Result<Connection> {
            let conn = Connection::open_with_flags(path, flags)
                .map_err(|source| Error::Open { path: path.to_path_buf(), source })?;
            conn.busy_timeout(Duration::from_secs(5))?;
            Ok(conn)
        };
        let mut writer = open(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        // auto_vacuum only takes effect before the first table exists.
        writer.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        writer.pragma_update(None, "foreign_keys", true)?;
        // Deleted rows (retention, erasure) are overwritten with zeros rather
        // than left in free pages, so that deleted text is gone from the file
        // once the WAL is checkpointed, not merely unreachable.
        writer.pragma_update(None, "secure_delete", true)?;
        schema::migrate(&mut writer)?;
        let reader = open(OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        Ok(Store { writer: Mutex::new(writer), reader: Mutex::new(reader) })
    }

    /// Stores `exchange` as given and returns its id.
    pub fn insert(&self, exchange: &Exchange) -> Result<ExchangeId> {
        insert_exchange(&self.writer.lock(), exchange)
    }

    /// Stores `exchange` and its scores in one transaction and returns its id.
    pub fn insert_with_scores(&self, exchange: &Exchange, scores: &[ScoreRecord]) -> Result<ExchangeId> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let id = insert_exchange(&tx, exchange)?;
        insert_scores(&tx, id, scores)?;
        tx.commit()?;
        Ok(id)
    }

    /// Stores the scores of exchange `id`, replacing earlier ones of the same
    /// scorer and target.
    pub fn insert_scores(&self, id: ExchangeId, scores: &[ScoreRecord]) -> Result<()> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        insert_scores(&tx, id, scores)?;
        tx.commit()?;
        Ok(())
    }

    /// One exchange with its scores, if it is (still) stored.
    pub fn get(&self, id: ExchangeId) -> Result<Option<ExchangeRecord>> {
        let conn = self.reader.lock();
        let exchange = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM exchanges WHERE id = ?1"))?
            .query_row([id], exchange_from_row)
            .optional()?;
        let Some((id, exchange)) = exchange else { return Ok(None) };
        let mut scores = scores_of(&conn, &[id])?;
        let judgements = crate::judgement::of(&conn, id)?;
        let feedback = crate::feedback::of(&conn, id)?;
        let scores = scores.pop().map(|(_, s)| s).unwrap_or_default();
        Ok(Some(ExchangeRecord { id, exchange, scores, judgements, feedback }))
    }

    /// Exchanges matching `filter`, newest first, with their scores.
    pub fn search(&self, filter: &Filter) -> Result<Page> {
        let conn = self.reader.lock();
        let (sql, args) = filter.to_sql(COLUMNS);
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), exchange_from_row)?;
        let mut found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        let limit = filter.limit();
        let more = found.len() > limit;
        found.truncate(limit);
        let ids: Vec<ExchangeId> = found.iter().map(|(id, _)| *id).collect();
        let mut scores = scores_of(&conn, &ids)?;
        let exchanges = found
            .into_iter()
            .map(|(id, exchange)| {
                let scores =
                    scores.iter_mut().find(|(sid, _)| *sid == id).map(|(_, s)| std::mem::take(s)).unwrap_or_default();
                ExchangeRecord { id, exchange, scores, judgements: Vec::new(), feedback: Vec::new() }
            })
            .collect::<Vec<_>>();
        let next_before = if more { exchanges.last().map(|r| r.id) } else { None };
        Ok(Page { exchanges, next_before })
    }

    /// The prompt and response texts of up to `limit` exchanges of `model`
    /// that started in `[start_ms, end_ms)`, newest first: a window for the
    /// drift test.
    pub fn texts(&self, model: &str, start_ms: i64, end_ms: i64, limit: usize) -> Result<Vec<(String, String)>> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT prompt, response FROM exchanges
             WHERE request_model = ?1 AND time_ms >= ?2 AND time_ms < ?3 AND status < 400 AND error_type IS NULL
             ORDER BY time_ms DESC, id DESC LIMIT ?4",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![model, start_ms, end_ms, limit], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The requested models of exchanges that started in `[start_ms, end_ms)`.
    pub fn models(&self, start_ms: i64, end_ms: i64) -> Result<Vec<String>> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT request_model FROM exchanges WHERE time_ms >= ?1 AND time_ms < ?2 ORDER BY 1",
        )?;
        let rows = stmt.query_map([start_ms, end_ms], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Number of stored exchanges.
    pub fn count(&self) -> Result<u64> {
        let conn = self.reader.lock();
        Ok(conn.query_row("SELECT count(*) FROM exchanges", [], |row| row.get::<_, i64>(0))? as u64)
    }

    /// Deletes exchanges (and their scores) older than `max_age` before
    /// `now_ms`, then the oldest ones until the stored text and fields add up
    /// to at most `max_bytes`. Returns how many were deleted.
    pub fn enforce_retention(&self, now_ms: i64, max_age: Option<Duration>, max_bytes: Option<u64>) -> Result<usize> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let mut deleted = 0;
        if let Some(age) = max_age {
            let cutoff = now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
            deleted += tx.execute("DELETE FROM exchanges WHERE time_ms < ?1", [cutoff])?;
            tx.execute("DELETE FROM judge_cache WHERE time_ms < ?1", [cutoff])?;
            tx.execute("DELETE FROM exchange_reads WHERE time_ms < ?1", [cutoff])?;
        }
        if let Some(max) = max_bytes {
            let total: i64 = tx.query_row("SELECT coalesce(sum(size_bytes), 0) FROM exchanges", [], |r| r.get(0))?;
            let excess = total - i64::try_from(max).unwrap_or(i64::MAX);
            if excess > 0 {
                // Oldest first, until the running total of sizes covers the excess.
                deleted += tx.execute(
                    "DELETE FROM exchanges WHERE id IN (
                        SELECT id FROM (
                            SELECT id, sum(size_bytes) OVER (ORDER BY time_ms, id) AS running
                            FROM exchanges)
                        WHERE running - size_bytes < ?1)",
                    [excess],
                )?;
            }
        }
        tx.commit()?;
        if deleted > 0 {
            conn.execute_batch("PRAGMA incremental_vacuum")?;
        }
        Ok(deleted)
    }
}

/// Inserts one exchange row on `conn` (a connection or a transaction).
fn insert_exchange(conn: &Connection, e: &Exchange) -> Result<ExchangeId> {
    let subject = e.user.as_deref().map_or(0, str::len) + e.session.as_deref().map_or(0, str::len);
    let size = e.prompt.len() + e.response.len() + e.request_model.len() + subject + 200;
    conn.prepare_cached(
        "INSERT INTO exchanges (time_ms, operation, request_model, response_model, upstream,
                provider, stream, status, error_type, finish_reason, ttft_s, e2e_s, gap_count,
                gap_mean_s, gap_max_s, input_tokens, output_tokens, prompt, response, size_bytes, exchange_key,
                gateway_key, user, session)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
                ?23, ?24)",
    )?
    .execute(params![
        e.time_ms,
        e.operation.as_str(),
        e.request_model,
        e.response_model,
        e.upstream,
        e.provider,
        e.stream,
        e.status,
        e.error_type,
        e.finish_reason,
        e.timings.ttft.map(|d| d.as_secs_f64()),
        e.timings.e2e.as_secs_f64(),
        e.timings.gaps.count,
        e.timings.gaps.mean.as_secs_f64(),
        e.timings.gaps.max.as_secs_f64(),
        e.usage.map(|u| u.input_tokens as i64),
        e.usage.map(|u| u.output_tokens as i64),
        e.prompt,
        e.response,
        size as i64,
        e.id,
        e.gateway_key,
        e.user,
        e.session,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Inserts (or replaces) the score rows of exchange `id` on `conn`.
fn insert_scores(conn: &Connection, id: ExchangeId, scores: &[ScoreRecord]) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO scores (exchange_id, scorer, target, value, label, evidence, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for s in scores {
        // Serialising plain structs of strings and integers cannot fail.
        let evidence = serde_json::to_string(&s.evidence).unwrap_or_else(|_| "[]".to_owned());
        insert.execute(params![id, s.scorer, s.target.as_str(), s.value, s.label, evidence, s.version])?;
    }
    Ok(())
}

/// The exchange columns, in the order [`exchange_from_row`] reads them.
const COLUMNS: &str = "id, time_ms, operation, request_model, response_model, upstream, provider, stream,
    status, error_type, finish_reason, ttft_s, e2e_s, gap_count, gap_mean_s, gap_max_s,
    input_tokens, output_tokens, prompt, response, exchange_key, gateway_key, user, session";

fn exchange_from_row(row: &Row<'_>) -> rusqlite::Result<(ExchangeId, Exchange)> {
    let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or_default();
    let operation = match row.get_ref(2)?.as_str()? {
        "text_completion" => Operation::TextCompletion,
        "embeddings" => Operation::Embeddings,
        _ => Operation::Chat,
    };
    let input: Option<i64> = row.get(16)?;
    let output: Option<i64> = row.get(17)?;
    let usage = match (input, output) {
        (Some(i), Some(o)) => Some(Usage { input_tokens: i as u64, output_tokens: o as u64 }),
        _ => None,
    };
    let exchange = Exchange {
        id: row.get(20)?,
        time_ms: row.get(1)?,
        operation,
        request_model: row.get(3)?,
        response_model: row.get(4)?,
        upstream: row.get(5)?,
        provider: row.get(6)?,
        gateway_key: row.get(21)?,
        user: row.get(22)?,
        session: row.get(23)?,
        stream: row.get(7)?,
        status: row.get(8)?,
        error_type: row.get(9)?,
        finish_reason: row.get(10)?,
        timings: Timings {
            ttft: row.get::<_, Option<f64>>(11)?.map(secs),
            e2e: secs(row.get(12)?),
            gaps: GapSummary { count: row.get(13)?, mean: secs(row.get(14)?), max: secs(row.get(15)?) },
        },
        usage,
        prompt: row.get(18)?,
        response: row.get(19)?,
    };
    Ok((row.get(0)?, exchange))
}

/// Scores of each of `ids`, grouped by exchange.
fn scores_of(conn: &Connection, ids: &[ExchangeId]) -> Result<Vec<(ExchangeId, Vec<ScoreRecord>)>> {
    let mut out: Vec<(ExchangeId, Vec<ScoreRecord>)> = Vec::with_capacity(ids.len());
    let mut stmt = conn.prepare_cached(
        "SELECT scorer, target, value, label, evidence, version FROM scores WHERE exchange_id = ?1
         ORDER BY scorer, target",
    )?;
    for &id in ids {
        let rows = stmt.query_map([id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        let mut scores = Vec::new();
        for row in rows {
            let (scorer, target, value, label, evidence, version) = row?;
            let evidence = serde_json::from_str(&evidence).map_err(|source| Error::Evidence { id, source })?;
            scores.push(ScoreRecord { scorer, target: ScoreTarget::parse(&target), value, label, evidence, version });
        }
        out.push((id, scores));
    }
    Ok(out)
}
