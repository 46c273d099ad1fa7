//! `/api/v1/infersight/annotations`: deploy markers and other events, kept in the records store and written as a series for Grafana.
//!
//! `POST` stores `{"time", "text", "tags", "model"}` and appends one
//! sample of `infersight_annotation{text, tags, gen_ai_request_model}` at
//! the annotation's time whose value is that time in seconds, so a Grafana
//! annotation query on `infersight_annotation` with "series value as
//! timestamp" puts one marker where it happened. `GET` lists them in a range.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use records::AnnotationRecord;
use serde::Deserialize;
use series::LabelRef;

use crate::clock::now_ms;
use crate::params::{Params, parse_time};
use crate::{ApiState, Error, Result, Success};

/// The series each annotation is written to.
pub const SERIES: &str = "infersight_annotation";
/// Longest text kept, in characters.
const MAX_TEXT_CHARS: usize = 1_000;
/// Most tags, and the longest tag.
const MAX_TAGS: usize = 10;
const MAX_TAG_CHARS: usize = 64;
/// The range `GET` lists without `start`: the day before `end`.
const DEFAULT_RANGE_MS: i64 = 86_400_000;

/// What a client posts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Posted {
    /// Unix seconds or RFC 3339; now without it.
    time: Option<serde_json::Value>,
    text: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    model: String,
}

/// `POST /api/v1/infersight/annotations`: stores an annotation and writes its sample.
pub(crate) async fn post(
    State(state): State<ApiState>,
    body: std::result::Result<Json<Posted>, JsonRejection>,
) -> Result<Success<AnnotationRecord>> {
    let Json(posted) = body.map_err(|rejection| bad(rejection.body_text()))?;
    let store = state.records.clone().ok_or(Error::NoRecords)?;
    let time_ms = match &posted.time {
        None | Some(serde_json::Value::Null) => now_ms(),
        Some(serde_json::Value::Number(n)) => {
            n.as_f64().and_then(|s| parse_time(&s.to_string())).ok_or_else(|| bad(format!("time {n} is not a time")))?
        }
        Some(serde_json::Value::String(s)) => {
            parse_time(s).ok_or_else(|| bad(format!("time {s:?} is neither RFC 3339 nor Unix seconds")))?
        }
        Some(other) => return Err(bad(format!("time {other} is neither RFC 3339 nor Unix seconds"))),
    };
    let text = posted.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(bad(format!("text must be 1 to {MAX_TEXT_CHARS} characters")));
    }
    if posted.tags.len() > MAX_TAGS
        || posted.tags.iter().any(|t| t.is_empty() || t.chars().count() > MAX_TAG_CHARS || t.contains(','))
    {
        return Err(bad(format!("tags: at most {MAX_TAGS}, each 1 to {MAX_TAG_CHARS} characters without commas")));
    }
    let record = AnnotationRecord { id: 0, time_ms, text, tags: posted.tags, model: posted.model };
    let appendable = state.appendable.clone();
    let record = tokio::task::spawn_blocking(move || record_annotation(&store, appendable.as_deref(), record))
        .await
        .map_err(|source| Error::Task { source })??;
    Ok(Success::new(record))
}

/// Stores an annotation and, given a store of series, appends its sample
/// of [`SERIES`]: what `POST /api/v1/infersight/annotations` does, for
/// callers in process (the demo's deploy markers). Returns it with its id.
///
/// # Errors
///
/// [`Error::Records`] when the records store fails, or the series store's error.
pub fn record_annotation(
    store: &records::Store,
    appendable: Option<&dyn series::Appendable>,
    mut record: AnnotationRecord,
) -> Result<AnnotationRecord> {
    record.id = store.insert_annotation(&record).map_err(Error::Records)?;
    if let Some(appendable) = appendable {
        append(appendable, &record)?;
    }
    Ok(record)
}

/// Appends the annotation's sample; labels with empty values are left out, as the store requires.
fn append(appendable: &dyn series::Appendable, record: &AnnotationRecord) -> Result<()> {
    let tags = record.tags.join(",");
    let mut labels: Vec<LabelRef<'_>> = vec![LabelRef::new("__name__", SERIES), LabelRef::new("text", &record.text)];
    if !tags.is_empty() {
        labels.push(LabelRef::new("tags", &tags));
    }
    if !record.model.is_empty() {
        labels.push(LabelRef::new("gen_ai_request_model", &record.model));
    }
    labels.sort_by(|a, b| a.name.cmp(b.name));
    let mut appender = appendable.appender();
    appender.append(&labels, record.time_ms, record.time_ms as f64 / 1000.0);
    appender.commit()?;
    Ok(())
}

/// `GET /api/v1/infersight/annotations`: those from `start` (default a day
/// before `end`) to `end` (default now), of `model` when given, oldest
/// first, at most `limit` (default 100, at most 1000).
pub(crate) async fn list(State(state): State<ApiState>, params: Params) -> Result<Success<Vec<AnnotationRecord>>> {
    let store: Arc<records::Store> = state.records.clone().ok_or(Error::NoRecords)?;
    let end = params.time("end", now_ms())?;
    let start = params.time("start", end - DEFAULT_RANGE_MS)?;
    let limit = params.limit()?.unwrap_or(100).min(1000);
    let model = params.value("model").map(str::to_owned);
    let found = tokio::task::spawn_blocking(move || store.annotations(start, end, model.as_deref(), limit))
        .await
        .map_err(|source| Error::Task { source })?
        .map_err(Error::Records)?;
    Ok(Success::new(found))
}

fn bad(message: String) -> Error {
    Error::InvalidFilter { message }
}

#[cfg(test)]
mod tests;
