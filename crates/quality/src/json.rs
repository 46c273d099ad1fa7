//! JSON output: valid as a whole, extractable from fences or prose, and
//! valid against the request's JSON Schema.

use serde_json::Value;

use crate::schema::Schema;
use crate::{Error, Input, JsonChecks, Result, Score, Scorer};

/// How many `{` or `[` positions we try when looking for JSON in prose;
/// bounds the work on adversarial input.
const MAX_CANDIDATES: usize = 64;

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

/// The first JSON object or array in `text`: inside a ``` fence first, else
/// the first `{` or `[` that starts a complete value.
pub fn extract(text: &str) -> Option<Value> {
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').map_or(0, |idx| idx + 1);
        let Some(close) = after[body_start..].find("```") else {
            break;
        };
        let body = after[body_start..body_start + close].trim();
        if let Ok(value) = serde_json::from_str::<Value>(body) {
            return Some(value);
        }
        rest = &after[body_start + close + 3..];
    }
    text.match_indices(['{', '['])
        .take(MAX_CANDIDATES)
        .find_map(|(idx, _)| {
            serde_json::Deserializer::from_str(&text[idx..]).into_iter::<Value>().next().and_then(Result::ok)
        })
        .filter(|value| value.is_object() || value.as_array().is_some_and(|items| !items.is_empty()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(response: &str, schema: Option<Value>, expect: (bool, bool, bool)) {
        let checks = Json.check(response, schema.as_ref()).expect("schemas in tests are valid");
        assert_eq!((checks.json_valid, checks.json_extractable, checks.schema_valid), expect, "{response:?}");
    }

    #[test]
    fn finds_json_whole_fenced_or_in_prose() {
        check(r#"{"a": 1}"#, None, (true, true, true));
        check("Here you go:\n```json\n{\"a\": 1}\n```\nDone.", None, (false, true, true));
        check(r#"The result is {"a": 1} as requested."#, None, (false, true, true));
        check("No JSON here, just [brackets and {braces.", None, (false, false, false));
        check("", None, (false, false, false));
    }

    #[test]
    fn checks_the_schema_of_what_it_found() {
        let schema = json!({"type": "object", "required": ["a"]});
        check(r#"{"b": 1}"#, Some(schema.clone()), (true, true, false));
        check(r#"prose {"a": 1}"#, Some(schema), (false, true, true));
    }

    #[test]
    fn rejects_invalid_schemas() {
        let schema = json!({"type": 5});
        assert!(Json.check("{}", Some(&schema)).is_err());
    }
}
