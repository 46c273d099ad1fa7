//! `[quality]`: sampling, redaction and drift of the online quality pipeline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Problem, check, parse_duration};

/// `[quality]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawQuality {
    /// Share of successful exchanges scored; failed ones always are.
    pub score_rate: f64,
    /// Share of successful, unflagged exchanges kept in the records store.
    /// Errors and flagged exchanges are always kept.
    pub sample_rate: f64,
    /// Sample rates of particular models, by requested model name.
    pub model_sample_rates: BTreeMap<String, f64>,
    /// Most exchanges kept per model per minute, errors and flagged ones included.
    pub budget_per_minute: u32,
    /// Keep the (redacted) prompt and response text; `false` keeps timings,
    /// tokens and scores only.
    pub keep_text: bool,
    /// Extra regular expressions redacted as `[REDACTED]` before storage.
    pub redact_patterns: Vec<String>,
    /// Distinct model names with their own label value; later ones become `_other`.
    pub model_label_cap: usize,
    /// The drift test.
    pub drift: RawDrift,
    /// LLM judges (`[[quality.judge]]`).
    pub judge: Vec<super::judge::RawJudge>,
    /// TOML rubric files; a rubric replaces the built-in one of its name.
    pub rubric_files: Vec<std::path::PathBuf>,
    /// Label thresholds by scorer (`toxicity = 0.8`), in place of the
    /// defaults chosen on validation data (`infersight score` prints the
    /// probability a threshold applies to).
    pub thresholds: BTreeMap<String, f64>,
}

impl Default for RawQuality {
    fn default() -> Self {
        RawQuality {
            score_rate: 1.0,
            sample_rate: 0.1,
            model_sample_rates: BTreeMap::new(),
            budget_per_minute: 600,
            keep_text: true,
            redact_patterns: Vec::new(),
            model_label_cap: 100,
            drift: RawDrift::default(),
            thresholds: BTreeMap::new(),
            judge: Vec::new(),
            rubric_files: Vec::new(),
        }
    }
}

/// `[quality.drift]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDrift {
    /// How often the drift test runs.
    pub interval: String,
    /// Width of the current and the baseline window.
    pub window: String,
    /// How far back the baseline window ends ("7d": the same hour last week).
    pub baseline_offset: String,
    /// Fewer stored exchanges than this in either window: no verdict.
    pub min_exchanges: usize,
    /// Family-wise false-alarm rate of one test.
    pub alpha: f64,
}

impl Default for RawDrift {
    fn default() -> Self {
        RawDrift {
            interval: "1h".into(),
            window: "1h".into(),
            baseline_offset: "7d".into(),
            min_exchanges: 30,
            alpha: 0.01,
        }
    }
}

fn rate_problem(value: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) { Ok(()) } else { Err(format!("{value} is not a share between 0 and 1")) }
}

impl RawQuality {
    /// The pipeline's settings, or `None` after pushing each problem.
    pub fn validate(self, problems: &mut Vec<Problem>) -> Option<pipeline::Config> {
        let before = problems.len();
        check(problems, "quality.score_rate", rate_problem(self.score_rate));
        check(problems, "quality.sample_rate", rate_problem(self.sample_rate));
        for (model, rate) in &self.model_sample_rates {
            check(problems, &format!("quality.model_sample_rates.{model:?}"), rate_problem(*rate));
        }
        for (scorer, threshold) in &self.thresholds {
            let key = format!("quality.thresholds.{scorer}");
            if !quality::SCORER_NAMES.contains(&scorer.as_str()) {
                let known = quality::SCORER_NAMES.join(", ");
                problems.push(Problem { key, message: format!("no scorer is called {scorer:?}; known: {known}") });
            } else {
                check(problems, &key, rate_problem(*threshold));
            }
        }
        let patterns: Vec<regex::Regex> = self
            .redact_patterns
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                check(
                    problems,
                    &format!("quality.redact_patterns[{i}]"),
                    regex::Regex::new(p).map_err(|e| e.to_string()),
                )
            })
            .collect();
        if self.model_label_cap == 0 {
            problems.push(Problem { key: "quality.model_label_cap".into(), message: "must be positive".into() });
        }
        let mut duration = |key: &str, value: &str| {
            let parsed = check(problems, key, parse_duration(value));
            if parsed.is_some_and(|d| d.is_zero()) {
                problems.push(Problem { key: key.into(), message: "must be positive".into() });
            }
            parsed
        };
        let interval = duration("quality.drift.interval", &self.drift.interval);
        let window = duration("quality.drift.window", &self.drift.window);
        let offset = duration("quality.drift.baseline_offset", &self.drift.baseline_offset);
        if !(self.drift.alpha > 0.0 && self.drift.alpha < 1.0) {
            problems.push(Problem {
                key: "quality.drift.alpha".into(),
                message: format!("{} is not between 0 and 1", self.drift.alpha),
            });
        }
        if let (Some(window), Some(offset)) = (window, offset)
            && offset < window
        {
            problems.push(Problem {
                key: "quality.drift.baseline_offset".into(),
                message: format!("{offset:?} is shorter than the window ({window:?}): the windows would overlap"),
            });
        }
        if problems.len() > before {
            return None;
        }
        let (interval, window, baseline_offset) = (interval?, window?, offset?);
        Some(pipeline::Config {
            score_rate: self.score_rate,
            sample_rate: self.sample_rate,
            model_rates: self.model_sample_rates.into_iter().collect(),
            budget_per_minute: self.budget_per_minute,
            text: if self.keep_text { pipeline::TextPolicy::Redacted { patterns } } else { pipeline::TextPolicy::None },
            model_label_cap: self.model_label_cap,
            drift: pipeline::drift::Schedule {
                interval,
                window,
                baseline_offset,
                min_exchanges: self.drift.min_exchanges,
                alpha: self.drift.alpha,
                ..pipeline::drift::Schedule::default()
            },
            thresholds: self.thresholds.into_iter().collect(),
            judges: Vec::new(),
        })
    }
}
