//! JSON output: valid as a whole, extractable from fences or prose (both
//! by a strict parser), and valid against the request's JSON Schema.

use serde_json::Value;

use crate::schema::Schema;
use crate::{Error, Input, JsonChecks, Result, Score, Scorer};

/// How many bracketed regions of prose we scan that run to the end of the
/// text without closing; bounds the work on adversarial input (each such
/// scan reads the rest of the text).
const MAX_OPEN_REGIONS: usize = 64;

/// The JSON scorer. Its score is validity: 1 for a response that is valid
/// JSON satisfying the schema, less for JSON that had to be extracted, 0
/// for none.
#[derive(Debug, Default)]
pub struct Json;

impl Json {
    /// Checks `response` against an optional schema.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSchema`] when `schema` is not a schema we can check.
    pub fn check(&self, response: &str, schema: Option<&Value>) -> Result<JsonChecks> {
        let compiled = schema.map(Schema::compile).transpose()?;
        let whole = serde_json::from_str::<Value>(response.trim()).ok();
        let json_valid = whole.is_some();
        let extracted = whole.or_else(|| extract(response));
        let json_extractable = extracted.is_some();
        let schema_valid = match (&extracted, &compiled) {
            (Some(value), Some(schema)) => schema.is_valid(value),
            (Some(_), None) => true,
            (None, _) => false,
        };
        Ok(JsonChecks { json_valid, json_extractable, schema_valid })
    }
}

impl Scorer for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn score(&self, input: &Input<'_>) -> Result<Score> {
        let text = input.response_side().ok_or(Error::MissingField { field: "response|text" })?;
        let checks = self.check(text, input.schema)?;
        let value = match (checks.json_valid, checks.json_extractable, checks.schema_valid) {
            (true, _, true) => 1.0,
            (false, true, true) => 0.75,
            (_, true, false) => 0.25,
            _ => 0.0,
        };
        let mut score = Score::new("json", value, checks.json_extractable && checks.schema_valid);
        score.json = Some(checks);
        Ok(score)
    }
}

/// The first JSON value in `text` that a strict parser (serde_json: no
/// trailing commas, comments, single quotes, unquoted keys or `NaN`) accepts
/// whole: the body of a ``` fence (```json or bare) first, else the first
/// bracketed region of prose that is an object or a non-empty array.
///
/// A region is a `{` or `[` with its matching closer (brackets inside JSON
/// strings do not count). A region that fails to parse is skipped whole, so
/// a broken document never yields one of its nested values.
pub fn extract(text: &str) -> Option<Value> {
    fenced(text).or_else(|| in_prose(text))
}

fn fenced(text: &str) -> Option<Value> {
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').map_or(0, |idx| idx + 1);
        let close = after[body_start..].find("```")?;
        let body = after[body_start..body_start + close].trim();
        if let Ok(value) = serde_json::from_str::<Value>(body) {
            return Some(value);
        }
        rest = &after[body_start + close + 3..];
    }
    None
}

fn in_prose(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut from = 0;
    let mut open_regions = 0;
    while let Some(offset) = bytes[from..].iter().position(|byte| matches!(byte, b'{' | b'[')) {
        let start = from + offset;
        match region(bytes, start) {
            Region::Closed(end) => {
                let value = serde_json::from_str::<Value>(&text[start..end]).ok();
                if let Some(value) =
                    value.filter(|value| value.is_object() || value.as_array().is_some_and(|items| !items.is_empty()))
                {
                    return Some(value);
                }
                from = end;
            }
            Region::Mismatched(at) => from = at + 1,
            // A region that opens like JSON and never closes is a truncated
            // document: whatever follows is inside it.
            Region::Open if opens_like_json(bytes, start) => return None,
            Region::Open => {
                open_regions += 1;
                if open_regions == MAX_OPEN_REGIONS {
                    return None;
                }
                from = start + 1;
            }
        }
    }
    None
}

/// How a bracketed region starting at an opener ends.
enum Region {
    /// At this byte offset, one past its matching closer.
    Closed(usize),
    /// At this byte offset, a closer of the wrong kind.
    Mismatched(usize),
    /// Not before the end of the text.
    Open,
}

fn region(bytes: &[u8], start: usize) -> Region {
    let mut closers = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (idx, &byte) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => closers.push(b'}'),
            b'[' => closers.push(b']'),
            b'}' | b']' => {
                if closers.pop() != Some(byte) {
                    return Region::Mismatched(idx);
                }
                if closers.is_empty() {
                    return Region::Closed(idx + 1);
                }
            }
            _ => {}
        }
    }
    Region::Open
}

/// The opener at `start` is followed by what strict JSON allows there: a
/// key or `}` after `{`, a value or `]` after `[`.
fn opens_like_json(bytes: &[u8], start: usize) -> bool {
    let next = bytes[start + 1..].iter().find(|byte| !byte.is_ascii_whitespace());
    match (bytes[start], next) {
        (b'{', Some(b'"' | b'}')) => true,
        (b'[', Some(byte)) => matches!(byte, b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' | b']'),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
