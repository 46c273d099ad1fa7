//! Self-metrics of the quality pipeline, in OpenTelemetry GenAI's Prometheus names where one exists.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::sampler::Reason;

/// Buckets of `gen_ai_evaluation_score`: scores lie in `[0, 1]`.
const SCORE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Counters, histograms and gauges of the pipeline. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Metrics {
    scores: Family<ScoreLabels, Histogram, fn() -> Histogram>,
    flagged: Family<ScoreLabels, Counter>,
    findings: Family<FindingLabels, Counter>,
    scored: Family<ModelLabel, Counter>,
    unscored: Family<ModelLabel, Counter>,
    kept: Family<KeptLabels, Counter>,
    over_budget: Family<ModelLabel, Counter>,
    failures: Family<StageLabel, Counter>,
    drift_p_value: Family<ModelLabel, Gauge<f64, AtomicU64>>,
    drift_detected: Family<ModelLabel, Gauge>,
    agreement: Family<AgreementLabels, Counter>,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics {
            scores: Family::new_with_constructor(|| Histogram::new(SCORE_BUCKETS)),
            flagged: Family::default(),
            findings: Family::default(),
            scored: Family::default(),
            unscored: Family::default(),
            kept: Family::default(),
            over_budget: Family::default(),
            failures: Family::default(),
            drift_p_value: Family::default(),
            drift_detected: Family::default(),
            agreement: Family::default(),
        };
        registry.register(
            "gen_ai_evaluation_score",
            "Scores of sampled exchanges, one observation per score, by model, scorer (gen_ai_evaluation_name) and scorer version",
            metrics.scores.clone(),
        );
        // The text encoder adds `_total` to counter names.
        registry.register(
            "infersight_quality_flagged",
            "Exchanges a scorer flagged, by model and scorer",
            metrics.flagged.clone(),
        );
        registry.register(
            "infersight_quality_findings",
            "Exchanges in which a scorer found evidence of a kind (PII type, ...), by model, scorer and kind",
            metrics.findings.clone(),
        );
        registry.register("infersight_exchanges_scored", "Exchanges scored, by model", metrics.scored.clone());
        registry.register(
            "infersight_exchanges_unscored",
            "Successful exchanges passed by unscored (outside the configured score_rate), by model",
            metrics.unscored.clone(),
        );
        registry.register(
            "infersight_exchanges_sampled",
            "Exchanges kept in the records store, by model and reason (error, flagged, sampled)",
            metrics.kept.clone(),
        );
        registry.register(
            "infersight_exchanges_over_budget",
            "Exchanges that would have been kept but for the model's budget per minute",
            metrics.over_budget.clone(),
        );
        registry.register(
            "infersight_quality_failures",
            "Failures of the quality pipeline by stage (store: a kept exchange not written; score: a scoring thread panicked)",
            metrics.failures.clone(),
        );
        registry.register(
            "infersight_quality_drift_p_value",
            "Smallest Holm-adjusted p-value of the last drift test of each model (low means drift)",
            metrics.drift_p_value.clone(),
        );
        registry.register(
            "infersight_quality_drift_detected",
            "1 when the last drift test of the model found drift at the configured level, else 0 (also when every baseline window within reach holds drift found earlier)",
            metrics.drift_detected.clone(),
        );
        registry.register(
            "infersight_judge_agreement",
            "Verdicts of judge rubrics compared with their deterministic counterpart on the same exchange \
             (a failing verdict matches a flag), by judge, model, rubric score name, scorer and agreement (agree, disagree)",
            metrics.agreement.clone(),
        );
        metrics
    }

    /// Counts whether a judge's verdict (rubric score `name`) agreed with
    /// `scorer`'s flag on the same exchange.
    pub(crate) fn observe_agreement(&self, judge: &str, model: &str, name: &str, scorer: &str, agreed: bool) {
        let labels = AgreementLabels {
            judge: judge.to_owned(),
            gen_ai_request_model: model.to_owned(),
            gen_ai_evaluation_name: name.to_owned(),
            scorer: scorer.to_owned(),
            agreement: if agreed { "agree" } else { "disagree" }.to_owned(),
        };
        self.agreement.get_or_create(&labels).inc();
    }

    pub(crate) fn observe_score(&self, model: &str, score: &quality::Score) {
        let (value, flagged) = (score.value, score.label);
        let labels = ScoreLabels {
            gen_ai_request_model: model.to_owned(),
            gen_ai_evaluation_name: score.scorer.to_owned(),
            scorer_version: score.version.to_owned(),
        };
        self.scores.get_or_create(&labels).observe(value);
        if flagged {
            self.flagged.get_or_create(&labels).inc();
        }
    }

    /// Observes a judge's verdict as a score named `judge_<rubric>`, the
    /// judge model and rubric version as its version.
    pub(crate) fn observe_judgement(&self, model: &str, name: &str, version: &str, score: f64, failed: bool) {
        let labels = ScoreLabels {
            gen_ai_request_model: model.to_owned(),
            gen_ai_evaluation_name: name.to_owned(),
            scorer_version: version.to_owned(),
        };
        self.scores.get_or_create(&labels).observe(score);
        if failed {
            self.flagged.get_or_create(&labels).inc();
        }
    }

    /// Counts the exchange once for each kind of evidence `score` holds.
    pub(crate) fn observe_findings(&self, model: &str, score: &quality::Score) {
        let mut kinds: Vec<&str> = score.spans.iter().map(|span| span.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let labels = FindingLabels {
                gen_ai_request_model: model.to_owned(),
                gen_ai_evaluation_name: score.scorer.to_owned(),
                kind: kind.to_owned(),
            };
            self.findings.get_or_create(&labels).inc();
        }
    }

    pub(crate) fn count_scored(&self, model: &str) {
        self.scored.get_or_create(&ModelLabel { gen_ai_request_model: model.to_owned() }).inc();
    }

    pub(crate) fn count_unscored(&self, model: &str) {
        self.unscored.get_or_create(&ModelLabel { gen_ai_request_model: model.to_owned() }).inc();
    }

    pub(crate) fn count_kept(&self, model: &str, reason: Reason) {
        self.kept.get_or_create(&KeptLabels { gen_ai_request_model: model.to_owned(), reason: reason.as_str() }).inc();
    }

    pub(crate) fn count_over_budget(&self, model: &str) {
        self.over_budget.get_or_create(&ModelLabel { gen_ai_request_model: model.to_owned() }).inc();
    }

    pub(crate) fn count_failure(&self, stage: &'static str) {
        self.failures.get_or_create(&StageLabel { stage }).inc();
    }

    pub(crate) fn set_drift(&self, model: &str, p_value: f64, detected: bool) {
        let label = ModelLabel { gen_ai_request_model: model.to_owned() };
        self.drift_p_value.get_or_create(&label).set(p_value);
        self.drift_detected.get_or_create(&label).set(i64::from(detected));
    }

    /// No verdict this time: every baseline window within reach holds drift found earlier.
    pub(crate) fn set_drift_unjudged(&self, model: &str) {
        let label = ModelLabel { gen_ai_request_model: model.to_owned() };
        self.drift_detected.get_or_create(&label).set(0);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ScoreLabels {
    gen_ai_request_model: String,
    gen_ai_evaluation_name: String,
    /// One value per scorer per build: a new value marks a change of scorer.
    scorer_version: String,
}

/// A judge rubric's verdict against its deterministic counterpart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AgreementLabels {
    judge: String,
    gen_ai_request_model: String,
    gen_ai_evaluation_name: String,
    scorer: String,
    agreement: String,
}

/// A kind of evidence: a scorer's own bounded set of names (`EMAIL_ADDRESS`, `SECRET`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FindingLabels {
    gen_ai_request_model: String,
    gen_ai_evaluation_name: String,
    kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ModelLabel {
    gen_ai_request_model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KeptLabels {
    gen_ai_request_model: String,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StageLabel {
    stage: &'static str,
}
