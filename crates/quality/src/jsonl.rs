//! The offline contract of `infersight score` and `infersight drift`
//! (DESIGN.md §7): JSONL in, JSONL out, one output line per input line, `id`
//! copied through. A bad line becomes an error line and the run goes on; the
//! summary counts the failures so the binary can exit 1.

use std::io::{BufRead, Write};

use serde_json::{Map, Value, json};

use crate::drift::{Drift, Exchange};
use crate::{Error, Input, Registry, Result, Score, Scorer};

/// What a JSONL run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Input lines read (each produced one output line).
    pub lines: u64,
    /// Lines that produced a result.
    pub scored: u64,
    /// Lines that produced an error line.
    pub failed: u64,
}

/// Scores every line of `reader` with the scorer `scorer_name` and writes
/// one result or error line per input line to `writer`.
///
/// # Errors
///
/// [`Error::UnknownScorer`] before reading anything, [`Error::Read`] or
/// [`Error::Write`] on I/O failure. Bad lines are not errors of the run:
/// they are written as `{"id": ..., "error": "..."}` and counted in
/// [`RunSummary::failed`].
pub fn score_jsonl(scorer_name: &str, reader: impl BufRead, writer: impl Write) -> Result<RunSummary> {
    let scorer = Registry::build(scorer_name)?;
    run_lines(reader, writer, |object| score_line(&*scorer, object))
}

/// Runs the drift test on every line of `reader` (each with `baseline` and
/// `current` lists of `{"prompt", "response"}`) and writes
/// `{"id", "drift": 0|1, "score", "p_value", "views": {view: p}}` per line,
/// the views' p-values before the correction for testing several, to `writer`.
///
/// # Errors
///
/// [`Error::Read`] or [`Error::Write`] on I/O failure; bad lines become
/// error lines, as in [`score_jsonl`].
pub fn drift_jsonl(reader: impl BufRead, writer: impl Write) -> Result<RunSummary> {
    let drift = Drift::default();
    run_lines(reader, writer, |object| drift_line(&drift, object))
}

/// The output object of one score, without the `id`.
pub fn score_to_json(score: &Score) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("label".into(), json!(u8::from(score.label)));
    out.insert("score".into(), json!(score.value));
    out.insert("version".into(), json!(score.version));
    if !score.cues.is_empty() {
        let cues: Vec<Value> = score.cues.iter().map(|cue| json!({"start": cue.start, "end": cue.end})).collect();
        out.insert("evidence".into(), Value::Array(cues));
    }
    if score.scorer == "pii" {
        out.insert("spans".into(), serde_json::to_value(&score.spans).unwrap_or(Value::Null));
    }
    if let Some(checks) = score.json {
        out.insert("json_valid".into(), json!(checks.json_valid));
        out.insert("json_extractable".into(), json!(checks.json_extractable));
        out.insert("schema_valid".into(), json!(checks.schema_valid));
    }
    out
}

fn run_lines(
    mut reader: impl BufRead,
    mut writer: impl Write,
    mut handle: impl FnMut(&Map<String, Value>) -> Result<Map<String, Value>>,
) -> Result<RunSummary> {
    let mut summary = RunSummary::default();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer).map_err(|source| Error::Read { source })?;
        if read == 0 {
            break;
        }
        summary.lines += 1;
        let (id, result) = match parse_line(&buffer) {
            Ok(object) => {
                let id = object.get("id").cloned().unwrap_or(Value::Null);
                (id, handle(&object))
            }
            Err(err) => (Value::Null, Err(err)),
        };
        let mut out = Map::new();
        out.insert("id".into(), id);
        match result {
            Ok(fields) => {
                summary.scored += 1;
                out.extend(fields);
            }
            Err(err) => {
                summary.failed += 1;
                out.insert("error".into(), Value::String(error_chain(&err)));
            }
        }
        serde_json::to_writer(&mut writer, &Value::Object(out))
            .map_err(|source| Error::Write { source: source.into() })?;
        writer.write_all(b"\n").map_err(|source| Error::Write { source })?;
    }
    writer.flush().map_err(|source| Error::Write { source })?;
    Ok(summary)
}

fn parse_line(bytes: &[u8]) -> Result<Map<String, Value>> {
    let text = std::str::from_utf8(bytes).map_err(|err| Error::InvalidUtf8 { offset: err.valid_up_to() })?;
    let text = text.trim_end_matches(['\n', '\r']);
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::WrongType { field: "line", expected: "a JSON object" }),
        Err(source) => Err(Error::InvalidJson { source }),
    }
}

fn error_chain(err: &Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    message
}

fn string_field<'a>(object: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Error::WrongType { field, expected: "a string" }),
    }
}

fn score_line(scorer: &dyn Scorer, object: &Map<String, Value>) -> Result<Map<String, Value>> {
    let samples: Vec<String> = match object.get("samples") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or(Error::WrongType { field: "samples", expected: "a list of strings" })
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(Error::WrongType { field: "samples", expected: "a list of strings" }),
    };
    let reference_text = match object.get("reference") {
        Some(Value::Number(number)) => Some(number.to_string()),
        Some(Value::Bool(flag)) => Some(flag.to_string()),
        _ => None,
    };
    let reference = match reference_text.as_deref() {
        Some(text) => Some(text),
        None => string_field(object, "reference")?,
    };
    let schema = match object.get("schema") {
        None | Some(Value::Null) => None,
        Some(schema) => Some(schema),
    };
    let input = Input {
        text: string_field(object, "text")?,
        prompt: string_field(object, "prompt")?,
        response: string_field(object, "response")?,
        samples: &samples,
        reference,
        schema,
    };
    Ok(score_to_json(&scorer.score(&input)?))
}

fn exchanges(object: &Map<String, Value>, field: &'static str) -> Result<Vec<Exchange>> {
    let items = match object.get(field) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(Error::MissingField { field }),
        Some(_) => return Err(Error::WrongType { field, expected: "a list of {\"prompt\", \"response\"} objects" }),
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(pair) => Ok(Exchange {
                prompt: string_field(pair, "prompt")?.unwrap_or_default().to_string(),
                response: string_field(pair, "response")?.unwrap_or_default().to_string(),
            }),
            Value::String(text) => Ok(Exchange { prompt: String::new(), response: text.clone() }),
            _ => Err(Error::WrongType { field, expected: "a list of {\"prompt\", \"response\"} objects" }),
        })
        .collect()
}

fn drift_line(drift: &Drift, object: &Map<String, Value>) -> Result<Map<String, Value>> {
    let baseline = exchanges(object, "baseline")?;
    let current = exchanges(object, "current")?;
    let report = drift.test(&baseline, &current);
    let mut out = Map::new();
    out.insert("drift".into(), json!(u8::from(report.drift)));
    out.insert("score".into(), json!(report.score));
    out.insert("p_value".into(), json!(report.p_value));
    let views: Map<String, Value> =
        report.views.iter().map(|view| (view.view.to_owned(), json!(view.p_value))).collect();
    out.insert("views".into(), Value::Object(views));
    Ok(out)
}
