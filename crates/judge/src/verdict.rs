//! Reading a judge's answer: a JSON object with a score in `[0, 1]`, one of
//! the rubric's labels and a reason, or a [`Failure`], never a guess.
//!
//! Strict first (the whole answer is the object, as JSON mode gives); then
//! tolerant (the object inside a ``` fence or in prose, as chatty models
//! give). A score outside `[0, 1]` (a judge answering on a 1–10 scale) is
//! an error, not something to rescale.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Failure, Rubric};

/// Longest reason kept, in characters.
const MAX_REASON_CHARS: usize = 300;

/// What a judge said about one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// In `[0, 1]`, higher is better.
    pub score: f64,
    /// One of the rubric's two labels.
    pub label: String,
    /// The judge's reason, one sentence, at most 300 characters.
    pub reason: String,
}

impl Verdict {
    /// Whether the rubric's failing label was given.
    pub fn failed(&self, rubric: &Rubric) -> bool {
        self.label == rubric.labels[1]
    }
}

/// The verdict in `answer`.
pub(crate) fn parse(answer: &str, rubric: &Rubric) -> Result<Verdict, Failure> {
    let object = match serde_json::from_str::<Value>(answer.trim()) {
        Ok(value @ Value::Object(_)) => value,
        _ => quality::json::extract(answer)
            .filter(Value::is_object)
            .ok_or_else(|| Failure::Unparseable("no JSON object in the answer".to_string()))?,
    };
    let score = match object.get("score") {
        Some(Value::Number(number)) => number.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(text)) => text.trim().parse::<f64>().map_err(|_| Failure::OutOfRange(text.clone()))?,
        Some(other) => return Err(Failure::OutOfRange(other.to_string())),
        None => return Err(Failure::Unparseable("no \"score\"".to_string())),
    };
    if !(0.0..=1.0).contains(&score) {
        return Err(Failure::OutOfRange(score.to_string()));
    }
    let label = match object.get("label").and_then(Value::as_str) {
        Some(label) => rubric
            .labels
            .iter()
            .find(|known| known.eq_ignore_ascii_case(label.trim()))
            .cloned()
            .ok_or_else(|| Failure::Unparseable(format!("label {label:?} is not one of the rubric's")))?,
        None => rubric.labels[usize::from(score < 0.5)].clone(),
    };
    let reason: String = object
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_REASON_CHARS)
        .collect();
    Ok(Verdict { score, label, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(answer: &str, expect: Result<(f64, &str), &str>) {
        let rubric = Rubric::built_in("correctness").expect("built in");
        let got = parse(answer, &rubric).map(|v| (v.score, v.label)).map_err(|f| f.reason());
        let expect = expect.map(|(score, label)| (score, label.to_string()));
        assert_eq!(got, expect, "{answer:?}");
    }

    #[test]
    fn strict_and_tolerant_answers_parse() {
        check(r#"{"score": 1, "label": "correct", "reason": "Matches."}"#, Ok((1.0, "correct")));
        check("Sure!\n```json\n{\"score\": 0.2, \"label\": \"Incorrect\"}\n```", Ok((0.2, "incorrect")));
        check(r#"My verdict: {"score": "0.75", "reason": "Mostly."} Hope that helps."#, Ok((0.75, "correct")));
        check(r#"{"score": 0.3}"#, Ok((0.3, "incorrect")));
    }

    #[test]
    fn anything_else_is_a_failure_by_reason() {
        check("The answer looks right to me.", Err("unparseable"));
        check(r#"{"label": "correct"}"#, Err("unparseable"));
        check(r#"{"score": 8, "label": "correct"}"#, Err("out_of_range"));
        check(r#"{"score": -0.1}"#, Err("out_of_range"));
        check(r#"{"score": "high"}"#, Err("out_of_range"));
        check(r#"{"score": null}"#, Err("out_of_range"));
        check(r#"{"score": 0.9, "label": "great"}"#, Err("unparseable"));
        check("[1, 2]", Err("unparseable"));
        check("", Err("unparseable"));
    }

    #[test]
    fn reasons_are_bounded() {
        let rubric = Rubric::built_in("relevance").expect("built in");
        let long = "x".repeat(5000);
        let verdict = parse(&format!(r#"{{"score": 1, "reason": "{long}"}}"#), &rubric).expect("parses");
        assert_eq!(verdict.reason.chars().count(), MAX_REASON_CHARS);
    }
}
