//! All scorers built once, for the online pipeline and the offline runner.

use crate::consistency::Consistency;
use crate::features::{Features, Side};
use crate::harmful::Harmful;
use crate::jailbreak::Jailbreak;
use crate::json::Json;
use crate::learned::Learned;
use crate::pii::Pii;
use crate::reference::Reference;
use crate::refusal::Refusal;
use crate::toxicity::Toxicity;
use crate::{Error, Input, Result, Score, Scorer};

/// The scorer names of DESIGN.md §7, in the registry's order.
pub const SCORER_NAMES: [&str; 8] =
    ["pii", "toxicity", "harmful", "refusal", "jailbreak", "json", "consistency", "reference"];

/// Every deterministic scorer, compiled once. Building one takes a few
/// milliseconds (regex compilation); share it (it is `Send + Sync`).
#[derive(Debug)]
pub struct Registry {
    pii: Pii,
    toxicity: Toxicity,
    harmful: Harmful,
    refusal: Refusal,
    jailbreak: Jailbreak,
    json: Json,
    consistency: Consistency,
    reference: Reference,
    /// Label thresholds that override the scorers' own, by scorer.
    thresholds: Vec<(&'static str, f64)>,
}

impl Registry {
    /// Builds every scorer.
    pub fn new() -> Self {
        Registry {
            pii: Pii::new(),
            toxicity: Toxicity::new(),
            harmful: Harmful::new(),
            refusal: Refusal::new(),
            jailbreak: Jailbreak::new(),
            json: Json,
            consistency: Consistency,
            reference: Reference,
            thresholds: Vec::new(),
        }
    }

    /// The registry with these label thresholds instead of the scorers'
    /// defaults ([`Registry::score_all`] applies them); names that are not
    /// scorers are ignored (configuration checks them first).
    pub fn with_thresholds<'a>(mut self, thresholds: impl IntoIterator<Item = (&'a String, &'a f64)>) -> Self {
        self.thresholds = thresholds
            .into_iter()
            .filter_map(|(name, &threshold)| {
                SCORER_NAMES.iter().find(|known| **known == name.as_str()).map(|&known| (known, threshold))
            })
            .collect();
        self
    }

    /// Builds only the scorer called `name` (for one-scorer offline runs).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownScorer`] for a name not in [`SCORER_NAMES`].
    pub fn build(name: &str) -> Result<Box<dyn Scorer>> {
        let scorer: Box<dyn Scorer> = match name {
            "pii" => Box::new(Pii::new()),
            "toxicity" => Box::new(Toxicity::new()),
            "harmful" => Box::new(Harmful::new()),
            "refusal" => Box::new(Refusal::new()),
            "jailbreak" => Box::new(Jailbreak::new()),
            "json" => Box::new(Json),
            "consistency" => Box::new(Consistency),
            "reference" => Box::new(Reference),
            other => return Err(Error::UnknownScorer(other.to_string())),
        };
        Ok(scorer)
    }

    /// The scorer called `name`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownScorer`] for a name not in [`SCORER_NAMES`].
    pub fn scorer(&self, name: &str) -> Result<&dyn Scorer> {
        let scorer: &dyn Scorer = match name {
            "pii" => &self.pii,
            "toxicity" => &self.toxicity,
            "harmful" => &self.harmful,
            "refusal" => &self.refusal,
            "jailbreak" => &self.jailbreak,
            "json" => &self.json,
            "consistency" => &self.consistency,
            "reference" => &self.reference,
            other => return Err(Error::UnknownScorer(other.to_string())),
        };
        Ok(scorer)
    }

    /// Scores one exchange with every scorer that applies to a bare prompt
    /// and response, in this order: PII, toxicity, harmful help and refusal
    /// on the response, jailbreak on the prompt, JSON on the response
    /// (without a schema). `consistency` and `reference` need samples or a
    /// reference and are skipped. Shared work is done once: each text's
    /// features feed every learned scorer that reads it, and the refusal
    /// and toxicity rules feed the harmful rules.
    pub fn score_all(&self, prompt: &str, response: &str) -> Vec<Score> {
        let prompt_features = Features::of(prompt, Side::Prompt);
        let response_features = Features::of(response, Side::Response);
        let pii = self.pii.score_text(response);
        let evidence = self.toxicity.evidence(response);
        let toxicity_rules = Toxicity::score_evidence(&evidence);
        let refusal_rules = self.refusal.score_text(response);
        let harmful_rules = self.harmful.score_with(Some(prompt), response, refusal_rules, evidence);
        let jailbreak_rules = self.jailbreak.score_text(prompt);
        let mut scores = vec![
            pii,
            Toxicity::score_learned(&response_features, toxicity_rules),
            Harmful::score_learned(&prompt_features, &response_features, harmful_rules),
            Refusal::score_learned(&response_features, refusal_rules),
            Jailbreak::score_learned(&prompt_features, jailbreak_rules),
        ];
        let input = Input { prompt: Some(prompt), response: Some(response), ..Input::default() };
        if let Ok(json) = self.json.score(&input) {
            scores.push(json);
        }
        for score in &mut scores {
            if let Some(&(_, threshold)) = self.thresholds.iter().find(|(name, _)| *name == score.scorer) {
                score.label = score.value >= threshold;
                if !score.label {
                    score.cues.clear();
                }
            }
        }
        scores
    }
}

/// The version of a scorer, stored with every score it gives: the learned
/// scorers' come from their manifest (a hash of their weights), the rule
/// scorers' are bumped by hand when their rules change.
pub fn version_of(scorer: &str) -> &'static str {
    match scorer {
        "toxicity" | "refusal" | "harmful" | "jailbreak" => Learned::get().entry(scorer).version.as_str(),
        "pii" => "pii-rules-3",
        "json" => "json-strict-1",
        "consistency" => "consistency-rules-1",
        "reference" => "reference-rules-1",
        _ => "unknown",
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}
