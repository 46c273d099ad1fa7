//! Tests of the migrations: older files come up to date with their rows, newer ones are refused.

use rusqlite::Connection;

use super::MIGRATIONS;
use crate::{Error, Store};

/// A file at schema `version` as that build left it.
fn file_at(path: &std::path::Path, version: usize) -> Connection {
    let conn = Connection::open(path).expect("open");
    for sql in &MIGRATIONS[..version] {
        conn.execute_batch(sql).expect("migration");
    }
    conn.pragma_update(None, "user_version", version as i64).expect("version");
    conn
}

#[test]
fn issue_20_version_7_files_gain_user_and_session_and_keep_their_exchanges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("records.db");
    let conn = file_at(&path, 7);
    conn.execute(
        "INSERT INTO exchanges (time_ms, operation, request_model, upstream, provider, stream, status, e2e_s,
            gap_count, gap_mean_s, gap_max_s, prompt, response, size_bytes, gateway_key)
         VALUES (1000, 'chat', 'llama', 'a', 'vllm', 0, 200, 0.5, 0, 0, 0, 'user: hi', 'hello', 220, 'team-a')",
        [],
    )
    .expect("an exchange of version 7");
    drop(conn);

    let store = Store::open(&path).expect("migrates");
    let version: i64 =
        store.reader.lock().query_row("PRAGMA user_version", [], |row| row.get(0)).expect("user_version");
    assert_eq!(version, 8);
    let record = store.get(1).expect("read").expect("kept");
    assert_eq!((record.exchange.prompt.as_str(), record.exchange.gateway_key.as_str()), ("user: hi", "team-a"));
    assert_eq!((record.exchange.user, record.exchange.session), (None, None));
}

#[test]
fn files_of_a_newer_build_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("records.db");
    let conn = file_at(&path, MIGRATIONS.len());
    conn.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1).expect("version");
    drop(conn);
    assert!(matches!(Store::open(&path), Err(Error::SchemaTooNew { found: 9, supported: 8 })));
}
