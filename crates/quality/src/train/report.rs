//! The held-out figures the trainer prints: per scorer, on the whole test
//! split and on each test set, the learned scorer next to the rule-based
//! scorer it replaces, on the same examples.

use std::collections::BTreeMap;
use std::fmt;

use super::Scored;
use super::fit;
use crate::learned::Figures;

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The scorer.
    pub scorer: String,
    /// `all` or the test set (`xstest/gpt4`, `bipia-test/email/clean`).
    pub set: String,
    /// Positives among the examples.
    pub positives: usize,
    /// The learned scorer at its threshold.
    pub learned: Figures,
    /// Share of examples the learned scorer flags.
    pub learned_flagged: f64,
    /// The rule-based scorer at 0.5.
    pub rules: Figures,
    /// Share of examples the rule-based scorer flags.
    pub rules_flagged: f64,
}

/// Every line, scorer by scorer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The lines.
    pub rows: Vec<Row>,
}

impl Report {
    /// Adds the lines of one scorer: its test examples with the learned
    /// probability and label of each.
    pub(super) fn add(&mut self, scorer: &str, test: &[(&Scored, f64, bool)]) {
        let mut sets: BTreeMap<String, Vec<(&Scored, f64, bool)>> = BTreeMap::new();
        sets.insert("all".to_string(), test.to_vec());
        for &item in test {
            sets.entry(item.0.set.clone()).or_default().push(item);
            // Sets with subsets (`xstest/gpt4`) also get a line of their own.
            for (idx, _) in item.0.set.match_indices('/') {
                sets.entry(item.0.set[..idx].to_string()).or_default().push(item);
            }
        }
        for (set, items) in sets {
            let labels: Vec<bool> = items.iter().map(|t| t.0.label).collect();
            let learned: Vec<f64> = items.iter().map(|t| t.1).collect();
            let learned_labels: Vec<bool> = items.iter().map(|t| t.2).collect();
            let rules: Vec<f64> = items.iter().map(|t| t.0.rules).collect();
            let rules_labels: Vec<bool> = rules.iter().map(|&r| r >= 0.5).collect();
            let share = |flags: &[bool]| flags.iter().filter(|f| **f).count() as f64 / flags.len().max(1) as f64;
            self.rows.push(Row {
                scorer: scorer.to_string(),
                set,
                positives: labels.iter().filter(|l| **l).count(),
                learned: fit::figures(&learned, &labels, &learned_labels),
                learned_flagged: share(&learned_labels),
                rules: fit::figures(&rules, &labels, &rules_labels),
                rules_flagged: share(&rules_labels),
            });
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:<32} {:>5} {:>5} | {:>5} {:>5} {:>5} {:>6} {:>5} {:>6} | round 1: {:>5} {:>5} {:>5} {:>6} {:>5} {:>6}",
            "scorer",
            "test set",
            "n",
            "pos",
            "P",
            "R",
            "F1",
            "AUROC",
            "ECE",
            "flag%",
            "P",
            "R",
            "F1",
            "AUROC",
            "ECE",
            "flag%"
        )?;
        for row in &self.rows {
            let one_class = row.positives == 0 || row.positives == row.learned.n;
            let cells = |figures: &Figures, flagged: f64| {
                if one_class {
                    format!(
                        "{:>5} {:>5} {:>5} {:>6} {:>5.3} {:>5.1}%",
                        "-",
                        "-",
                        "-",
                        "-",
                        figures.ece,
                        100.0 * flagged
                    )
                } else {
                    format!(
                        "{:>5.3} {:>5.3} {:>5.3} {:>6.3} {:>5.3} {:>5.1}%",
                        figures.precision,
                        figures.recall,
                        figures.f1,
                        figures.auroc,
                        figures.ece,
                        100.0 * flagged
                    )
                }
            };
            writeln!(
                f,
                "{:<10} {:<32} {:>5} {:>5} | {} | round 1: {}",
                row.scorer,
                row.set,
                row.learned.n,
                row.positives,
                cells(&row.learned, row.learned_flagged),
                cells(&row.rules, row.rules_flagged)
            )?;
        }
        Ok(())
    }
}
