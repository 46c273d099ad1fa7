//! Evaluation of the scorers on labelled JSONL sets: precision, recall, F1
//! and, where a score exists, AUROC, per scorer; span F1 for PII, exact
//! (`pii-spans`) and by overlap (`pii-overlap`); and for JSON each of the
//! three verdicts (`json-valid`, `json-extract`, `json-schema`).
//!
//! Each set is `<dir>/<scorer>.jsonl` with the scorer's input fields plus
//! `label` (0 or 1); `pii.jsonl` also has gold `spans` and may mark hard
//! negatives with `"hard_negative": true`; `json.jsonl` may have the gold
//! verdicts `json_valid`, `json_extractable` and `schema_valid`;
//! `drift.jsonl` has `baseline`, `current` and `label`. Missing sets are
//! skipped.

use std::fmt;
use std::fs;
use std::path::Path;

use serde_json::{Map, Value};

use crate::drift::Drift;
use crate::{Error, Input, PiiType, Registry, Result, SCORER_NAMES};

/// Figures for one scorer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerReport {
    /// The scorer (or `drift`, or `pii-spans`).
    pub scorer: String,
    /// Labelled examples read.
    pub examples: usize,
    /// Precision of the label.
    pub precision: f64,
    /// Recall of the label.
    pub recall: f64,
    /// F1 of the label.
    pub f1: f64,
    /// Area under the ROC curve of the score, when both classes occur.
    pub auroc: Option<f64>,
    /// Positives predicted on examples marked as hard negatives.
    pub hard_negative_false_positives: Option<usize>,
    /// Ids of the misclassified examples, for error analysis.
    pub misses: Vec<String>,
}

/// Figures for every set found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One entry per scorer evaluated.
    pub scorers: Vec<ScorerReport>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:>6} {:>9} {:>7} {:>6} {:>6}  hard-neg FP",
            "scorer", "n", "precision", "recall", "F1", "AUROC"
        )?;
        for row in &self.scorers {
            let auroc = row.auroc.map_or_else(|| "-".to_string(), |auroc| format!("{auroc:.3}"));
            let hard = row.hard_negative_false_positives.map_or_else(|| "-".to_string(), |count| count.to_string());
            writeln!(
                f,
                "{:<12} {:>6} {:>9.3} {:>7.3} {:>6.3} {:>6}  {}",
                row.scorer, row.examples, row.precision, row.recall, row.f1, auroc, hard
            )?;
        }
        Ok(())
    }
}

/// Evaluates every scorer whose set exists under `dir`.
///
/// # Errors
///
/// [`Error::Read`] when a set exists but cannot be read; a line that is
/// not a valid example makes [`Error::InvalidJson`] or
/// [`Error::MissingField`].
pub fn run(dir: &Path) -> Result<Report> {
    let registry = Registry::new();
    let mut report = Report::default();
    for name in SCORER_NAMES {
        let Some(examples) = read_set(&dir.join(format!("{name}.jsonl")))? else {
            continue;
        };
        let scorer = registry.scorer(name)?;
        let mut outcomes = Vec::with_capacity(examples.len());
        let mut hard_fp = 0;
        let mut has_hard = false;
        let mut span_counts = SpanCounts::default();
        let mut json_fields: [Vec<(bool, bool, f64)>; 3] = Default::default();
        let mut json_misses: [Vec<String>; 3] = Default::default();
        let mut misses = Vec::new();
        for example in &examples {
            let label =
                example.get("label").and_then(Value::as_u64).ok_or(Error::MissingField { field: "label" })? == 1;
            let samples: Vec<String> =
                example.get("samples").and_then(Value::as_array).map_or_else(Vec::new, |items| {
                    items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect()
                });
            let input = Input {
                text: example.get("text").and_then(Value::as_str),
                prompt: example.get("prompt").and_then(Value::as_str),
                response: example.get("response").and_then(Value::as_str),
                samples: &samples,
                reference: example.get("reference").and_then(Value::as_str),
                schema: example.get("schema"),
            };
            let score = scorer.score(&input)?;
            if example.get("hard_negative").and_then(Value::as_bool) == Some(true) {
                has_hard = true;
                hard_fp += usize::from(score.label);
            }
            if name == "pii" {
                let found: Vec<GoldSpan> = score.spans.iter().map(|span| (span.start, span.end, span.kind)).collect();
                span_counts.add(&gold_spans(example), &found);
            }
            if let Some(checks) = score.json {
                let verdicts = [checks.json_valid, checks.json_extractable, checks.schema_valid];
                for (idx, field) in JSON_FIELDS.iter().enumerate() {
                    if let Some(gold) = example.get(*field).and_then(Value::as_bool) {
                        json_fields[idx].push((gold, verdicts[idx], f64::from(u8::from(verdicts[idx]))));
                        if gold != verdicts[idx] {
                            json_misses[idx].push(example_id(example));
                        }
                    }
                }
            }
            outcomes.push((label, score.label, score.value));
            if label != score.label {
                misses.push(example_id(example));
            }
        }
        let mut row = summarize(name, &outcomes);
        row.misses = misses;
        row.hard_negative_false_positives = has_hard.then_some(hard_fp);
        report.scorers.push(row);
        if name == "pii" {
            report.scorers.push(span_report("pii-spans", span_counts.exact));
            report.scorers.push(span_report("pii-overlap", span_counts.overlap));
        }
        for ((row_name, outcomes), misses) in JSON_ROWS.iter().zip(&json_fields).zip(json_misses) {
            if !outcomes.is_empty() {
                let mut row = summarize(row_name, outcomes);
                row.auroc = None;
                row.misses = misses;
                report.scorers.push(row);
            }
        }
    }
    if let Some(examples) = read_set(&dir.join("drift.jsonl"))? {
        let drift = Drift::default();
        let mut outcomes = Vec::with_capacity(examples.len());
        let mut misses = Vec::new();
        for example in &examples {
            let label =
                example.get("label").and_then(Value::as_u64).ok_or(Error::MissingField { field: "label" })? == 1;
            let baseline = exchanges(example.get("baseline"));
            let current = exchanges(example.get("current"));
            let verdict = drift.test(&baseline, &current);
            outcomes.push((label, verdict.drift, verdict.score));
            if label != verdict.drift {
                misses.push(example_id(example));
            }
        }
        let mut row = summarize("drift", &outcomes);
        row.misses = misses;
        report.scorers.push(row);
    }
    Ok(report)
}

/// The gold verdicts a JSON example may carry, in [`crate::JsonChecks`] order.
const JSON_FIELDS: [&str; 3] = ["json_valid", "json_extractable", "schema_valid"];
/// The report rows of those verdicts.
const JSON_ROWS: [&str; 3] = ["json-valid", "json-extract", "json-schema"];

/// True positives, false positives and false negatives of PII spans, counted
/// two ways: a found span matches a gold one when both bounds and the type
/// agree (`exact`), or when they overlap and the type agrees (`overlap`).
#[derive(Debug, Default)]
struct SpanCounts {
    exact: (usize, usize, usize),
    overlap: (usize, usize, usize),
}

type GoldSpan = (usize, usize, PiiType);

impl SpanCounts {
    fn add(&mut self, gold: &[GoldSpan], found: &[GoldSpan]) {
        count_spans(&mut self.exact, gold, found, |a, b| a == b);
        count_spans(&mut self.overlap, gold, found, |a, b| a.2 == b.2 && a.0 < b.1 && b.0 < a.1);
    }
}

fn count_spans(
    counts: &mut (usize, usize, usize),
    gold: &[GoldSpan],
    found: &[GoldSpan],
    matches: fn(&GoldSpan, &GoldSpan) -> bool,
) {
    let matched = found.iter().filter(|span| gold.iter().any(|gold| matches(gold, span))).count();
    counts.0 += matched;
    counts.1 += found.len() - matched;
    counts.2 += gold.iter().filter(|gold| !found.iter().any(|span| matches(gold, span))).count();
}

fn span_report(scorer: &str, (tp, fp, fn_): (usize, usize, usize)) -> ScorerReport {
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    ScorerReport {
        scorer: scorer.into(),
        examples: tp + fn_,
        precision,
        recall,
        f1: f1(precision, recall),
        auroc: None,
        hard_negative_false_positives: None,
        misses: Vec::new(),
    }
}

fn read_set(path: &Path) -> Result<Option<Vec<Map<String, Value>>>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Read { source }),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err(Error::WrongType { field: "line", expected: "a JSON object" }),
            Err(source) => Err(Error::InvalidJson { source }),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn gold_spans(example: &Map<String, Value>) -> Vec<GoldSpan> {
    example.get("spans").and_then(Value::as_array).map_or_else(Vec::new, |spans| {
        spans
            .iter()
            .filter_map(|span| {
                let start = span.get("start")?.as_u64()? as usize;
                let end = span.get("end")?.as_u64()? as usize;
                let kind = PiiType::parse(span.get("type")?.as_str()?)?;
                Some((start, end, kind))
            })
            .collect()
    })
}

fn exchanges(value: Option<&Value>) -> Vec<crate::drift::Exchange> {
    value.and_then(Value::as_array).map_or_else(Vec::new, |items| {
        items
            .iter()
            .map(|item| crate::drift::Exchange {
                prompt: item.get("prompt").and_then(Value::as_str).unwrap_or_default().to_string(),
                response: item.get("response").and_then(Value::as_str).unwrap_or_default().to_string(),
            })
            .collect()
    })
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 { 0.0 } else { numerator as f64 / denominator as f64 }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) }
}

/// Precision, recall, F1 and AUROC of `(gold, predicted, score)` triples.
pub fn summarize(scorer: &str, outcomes: &[(bool, bool, f64)]) -> ScorerReport {
    let tp = outcomes.iter().filter(|(gold, predicted, _)| *gold && *predicted).count();
    let fp = outcomes.iter().filter(|(gold, predicted, _)| !*gold && *predicted).count();
    let fn_ = outcomes.iter().filter(|(gold, predicted, _)| *gold && !*predicted).count();
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    ScorerReport {
        scorer: scorer.to_string(),
        examples: outcomes.len(),
        precision,
        recall,
        f1: f1(precision, recall),
        auroc: auroc(outcomes),
        hard_negative_false_positives: None,
        misses: Vec::new(),
    }
}

fn example_id(example: &Map<String, Value>) -> String {
    match example.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(other) => other.to_string(),
        None => "?".to_string(),
    }
}

/// AUROC by the rank-sum formula, ties counted half.
fn auroc(outcomes: &[(bool, bool, f64)]) -> Option<f64> {
    let positives: Vec<f64> = outcomes.iter().filter(|outcome| outcome.0).map(|outcome| outcome.2).collect();
    let negatives: Vec<f64> = outcomes.iter().filter(|outcome| !outcome.0).map(|outcome| outcome.2).collect();
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut sorted = negatives.clone();
    sorted.sort_by(f64::total_cmp);
    let wins: f64 = positives
        .iter()
        .map(|&score| {
            let below = sorted.partition_point(|&negative| negative < score);
            let at_or_below = sorted.partition_point(|&negative| negative <= score);
            below as f64 + 0.5 * (at_or_below - below) as f64
        })
        .sum();
    Some(wins / (positives.len() * negatives.len()) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_ranking_has_auroc_one() {
        let outcomes = [(true, true, 0.9), (false, false, 0.1), (true, true, 0.8), (false, true, 0.7)];
        let row = summarize("x", &outcomes);
        assert_eq!(row.auroc, Some(1.0));
        assert!((row.precision - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(row.recall, 1.0);
    }
}
