//! The tables, and the migrations that bring an older file up to date.
//!
//! `PRAGMA user_version` holds the schema version; each migration moves it up
//! by one inside a transaction, so a crash mid-migration leaves the old
//! version intact.

use rusqlite::Connection;

use crate::{Error, Result};

/// Each entry takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE exchanges (
        id             INTEGER PRIMARY KEY,
        time_ms        INTEGER NOT NULL,
        operation      TEXT    NOT NULL,
        request_model  TEXT    NOT NULL,
        response_model TEXT,
        upstream       TEXT    NOT NULL,
        provider       TEXT    NOT NULL,
        stream         INTEGER NOT NULL,
        status         INTEGER NOT NULL,
        error_type     TEXT,
        finish_reason  TEXT,
        ttft_s         REAL,
        e2e_s          REAL    NOT NULL,
        gap_count      INTEGER NOT NULL,
        gap_mean_s     REAL    NOT NULL,
        gap_max_s      REAL    NOT NULL,
        input_tokens   INTEGER,
        output_tokens  INTEGER,
        prompt         TEXT    NOT NULL,
        response       TEXT    NOT NULL,
        size_bytes     INTEGER NOT NULL
    );
    CREATE INDEX exchanges_by_time ON exchanges (time_ms);
    CREATE INDEX exchanges_by_model ON exchanges (request_model, time_ms);
    CREATE TABLE scores (
        exchange_id INTEGER NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
        scorer      TEXT    NOT NULL,
        target      TEXT    NOT NULL,
        value       REAL    NOT NULL,
        label       INTEGER NOT NULL,
        evidence    TEXT    NOT NULL,
        PRIMARY KEY (exchange_id, scorer, target)
    );
    CREATE INDEX scores_flagged ON scores (scorer) WHERE label = 1;
",
    "
    ALTER TABLE scores ADD COLUMN version TEXT NOT NULL DEFAULT '';
",
    "
    CREATE TABLE judgements (
        exchange_id    INTEGER NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
        judge          TEXT    NOT NULL,
        rubric         TEXT    NOT NULL,
        rubric_version INTEGER NOT NULL,
        judge_model    TEXT    NOT NULL,
        score          REAL    NOT NULL,
        label          TEXT    NOT NULL,
        failed         INTEGER NOT NULL,
        reason         TEXT    NOT NULL,
        input_tokens   INTEGER NOT NULL,
        output_tokens  INTEGER NOT NULL,
        dollars        REAL,
        cached         INTEGER NOT NULL,
        time_ms        INTEGER NOT NULL,
        PRIMARY KEY (exchange_id, judge, rubric)
    );
    CREATE TABLE judge_cache (
        key     INTEGER PRIMARY KEY,
        verdict TEXT    NOT NULL,
        time_ms INTEGER NOT NULL
    );
    CREATE INDEX judge_cache_by_time ON judge_cache (time_ms);
",
    "
    ALTER TABLE exchanges ADD COLUMN exchange_key TEXT NOT NULL DEFAULT '';
    CREATE INDEX exchanges_by_key ON exchanges (exchange_key) WHERE exchange_key != '';
    CREATE TABLE feedback (
        exchange_id INTEGER NOT NULL REFERENCES exchanges (id) ON DELETE CASCADE,
        time_ms     INTEGER NOT NULL,
        value       TEXT    NOT NULL,
        score       REAL,
        comment     TEXT    NOT NULL
    );
    CREATE INDEX feedback_by_exchange ON feedback (exchange_id);
",
    "
    CREATE TABLE annotations (
        id      INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        text    TEXT    NOT NULL,
        tags    TEXT    NOT NULL,
        model   TEXT    NOT NULL
    );
    CREATE INDEX annotations_by_time ON annotations (time_ms);
",
    "
    CREATE TABLE exchange_reads (
        time_ms     INTEGER NOT NULL,
        reader      TEXT    NOT NULL,
        exchange_id INTEGER NOT NULL,
        how         TEXT    NOT NULL
    );
    CREATE INDEX exchange_reads_by_time ON exchange_reads (time_ms);
",
    "
    ALTER TABLE exchanges ADD COLUMN gateway_key TEXT NOT NULL DEFAULT '';
    CREATE INDEX exchanges_by_gateway_key ON exchanges (gateway_key, time_ms) WHERE gateway_key != '';
",
    "
    ALTER TABLE exchanges ADD COLUMN user TEXT;
    ALTER TABLE exchanges ADD COLUMN session TEXT;
    CREATE INDEX exchanges_by_user ON exchanges (user, time_ms) WHERE user IS NOT NULL;
    CREATE INDEX exchanges_by_session ON exchanges (session, time_ms) WHERE session IS NOT NULL;
",
];

/// Brings the schema of `conn` to the newest version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let supported = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
