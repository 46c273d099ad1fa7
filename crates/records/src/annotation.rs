//! Annotations: deploy markers and other events people or pipelines post, kept to show on charts.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Store};

/// One annotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotationRecord {
    /// Its id in the store (0 before it is stored).
    pub id: i64,
    /// When it happened, in ms since the epoch.
    pub time_ms: i64,
    /// What happened ("deployed llama-3.1-8b fp8").
    pub text: String,
    /// Free-form tags (`deploy`, `canary`).
    pub tags: Vec<String>,
    /// The model it concerns; empty for none.
    pub model: String,
}

impl Store {
    /// Stores an annotation; returns its id.
    pub fn insert_annotation(&self, annotation: &AnnotationRecord) -> Result<i64> {
        let tags = serde_json::to_string(&annotation.tags).map_err(Error::Tags)?;
        let conn = self.writer.lock();
        conn.prepare_cached("INSERT INTO annotations (time_ms, text, tags, model) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![annotation.time_ms, annotation.text, tags, annotation.model])?;
        Ok(conn.last_insert_rowid())
    }

    /// Annotations from `start_ms` to `end_ms` (inclusive), oldest first,
    /// at most `limit`; only those of `model` when given.
    pub fn annotations(
        &self,
        start_ms: i64,
        end_ms: i64,
        model: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AnnotationRecord>> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, time_ms, text, tags, model FROM annotations
             WHERE time_ms >= ?1 AND time_ms <= ?2 AND (?3 IS NULL OR model = ?3)
             ORDER BY time_ms, id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![start_ms, end_ms, model, limit as i64], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, String>(3)?, row.get(4)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, time_ms, text, tags, model) = row?;
            out.push(AnnotationRecord {
                id,
                time_ms,
                text,
                tags: serde_json::from_str(&tags).map_err(Error::Tags)?,
                model,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_come_back_in_their_range_and_by_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("records.db")).expect("open");
        let at = |time_ms: i64, model: &str| AnnotationRecord {
            id: 0,
            time_ms,
            text: format!("deploy at {time_ms}"),
            tags: vec!["deploy".into(), "canary".into()],
            model: model.into(),
        };
        for annotation in [at(3_000, "llama"), at(1_000, "qwen"), at(2_000, "llama"), at(9_000, "")] {
            store.insert_annotation(&annotation).expect("insert");
        }
        let all = store.annotations(1_000, 3_000, None, 100).expect("list");
        assert_eq!(all.iter().map(|a| a.time_ms).collect::<Vec<_>>(), [1_000, 2_000, 3_000]);
        assert_eq!(all[0].tags, ["deploy", "canary"]);
        let llama = store.annotations(0, 10_000, Some("llama"), 100).expect("list");
        assert_eq!(llama.iter().map(|a| a.time_ms).collect::<Vec<_>>(), [2_000, 3_000]);
        assert_eq!(store.annotations(0, 10_000, None, 2).expect("list").len(), 2);
    }
}
