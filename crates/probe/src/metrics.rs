//! The `infersight_probe_*` series.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProbeLabels {
    probe: String,
    gen_ai_request_model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ScoreLabels {
    probe: String,
    gen_ai_request_model: String,
    gen_ai_evaluation_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ItemLabels {
    probe: String,
    gen_ai_request_model: String,
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    probe: String,
    gen_ai_request_model: String,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DatasetLabels {
    probe: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The probes' metrics, registered in the binary's registry. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    success: Family<ProbeLabels, FloatGauge>,
    score: Family<ScoreLabels, FloatGauge>,
    duration: Family<ProbeLabels, FloatGauge>,
    ttft: Family<ProbeLabels, FloatGauge>,
    items: Family<ItemLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    dataset_errors: Family<DatasetLabels, Counter>,
}

/// What one run of a probe against one model measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct RunMeasures {
    /// Every item answered and passed.
    pub success: bool,
    /// Mean score per evaluation name.
    pub scores: Vec<(String, f64)>,
    /// Mean duration and TTFT of the answered items, in seconds.
    pub duration: Option<f64>,
    pub ttft: Option<f64>,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics::default();
        registry.register(
            "infersight_probe_success",
            "1 when the probe's last run got every item answered and passed by the model, else 0",
            metrics.success.clone(),
        );
        registry.register(
            "infersight_probe_score",
            "Mean score of the probe's last run per evaluation (reference, json, refusal), in [0, 1]",
            metrics.score.clone(),
        );
        registry.register(
            "infersight_probe_duration_seconds",
            "Mean time of the last run's answers, through the gateway, from request to last token",
            metrics.duration.clone(),
        );
        registry.register(
            "infersight_probe_time_to_first_token_seconds",
            "Mean time of the last run's answers, through the gateway, from request to first token",
            metrics.ttft.clone(),
        );
        registry.register(
            "infersight_probe_items",
            "Probe items sent, by result (pass, fail, error)",
            metrics.items.clone(),
        );
        registry.register(
            "infersight_probe_failures",
            "Probe items that got no answer, by reason",
            metrics.failures.clone(),
        );
        registry.register(
            "infersight_probe_dataset_errors",
            "Lines of a probe's dataset that are not items, skipped",
            metrics.dataset_errors.clone(),
        );
        metrics
    }

    pub(crate) fn count_dataset_errors(&self, probe: &str, errors: usize) {
        self.dataset_errors.get_or_create(&DatasetLabels { probe: probe.to_owned() }).inc_by(errors as u64);
    }

    pub(crate) fn count_item(&self, probe: &str, model: &str, result: &'static str) {
        let labels = ItemLabels { probe: probe.to_owned(), gen_ai_request_model: model.to_owned(), result };
        self.items.get_or_create(&labels).inc();
    }

    pub(crate) fn count_failure(&self, probe: &str, model: &str, reason: &'static str) {
        let labels = FailureLabels { probe: probe.to_owned(), gen_ai_request_model: model.to_owned(), reason };
        self.failures.get_or_create(&labels).inc();
    }

    pub(crate) fn record_run(&self, probe: &str, model: &str, run: &RunMeasures) {
        let labels = ProbeLabels { probe: probe.to_owned(), gen_ai_request_model: model.to_owned() };
        self.success.get_or_create(&labels).set(if run.success { 1.0 } else { 0.0 });
        if let Some(duration) = run.duration {
            self.duration.get_or_create(&labels).set(duration);
        }
        if let Some(ttft) = run.ttft {
            self.ttft.get_or_create(&labels).set(ttft);
        }
        for (name, value) in &run.scores {
            let labels = ScoreLabels {
                probe: probe.to_owned(),
                gen_ai_request_model: model.to_owned(),
                gen_ai_evaluation_name: name.clone(),
            };
            self.score.get_or_create(&labels).set(*value);
        }
    }
}
