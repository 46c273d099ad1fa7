//! The trainer of the learned scorers: reads the labelled sets, splits them
//! by group with a fixed hash, fits the five classifiers on the training
//! split, calibrates each scorer (and picks its threshold) on the
//! validation split, measures it and its rule-based predecessor on the test
//! split, and returns the files the binary embeds. Single-threaded and
//! seeded: the same data gives the same bytes on every run.
//!
//! `cargo run --release -p quality --example train -- --write` rebuilds
//! `crates/quality/classifiers/`; without `--write` it checks that the
//! committed files are what the trainer produces.

mod fit;
mod report;
mod sources;
mod synth;

use std::ops::Range;
use std::path::Path;

use self::fit::Sparse;
pub use self::report::{Report, Row};
use crate::Result;
use crate::classifier::Linear;
use crate::features::{Features, Side};
use crate::harmful::Harmful;
use crate::jailbreak::Jailbreak;
use crate::learned::{CLASSIFIER_NAMES, Classifiers, Manifest, ScorerEntry, WINDOW};
use crate::refusal::Refusal;
use crate::toxicity::Toxicity;

/// What a classifier learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Toxic text.
    Toxicity,
    /// A refusing or deflecting response.
    Refusal,
    /// A response giving harmful help for its request.
    Harmful,
    /// A request for harmful help.
    UnsafePrompt,
    /// A prompt carrying a jailbreak or an injected instruction.
    Injection,
}

/// Which part of the data an example belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Fits the classifiers.
    Train,
    /// Fits the calibrations and picks the thresholds.
    Validation,
    /// Only measured.
    Test,
}

/// The split of a group: 70 % train, 15 % validation, 15 % test, by a
/// fixed hash of the group key.
pub fn split_of(group: &str) -> Split {
    match (fnv(group.as_bytes()) >> 16) % 100 {
        0..70 => Split::Train,
        70..85 => Split::Validation,
        _ => Split::Test,
    }
}

/// One labelled text.
#[derive(Debug, Clone)]
pub struct Example {
    /// What it teaches.
    pub task: Task,
    /// The request a response answers (empty for texts that stand alone).
    pub prompt: String,
    /// The text scored: a response, or a prompt for prompt-side tasks.
    pub text: String,
    /// Whether it is an instance of the task's class.
    pub label: bool,
    /// Where it belongs.
    pub split: Split,
    /// The set and subset it came from (`xstest/gpt4`, `bipia-test/email`).
    pub set: String,
    /// Where in `text` the instance is, in code points, when it is only a
    /// part of it (an injection inserted into a document).
    pub focus: Option<Range<usize>>,
}

impl Example {
    fn new(task: Task, prompt: &str, text: &str, label: bool, split: Split, set: &str) -> Example {
        Example {
            task,
            prompt: prompt.to_string(),
            text: text.to_string(),
            label,
            split,
            set: set.to_string(),
            focus: None,
        }
    }

    fn with_focus(mut self, focus: Range<usize>) -> Example {
        self.focus = Some(focus);
        self
    }
}

/// What the trainer produces.
#[derive(Debug)]
pub struct Trained {
    /// File name and contents, for `crates/quality/classifiers/`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Figures on every test set, for the learned scorers and the rules.
    pub report: Report,
}

/// Reads the labelled sets and trains, calibrates and measures every
/// learned scorer.
///
/// # Errors
///
/// When a set cannot be read or parsed.
pub fn train(shared: &Path, packages: &Path) -> Result<Trained> {
    let mut examples = Vec::new();
    sources::read_all(shared, packages, &mut examples)?;
    synth::generate(&mut examples);
    // The gateway writes chat prompts as `role: content` lines: prompt-side
    // classifiers learn that the role prefix says nothing.
    let prefixed: Vec<Example> = examples
        .iter()
        .filter(|e| matches!(e.task, Task::Injection | Task::UnsafePrompt) && e.split == Split::Train)
        .filter(|e| e.focus.is_none() && !e.text.starts_with("user: "))
        .map(|e| Example { text: format!("user: {}", e.text), ..e.clone() })
        .collect();
    examples.extend(prefixed);
    // An exact repeat (a retweet, a template drawn twice) counts once.
    let mut seen = std::collections::HashSet::new();
    examples.retain(|e| seen.insert((e.task as u8, fnv(e.prompt.as_bytes()), fnv(e.text.as_bytes()))));
    let of = |task: Task| -> Vec<&Example> { examples.iter().filter(|e| e.task == task).collect() };

    let classifiers = Classifiers {
        toxicity: fit_classifier(&of(Task::Toxicity), Side::Response, 1),
        refusal: fit_classifier(&of(Task::Refusal), Side::Response, 2),
        harmful: fit_classifier(&of(Task::Harmful), Side::Response, 3),
        unsafe_prompt: fit_classifier(&of(Task::UnsafePrompt), Side::Prompt, 4),
        injection: fit_classifier(&of(Task::Injection), Side::Prompt, 5),
    };
    let rules = Rules::new();
    let mut manifest = Manifest {
        recipe: "XSTest v2 completions, Davidson et al. tweets, BIPIA (its train and test splits), uncensorbench \
                 0.3.7, guardmeter 0.14.2, spikee 0.9.2, synthetic hard cases; split 70/15/15 by group"
            .to_string(),
        ..Manifest::default()
    };
    let mut report = Report::default();
    let scorers: [(&str, Task); 4] = [
        ("toxicity", Task::Toxicity),
        ("refusal", Task::Refusal),
        ("harmful", Task::Harmful),
        ("jailbreak", Task::Injection),
    ];
    let files: Vec<Vec<u8>> = [
        &classifiers.toxicity,
        &classifiers.refusal,
        &classifiers.harmful,
        &classifiers.unsafe_prompt,
        &classifiers.injection,
    ]
    .iter()
    .map(|classifier| classifier.to_bytes())
    .collect();
    for (scorer, task) in scorers {
        let scored: Vec<Scored> = of(task).into_iter().map(|e| rules.inputs(&classifiers, scorer, e)).collect();
        let validation: Vec<&Scored> = scored.iter().filter(|s| s.split == Split::Validation).collect();
        let inputs: Vec<Vec<f64>> = validation.iter().map(|s| s.inputs.clone()).collect();
        let labels: Vec<bool> = validation.iter().map(|s| s.label).collect();
        let calibration = fit::calibrate(&inputs, &labels);
        let probabilities: Vec<f64> = inputs.iter().map(|x| calibration.probability(x)).collect();
        let (threshold, threshold_long) = if scorer == "jailbreak" {
            // Benign prompts flagged are what gets a scorer muted: most
            // traffic is short benign prompts, and documents get a threshold
            // of their own that keeps each kind of long benign document
            // under 1.5 % on validation; short benign prompts stay under 1.5 %
            // too.
            let pick = |long: bool, max_flagged: f64| {
                let (scores, labels, guarded): (Vec<f64>, Vec<bool>, Vec<Option<&str>>) = validation
                    .iter()
                    .zip(&probabilities)
                    .filter(|(s, _)| s.long == long)
                    .map(|(s, p)| {
                        let guard = if long {
                            s.set.ends_with("/clean").then_some(s.set.as_str())
                        } else {
                            (!s.label).then_some("short")
                        };
                        (*p, s.label, guard)
                    })
                    .fold((Vec::new(), Vec::new(), Vec::new()), |mut acc, (p, l, g)| {
                        acc.0.push(p);
                        acc.1.push(l);
                        acc.2.push(g);
                        acc
                    });
                fit::best_threshold(&scores, &labels, &guarded, max_flagged)
            };
            (pick(false, 0.015), Some(pick(true, 0.015)))
        } else {
            (fit::best_threshold(&probabilities, &labels, &vec![None; labels.len()], 1.0), None)
        };
        let threshold_of = |s: &Scored| if s.long { threshold_long.unwrap_or(threshold) } else { threshold };
        let labelled = |s: &Scored, p: f64| p >= threshold_of(s);
        let validation_figures = {
            let predicted: Vec<bool> = validation.iter().zip(&probabilities).map(|(s, p)| labelled(s, *p)).collect();
            fit::figures(&probabilities, &labels, &predicted)
        };
        let test: Vec<(&Scored, f64, bool)> = scored
            .iter()
            .filter(|s| s.split == Split::Test)
            .map(|s| {
                let p = calibration.probability(&s.inputs);
                (s, p, labelled(s, p))
            })
            .collect();
        let test_figures = {
            let scores: Vec<f64> = test.iter().map(|t| t.1).collect();
            let labels: Vec<bool> = test.iter().map(|t| t.0.label).collect();
            let predicted: Vec<bool> = test.iter().map(|t| t.2).collect();
            fit::figures(&scores, &labels, &predicted)
        };
        report.add(scorer, &test);
        let mut hashed = calibration_bytes(&calibration, threshold, threshold_long);
        for name in classifier_inputs(scorer) {
            let idx = CLASSIFIER_NAMES.iter().position(|n| n == name).expect("known classifier");
            hashed.extend_from_slice(&files[idx]);
        }
        let version = format!("{scorer}-lr1-{:08x}", fnv(&hashed) as u32);
        manifest.scorers.insert(
            scorer.to_string(),
            ScorerEntry {
                version,
                calibration,
                threshold,
                threshold_long,
                validation: validation_figures,
                test: test_figures,
            },
        );
    }
    let mut out: Vec<(String, Vec<u8>)> =
        CLASSIFIER_NAMES.iter().zip(files).map(|(name, bytes)| (format!("{name}.bin"), bytes)).collect();
    let mut manifest_json = serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    manifest_json.push('\n');
    out.push(("manifest.json".to_string(), manifest_json.into_bytes()));
    Ok(Trained { files: out, report })
}

/// The classifiers whose weights a scorer's version covers.
fn classifier_inputs(scorer: &str) -> &'static [&'static str] {
    match scorer {
        "toxicity" => &["toxicity"],
        "refusal" => &["refusal"],
        "harmful" => &["harmful", "unsafe_prompt", "refusal"],
        _ => &["injection"],
    }
}

fn calibration_bytes(calibration: &crate::classifier::Calibration, threshold: f64, long: Option<f64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for value in calibration.weights.iter().chain([&calibration.bias, &threshold]).chain(long.as_ref()) {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    bytes
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Fits one classifier on the training split of its examples. The
/// injection classifier learns from windows, as it scores them: a window of
/// an attacked document is a positive only where it overlaps the attack.
fn fit_classifier(examples: &[&Example], side: Side, seed: u64) -> Linear {
    let mut units: Vec<(Sparse, bool)> = Vec::new();
    for example in examples.iter().filter(|e| e.split == Split::Train) {
        let features = Features::of(&example.text, side);
        if example.task == Task::Harmful {
            let prompt = Features::of(&example.prompt, Side::Prompt);
            let mut both = prompt.occurrences.clone();
            both.extend_from_slice(&features.occurrences);
            units.push((Sparse::of(&both), example.label));
        } else if example.task == Task::Injection {
            for window in windows(&features) {
                // A window of an attacked document that misses the attack is
                // the clean twin's business, not a positive.
                let first = features.tokens.get(window.start).map_or(0, |t| t.start);
                let last = features.tokens.get(window.end.saturating_sub(1)).map_or(0, |t| t.end);
                if example.focus.as_ref().is_some_and(|focus| focus.end <= first || last <= focus.start) {
                    continue;
                }
                let occurrences: Vec<_> =
                    features.occurrences.iter().copied().filter(|o| window.contains(&(o.token as usize))).collect();
                units.push((Sparse::of(&occurrences), example.label));
            }
        } else {
            units.push((Sparse::of(&features.occurrences), example.label));
        }
    }
    let (weights, bias) = fit::logistic(&units, 0x7a1e_0000 + seed);
    Linear::quantize(&weights, bias)
}

/// The token windows a prompt is scored on (see [`Linear::windows`]).
fn windows(features: &Features) -> Vec<Range<usize>> {
    let n = features.tokens.len();
    if n <= WINDOW {
        return std::iter::once(0..n).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + WINDOW).min(n);
        out.push(start..end);
        if end == n {
            return out;
        }
        start += WINDOW / 2;
    }
}

/// The rule-based scorers, whose scores are calibration inputs and the
/// round-1 figures.
struct Rules {
    toxicity: Toxicity,
    refusal: Refusal,
    harmful: Harmful,
    jailbreak: Jailbreak,
}

/// One example as a scorer sees it.
pub(crate) struct Scored {
    pub(crate) inputs: Vec<f64>,
    pub(crate) rules: f64,
    pub(crate) label: bool,
    pub(crate) split: Split,
    pub(crate) set: String,
    /// Longer than one window of the injection classifier.
    pub(crate) long: bool,
}

impl Rules {
    fn new() -> Rules {
        Rules {
            toxicity: Toxicity::new(),
            refusal: Refusal::new(),
            harmful: Harmful::new(),
            jailbreak: Jailbreak::new(),
        }
    }

    fn inputs(&self, classifiers: &Classifiers, scorer: &str, example: &Example) -> Scored {
        let response = Features::of(&example.text, Side::Response);
        let mut long = false;
        let (inputs, rules) = match scorer {
            "toxicity" => {
                let rules = self.toxicity.score_text(&example.text);
                (classifiers.toxicity_inputs(&response, rules), rules)
            }
            "refusal" => {
                let rules = self.refusal.score_text(&example.text);
                (classifiers.refusal_inputs(&response, rules), rules)
            }
            "harmful" => {
                let prompt = Features::of(&example.prompt, Side::Prompt);
                let rules = self.harmful.score_text(Some(&example.prompt), &example.text);
                (classifiers.harmful_inputs(&prompt, &response, rules), rules)
            }
            _ => {
                let prompt = Features::of(&example.text, Side::Prompt);
                long = prompt.tokens.len() > WINDOW;
                let rules = self.jailbreak.score_text(&example.text);
                (classifiers.jailbreak_inputs(&prompt, rules).0, rules)
            }
        };
        Scored { inputs, rules, label: example.label, split: example.split, set: example.set.clone(), long }
    }
}
