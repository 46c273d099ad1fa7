//! The judges' self-metrics (DESIGN.md §10): calls by outcome, tokens,
//! spend, budget refusals and latency, by judge.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Judge call latency buckets, in seconds: a judge is a whole LLM call.
const DURATION_BUCKETS: [f64; 12] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0];

/// Counters and histograms of every judge. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Metrics {
    requests: Family<OutcomeLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<JudgeLabel, Counter<f64, AtomicU64>>,
    exhausted: Family<LimitLabels, Counter>,
    duration: Family<JudgeLabel, Histogram, fn() -> Histogram>,
    budget_used: Family<LimitLabels, Gauge<f64, AtomicU64>>,
    budget_limit: Family<LimitLabels, Gauge<f64, AtomicU64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    judge: String,
    outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TokenLabels {
    judge: String,
    gen_ai_token_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JudgeLabel {
    judge: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LimitLabels {
    judge: String,
    limit: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

impl Metrics {
    /// Registers the judges' metrics in `registry`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics {
            requests: Family::default(),
            tokens: Family::default(),
            cost: Family::default(),
            exhausted: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
            budget_used: Family::default(),
            budget_limit: Family::default(),
        };
        // The text encoder adds `_total` to counter names.
        registry.register(
            "infersight_judge_requests",
            "Judgements by judge and outcome (ok, cache_hit, or why none came back)",
            metrics.requests.clone(),
        );
        registry.register(
            "infersight_judge_tokens",
            "Tokens judges used, by judge and type (input, output)",
            metrics.tokens.clone(),
        );
        registry.register(
            "infersight_judge_cost_dollars",
            "What judges cost, by judge, where a price is configured",
            metrics.cost.clone(),
        );
        registry.register(
            "infersight_judge_budget_exhausted",
            "Judgements skipped because a budget limit had no room, by judge and limit",
            metrics.exhausted.clone(),
        );
        registry.register(
            "infersight_judge_duration_seconds",
            "Time of judge calls that reached the judge, retries included, by judge",
            metrics.duration.clone(),
        );
        registry.register(
            "infersight_judge_budget_used",
            "What is used of each configured budget limit, by judge and limit: calls this minute, tokens or dollars today (UTC), as of the last call",
            metrics.budget_used.clone(),
        );
        registry.register(
            "infersight_judge_budget_limit",
            "Each configured budget limit of a judge, by judge and limit (requests_per_minute, tokens_per_day, dollars_per_day)",
            metrics.budget_limit.clone(),
        );
        metrics
    }

    /// Sets the budget gauges of `judge` from its budget's usage.
    pub(crate) fn observe_budget(&self, judge: &str, budget: &crate::Budget) {
        for (limit, used, cap) in budget.usage() {
            let labels = LimitLabels { judge: judge.to_owned(), limit: limit.to_owned() };
            self.budget_used.get_or_create(&labels).set(used);
            self.budget_limit.get_or_create(&labels).set(cap);
        }
    }

    pub(crate) fn count(&self, judge: &str, outcome: &str) {
        self.requests.get_or_create(&OutcomeLabels { judge: judge.to_owned(), outcome: outcome.to_owned() }).inc();
    }

    pub(crate) fn count_exhausted(&self, judge: &str, limit: &str) {
        self.exhausted.get_or_create(&LimitLabels { judge: judge.to_owned(), limit: limit.to_owned() }).inc();
    }

    pub(crate) fn observe_call(
        &self,
        judge: &str,
        seconds: f64,
        input_tokens: u64,
        output_tokens: u64,
        dollars: Option<f64>,
    ) {
        let judge_label = JudgeLabel { judge: judge.to_owned() };
        self.duration.get_or_create(&judge_label).observe(seconds);
        for (kind, tokens) in [("input", input_tokens), ("output", output_tokens)] {
            self.tokens
                .get_or_create(&TokenLabels { judge: judge.to_owned(), gen_ai_token_type: kind.to_owned() })
                .inc_by(tokens);
        }
        if let Some(dollars) = dollars {
            self.cost.get_or_create(&judge_label).inc_by(dollars);
        }
    }
}
