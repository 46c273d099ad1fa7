//! The learned classifiers, embedded in the binary, and how their logits
//! and the rules' scores combine into each scorer's calibrated probability.
//!
//! Five hashed linear classifiers (`crates/quality/classifiers/*.bin`,
//! written by [`crate::train`]) feed four scorers; `manifest.json` beside
//! them holds each scorer's calibration, threshold, version and the figures
//! it reached on the validation and test splits. The inputs of each
//! scorer's calibration are defined here once, for the trainer and the
//! runtime alike:
//!
//! | scorer | inputs |
//! |---|---|
//! | `toxicity` | toxicity logit of the response, toxicity rules |
//! | `refusal` | refusal logit of the response, refusal rules |
//! | `harmful` | harmful-help logit of prompt and response, unsafe-request logit of the prompt, refusal logit, the smaller of "unsafe request" and "not refused", harmful rules |
//! | `jailbreak` | highest injection logit over windows of the prompt, how far it stands above the windows' mean, whether the prompt is longer than a window, jailbreak rules |

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::classifier::{Calibration, Cue, FormatError, Linear};
use crate::features::Features;

/// Tokens per window of a prompt that the injection classifier scores.
pub const WINDOW: usize = 16;

/// The names of the classifier files, in [`Classifiers`]' field order.
pub const CLASSIFIER_NAMES: [&str; 5] = ["toxicity", "refusal", "harmful", "unsafe_prompt", "injection"];

/// The five linear classifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifiers {
    /// Toxic text (insults, threats, slurs, hate).
    pub toxicity: Linear,
    /// A response that declines or deflects.
    pub refusal: Linear,
    /// A response that gives harmful help (sees the prompt too).
    pub harmful: Linear,
    /// A request for harmful help.
    pub unsafe_prompt: Linear,
    /// A window of a prompt that tries to override the model's instructions.
    pub injection: Linear,
}

impl Classifiers {
    /// Reads the five classifiers from their files' bytes, in
    /// [`CLASSIFIER_NAMES`] order.
    ///
    /// # Errors
    ///
    /// [`FormatError`] when a file is not a classifier of this build.
    pub fn from_files(files: [&[u8]; 5]) -> Result<Classifiers, FormatError> {
        let [toxicity, refusal, harmful, unsafe_prompt, injection] = files;
        Ok(Classifiers {
            toxicity: Linear::from_bytes(toxicity)?,
            refusal: Linear::from_bytes(refusal)?,
            harmful: Linear::from_bytes(harmful)?,
            unsafe_prompt: Linear::from_bytes(unsafe_prompt)?,
            injection: Linear::from_bytes(injection)?,
        })
    }

    /// Inputs of the `toxicity` calibration.
    pub fn toxicity_inputs(&self, response: &Features, rules: f64) -> Vec<f64> {
        vec![f64::from(self.toxicity.logit(response)), rules]
    }

    /// Inputs of the `refusal` calibration.
    pub fn refusal_inputs(&self, response: &Features, rules: f64) -> Vec<f64> {
        vec![f64::from(self.refusal.logit(response)), rules]
    }

    /// Inputs of the `harmful` calibration.
    pub fn harmful_inputs(&self, prompt: &Features, response: &Features, rules: f64) -> Vec<f64> {
        let harmful = f64::from(self.harmful.logit_of_both(prompt, response));
        let unsafe_request = f64::from(self.unsafe_prompt.logit(prompt));
        let refused = f64::from(self.refusal.logit(response));
        vec![harmful, unsafe_request, refused, unsafe_request.min(-refused), rules]
    }

    /// Inputs of the `jailbreak` calibration, and the window that scored
    /// highest.
    pub fn jailbreak_inputs(&self, prompt: &Features, rules: f64) -> (Vec<f64>, std::ops::Range<usize>) {
        let windows = self.injection.windows(prompt, WINDOW);
        let highest = f64::from(windows.highest);
        let long = if prompt.tokens.len() > WINDOW { 1.0 } else { 0.0 };
        (vec![highest, highest - f64::from(windows.mean), long, rules], windows.tokens)
    }
}

/// What the trainer measured for a scorer on one split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Examples.
    pub n: usize,
    /// Precision of the label.
    pub precision: f64,
    /// Recall of the label.
    pub recall: f64,
    /// F1 of the label.
    pub f1: f64,
    /// Area under the ROC curve of the score.
    pub auroc: f64,
    /// Expected calibration error of the score (10 equal-width bins).
    pub ece: f64,
}

/// One learned scorer's entry in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorerEntry {
    /// The scorer's version: its name, the recipe and a hash of its
    /// classifiers and calibration. Stored with every score.
    pub version: String,
    /// From inputs to probability.
    pub calibration: Calibration,
    /// The default threshold of the label, chosen on validation for F1.
    pub threshold: f64,
    /// The threshold for prompts longer than a window (documents), where
    /// one is set: chosen on validation for F1 with at most 1.5 % of each
    /// kind of long benign document flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_long: Option<f64>,
    /// Figures on the validation split (threshold chosen there).
    pub validation: Figures,
    /// Figures on the held-out test split.
    pub test: Figures,
}

/// `classifiers/manifest.json`: every learned scorer's calibration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// What the trainer was run on, in words.
    pub recipe: String,
    /// By scorer name.
    pub scorers: BTreeMap<String, ScorerEntry>,
}

/// The classifiers and manifest compiled into this binary.
#[derive(Debug)]
pub struct Learned {
    /// The classifiers.
    pub classifiers: Classifiers,
    /// Their calibrations.
    pub manifest: Manifest,
}

/// The embedded files, in [`CLASSIFIER_NAMES`] order, and the manifest.
pub const EMBEDDED: ([&[u8]; 5], &str) = (
    [
        include_bytes!("../classifiers/toxicity.bin"),
        include_bytes!("../classifiers/refusal.bin"),
        include_bytes!("../classifiers/harmful.bin"),
        include_bytes!("../classifiers/unsafe_prompt.bin"),
        include_bytes!("../classifiers/injection.bin"),
    ],
    include_str!("../classifiers/manifest.json"),
);

static LEARNED: LazyLock<Learned> =
    LazyLock::new(|| Learned::embedded().expect("the embedded classifiers are valid: a test loads them"));

impl Learned {
    /// Reads the embedded classifiers and manifest.
    ///
    /// # Errors
    ///
    /// A message when a file does not parse (a build from a broken tree).
    pub fn embedded() -> Result<Learned, String> {
        let classifiers = Classifiers::from_files(EMBEDDED.0).map_err(|err| err.to_string())?;
        let manifest: Manifest = serde_json::from_str(EMBEDDED.1).map_err(|err| err.to_string())?;
        for name in ["toxicity", "refusal", "harmful", "jailbreak"] {
            if !manifest.scorers.contains_key(name) {
                return Err(format!("the manifest has no entry for {name}"));
            }
        }
        Ok(Learned { classifiers, manifest })
    }

    /// The process-wide instance, loaded on first use.
    pub fn get() -> &'static Learned {
        &LEARNED
    }

    /// The manifest entry of a learned scorer.
    ///
    /// # Panics
    ///
    /// For a name that is not one of the four learned scorers, which
    /// [`Learned::embedded`] checked are all there.
    pub fn entry(&self, scorer: &str) -> &ScorerEntry {
        self.manifest.scorers.get(scorer).expect("every learned scorer has a manifest entry")
    }

    /// The calibrated probability and label of `scorer` for `inputs`, for
    /// a text longer than a window or not.
    pub fn decide(&self, scorer: &str, inputs: &[f64], long: bool) -> (f64, bool) {
        let entry = self.entry(scorer);
        let probability = entry.calibration.probability(inputs);
        let threshold = if long { entry.threshold_long.unwrap_or(entry.threshold) } else { entry.threshold };
        (probability, probability >= threshold)
    }
}

/// Cues of the whole text, for a positive verdict.
pub(crate) fn cues_of(classifier: &Linear, features: &Features) -> Vec<Cue> {
    classifier.evidence(features, 0..features.tokens.len(), 3)
}

#[cfg(test)]
mod tests;
