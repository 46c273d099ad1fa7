//! How well a judge agrees with human labels: labelled items read from
//! JSONL, a run that judges every item by one rubric, and the statistics of
//! its verdicts against the labels (confusion matrix, accuracy, Cohen's
//! kappa, and precision, recall and F1 of the judge's "fail").
//!
//! The positive class is *fail*: a judge is there to catch bad answers, so
//! precision is the share of the judge's fails a human agrees with and
//! recall the share of the human's fails the judge caught. Statistics that
//! divide by zero (no fails at all, every item one class) are `None`,
//! printed `n/a`, never a made-up number.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::BufRead;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::{Failure, Input, Judge, Outcome, Rubric, Verdict};

/// A call on one answer, by a human or by the judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// The answer is good by the rubric.
    Pass,
    /// The answer is bad by the rubric.
    Fail,
}

impl Label {
    /// `"pass"` or `"fail"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Pass => "pass",
            Label::Fail => "fail",
        }
    }
}

/// One labelled item: an answer to a prompt and what a human said of it.
/// Fields other than these are ignored, so a set may carry notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Names the item in the output; unique within a set.
    pub id: String,
    /// What the user asked.
    pub prompt: String,
    /// The model's answer, the one judged.
    pub answer: String,
    /// What the model was given besides the prompt (system prompt,
    /// documents, tool results), if anything.
    #[serde(default)]
    pub context: Option<String>,
    /// The expected answer, for rubrics that compare with one.
    #[serde(default)]
    pub reference: Option<String>,
    /// The human's call.
    pub label: Label,
}

impl Item {
    /// The request as the judge reads it: the context, when there is one,
    /// then a blank line and the prompt.
    pub fn request(&self) -> String {
        match &self.context {
            Some(context) => format!("{context}\n\n{}", self.prompt),
            None => self.prompt.clone(),
        }
    }
}

/// A line of the input that is not an item; it is skipped and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// What [`read_items`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Items {
    /// The good lines, in order.
    pub items: Vec<Item>,
    /// The bad lines, in order.
    pub bad_lines: Vec<BadLine>,
}

/// Reads one [`Item`] per line of JSONL. Blank lines are skipped; a line
/// that is not an item, or repeats an earlier item's `id`, becomes a
/// [`BadLine`] and reading goes on.
///
/// # Errors
///
/// When `reader` fails (the bytes are not UTF-8, or the read itself).
pub fn read_items(reader: impl BufRead) -> std::io::Result<Items> {
    let mut read = Items::default();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (idx, text) in reader.lines().enumerate() {
        let (line, text) = (idx + 1, text?);
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Item>(&text) {
            Ok(item) => match ids.get(&item.id) {
                Some(first) => read
                    .bad_lines
                    .push(BadLine { line, message: format!("id {:?} is already used by line {first}", item.id) }),
                None => {
                    ids.insert(item.id.clone(), line);
                    read.items.push(item);
                }
            },
            Err(err) => read.bad_lines.push(BadLine { line, message: err.to_string() }),
        }
    }
    Ok(read)
}

/// How the judge ended on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The item's `id`.
    pub id: String,
    /// The human's call.
    pub label: Label,
    /// The judge's verdict, or why there is none.
    pub outcome: Result<Verdict, Failure>,
    /// The judge's call from its verdict: [`Label::Fail`] when the verdict
    /// has the rubric's failing label ([`Verdict::failed`]).
    pub judge_label: Option<Label>,
}

impl Judgement {
    /// The output line of this judgement: `{"id", "label", "judge", "verdict":
    /// {"score", "label", "reason"}}`, or with `"judge": null`, `"failure"`
    /// (the reason) and `"error"` (the message) when the judge gave none.
    pub fn to_json(&self) -> Value {
        let judge = self.judge_label.map(Label::as_str);
        match &self.outcome {
            Ok(verdict) => json!({"id": self.id, "label": self.label, "judge": judge, "verdict": verdict}),
            Err(failure) => json!({
                "id": self.id,
                "label": self.label,
                "judge": judge,
                "failure": failure.reason(),
                "error": failure.to_string(),
            }),
        }
    }
}

/// Judges every item by `rubric` at `now_ms` (the budget's clock), at most
/// [`Judge::concurrency`] at once, and returns one [`Judgement`] per item,
/// in item order.
///
/// # Panics
///
/// When judging an item panics (a bug): the panic is passed on.
pub async fn run(judge: Arc<Judge>, rubric: &Rubric, items: Vec<Item>, now_ms: i64) -> Vec<Judgement> {
    let rubric = Arc::new(rubric.clone());
    let in_flight = judge.concurrency();
    let mut judged: Vec<Option<Judgement>> = vec![None; items.len()];
    let mut tasks = JoinSet::new();
    let mut store = |joined: Option<Result<(usize, Judgement), tokio::task::JoinError>>| {
        if let Some(joined) = joined {
            // Nothing aborts these tasks, so an error is a panic to pass on.
            let (idx, judgement) = joined.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()));
            judged[idx] = Some(judgement);
        }
    };
    for (idx, item) in items.into_iter().enumerate() {
        while tasks.len() >= in_flight {
            store(tasks.join_next().await);
        }
        let (judge, rubric) = (Arc::clone(&judge), Arc::clone(&rubric));
        tasks.spawn(async move { (idx, judge_item(&judge, &rubric, item, now_ms).await) });
    }
    while let Some(joined) = tasks.join_next().await {
        store(Some(joined));
    }
    judged.into_iter().flatten().collect()
}

async fn judge_item(judge: &Judge, rubric: &Rubric, item: Item, now_ms: i64) -> Judgement {
    let request = item.request();
    let input = Input { prompt: &request, response: &item.answer, reference: item.reference.as_deref() };
    let outcome = match judge.judge(&input, rubric, now_ms).await {
        Outcome::Judged(judged) => Ok(judged.verdict),
        Outcome::Failed(failure) => Err(failure),
    };
    let judge_label =
        outcome.as_ref().ok().map(|verdict| if verdict.failed(rubric) { Label::Fail } else { Label::Pass });
    Judgement { id: item.id, label: item.label, outcome, judge_label }
}

/// Human labels against the judge's, over the items the judge gave a
/// verdict on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    /// Human pass, judge pass.
    pub pass_pass: u64,
    /// Human pass, judge fail: a false alarm.
    pub pass_fail: u64,
    /// Human fail, judge pass: a miss.
    pub fail_pass: u64,
    /// Human fail, judge fail.
    pub fail_fail: u64,
}

impl Confusion {
    /// Counts one item the human labelled `human` and the judge `judge`.
    pub fn add(&mut self, human: Label, judge: Label) {
        let cell = match (human, judge) {
            (Label::Pass, Label::Pass) => &mut self.pass_pass,
            (Label::Pass, Label::Fail) => &mut self.pass_fail,
            (Label::Fail, Label::Pass) => &mut self.fail_pass,
            (Label::Fail, Label::Fail) => &mut self.fail_fail,
        };
        *cell += 1;
    }

    /// Items counted.
    pub fn total(&self) -> u64 {
        self.pass_pass + self.pass_fail + self.fail_pass + self.fail_fail
    }

    /// Share of items on which the judge and the human agree.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.pass_pass + self.fail_fail, self.total())
    }

    /// Cohen's kappa: agreement beyond what the two raters' own label
    /// shares would give by chance, `(p_o - p_e) / (1 - p_e)`. 1 is perfect,
    /// 0 chance, below 0 worse than chance; `None` when both raters give
    /// every item the same label (chance agreement is then certain).
    pub fn kappa(&self) -> Option<f64> {
        let n = u128::from(self.total());
        let human_pass = u128::from(self.pass_pass + self.pass_fail);
        let judge_pass = u128::from(self.pass_pass + self.fail_pass);
        // Chance agreement times n², in integers so the certain case is exact.
        let chance = human_pass * judge_pass + (n - human_pass) * (n - judge_pass);
        if n == 0 || chance == n * n {
            return None;
        }
        let n = n as f64;
        let observed = (self.pass_pass + self.fail_fail) as f64 / n;
        let expected = chance as f64 / (n * n);
        Some((observed - expected) / (1.0 - expected))
    }

    /// Share of the judge's fails that the human also failed.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.fail_fail, self.fail_fail + self.pass_fail)
    }

    /// Share of the human's fails that the judge also failed.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.fail_fail, self.fail_fail + self.fail_pass)
    }

    /// Harmonic mean of precision and recall, `2 tp / (2 tp + fp + fn)`:
    /// 0 when the judge caught none of the human's fails, `None` when
    /// neither rater failed anything.
    pub fn f1(&self) -> Option<f64> {
        ratio(2 * self.fail_fail, 2 * self.fail_fail + self.pass_fail + self.fail_pass)
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// What a run found: how many items, how many judged, the failures by
/// reason and the agreement on the judged ones. Its `Display` is the
/// summary `infersight judge-eval` prints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Items read (bad lines excluded).
    pub items: u64,
    /// Lines skipped because they are not items.
    pub bad_lines: u64,
    /// Items with a verdict.
    pub judged: u64,
    /// Items without one, by [`Failure::reason`].
    pub failures: BTreeMap<&'static str, u64>,
    /// Human against judge on the judged items.
    pub confusion: Confusion,
}

impl Report {
    /// The report of `judgements`, with `bad_lines` lines skipped.
    pub fn new(judgements: &[Judgement], bad_lines: usize) -> Report {
        let mut report = Report { bad_lines: bad_lines as u64, ..Report::default() };
        for judgement in judgements {
            report.items += 1;
            match (&judgement.outcome, judgement.judge_label) {
                (Ok(_), Some(judge)) => {
                    report.judged += 1;
                    report.confusion.add(judgement.label, judge);
                }
                (Err(failure), _) => *report.failures.entry(failure.reason()).or_default() += 1,
                (Ok(_), None) => {}
            }
        }
        report
    }
}

struct Stat(Option<f64>);

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, "{value:.3}"),
            None => f.write_str("n/a"),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.confusion;
        writeln!(f, "items       {} ({} bad lines skipped)", self.items, self.bad_lines)?;
        writeln!(f, "judged      {}", self.judged)?;
        if self.failures.is_empty() {
            writeln!(f, "failures    none")?;
        } else {
            let failures: Vec<String> = self.failures.iter().map(|(reason, n)| format!("{reason} {n}")).collect();
            writeln!(f, "failures    {}", failures.join(", "))?;
        }
        writeln!(f)?;
        writeln!(f, "              judge pass  judge fail")?;
        writeln!(f, "human pass    {:>10}  {:>10}", c.pass_pass, c.pass_fail)?;
        writeln!(f, "human fail    {:>10}  {:>10}", c.fail_pass, c.fail_fail)?;
        writeln!(f)?;
        writeln!(f, "accuracy    {}", Stat(c.accuracy()))?;
        writeln!(f, "kappa       {}", Stat(c.kappa()))?;
        writeln!(f, "fail        precision {}  recall {}  F1 {}", Stat(c.precision()), Stat(c.recall()), Stat(c.f1()))
    }
}

#[cfg(test)]
mod tests;
