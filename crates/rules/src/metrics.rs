//! Self-metrics of rule evaluation and notification, under `infersight_rule_*`
//! and `infersight_notifications_*`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Counters and gauges of rule evaluation. Cloning shares them.
#[derive(Debug, Clone)]
pub struct RuleMetrics {
    evaluations: Family<GroupLabel, Counter>,
    failures: Family<GroupLabel, Counter>,
    missed: Family<GroupLabel, Counter>,
    last_duration: Family<GroupLabel, Gauge<f64, AtomicU64>>,
    last_evaluation: Family<GroupLabel, Gauge<f64, AtomicU64>>,
    interval: Family<GroupLabel, Gauge<f64, AtomicU64>>,
    rules: Family<GroupLabel, Gauge>,
    duration: Histogram,
}

/// Counters of the notification queue and its receivers. Cloning shares them.
#[derive(Debug, Clone)]
pub struct NotifyMetrics {
    pub(crate) sent: Family<ReceiverLabel, Counter>,
    pub(crate) errors: Family<ReceiverLabel, Counter>,
    pub(crate) dropped: Counter,
    pub(crate) queue_length: Gauge,
    pub(crate) queue_capacity: Gauge,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct GroupLabel {
    rule_group: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ReceiverLabel {
    pub(crate) receiver: String,
}

impl RuleMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> RuleMetrics {
        let metrics = RuleMetrics::unregistered();
        // The text encoder adds `_total` to counter names.
        registry.register(
            "infersight_rule_evaluations",
            "Rule evaluations, by group (file;name)",
            metrics.evaluations.clone(),
        );
        registry.register(
            "infersight_rule_evaluation_failures",
            "Rule evaluations that failed (query error, limit, store), by group",
            metrics.failures.clone(),
        );
        registry.register(
            "infersight_rule_group_iterations_missed",
            "Group evaluations skipped because the previous one ran late, by group",
            metrics.missed.clone(),
        );
        registry.register(
            "infersight_rule_group_last_duration_seconds",
            "How long the group's last evaluation took",
            metrics.last_duration.clone(),
        );
        registry.register(
            "infersight_rule_group_last_evaluation_timestamp_seconds",
            "When the group was last evaluated, in seconds since the epoch",
            metrics.last_evaluation.clone(),
        );
        registry.register(
            "infersight_rule_group_interval_seconds",
            "The group's evaluation interval",
            metrics.interval.clone(),
        );
        registry.register("infersight_rule_group_rules", "Rules in the group", metrics.rules.clone());
        registry.register(
            "infersight_rule_evaluation_duration_seconds",
            "How long one rule's evaluation took",
            metrics.duration.clone(),
        );
        metrics
    }

    /// Metrics that no registry exposes, for tests and tools.
    pub fn unregistered() -> RuleMetrics {
        RuleMetrics {
            evaluations: Family::default(),
            failures: Family::default(),
            missed: Family::default(),
            last_duration: Family::default(),
            last_evaluation: Family::default(),
            interval: Family::default(),
            rules: Family::default(),
            duration: Histogram::new(exponential_buckets(0.0001, 4.0, 10)),
        }
    }

    fn label(group: &str) -> GroupLabel {
        GroupLabel { rule_group: group.to_owned() }
    }

    pub(crate) fn observe_rule(&self, group: &str, seconds: f64, failed: bool) {
        let label = RuleMetrics::label(group);
        self.evaluations.get_or_create(&label).inc();
        if failed {
            self.failures.get_or_create(&label).inc();
        }
        self.duration.observe(seconds);
    }

    pub(crate) fn observe_group(&self, group: &str, seconds: f64, at_ms: i64) {
        let label = RuleMetrics::label(group);
        self.last_duration.get_or_create(&label).set(seconds);
        self.last_evaluation.get_or_create(&label).set(at_ms as f64 / 1000.0);
    }

    pub(crate) fn count_missed(&self, group: &str, n: u64) {
        self.missed.get_or_create(&RuleMetrics::label(group)).inc_by(n);
    }

    pub(crate) fn set_groups<'a>(&self, groups: impl IntoIterator<Item = (&'a str, f64, usize)>) {
        self.interval.clear();
        self.rules.clear();
        for (group, interval, n_rules) in groups {
            let label = RuleMetrics::label(group);
            self.interval.get_or_create(&label).set(interval);
            self.rules.get_or_create(&label).set(n_rules as i64);
        }
    }
}

impl NotifyMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> NotifyMetrics {
        let metrics = NotifyMetrics::unregistered();
        registry.register(
            "infersight_notifications_sent",
            "Alerts sent, by receiver (Alertmanager or webhook URL)",
            metrics.sent.clone(),
        );
        registry.register(
            "infersight_notifications_errors",
            "Alerts whose sending failed after retries, by receiver",
            metrics.errors.clone(),
        );
        registry.register(
            "infersight_notifications_dropped",
            "Alerts dropped because the notification queue was full",
            metrics.dropped.clone(),
        );
        registry.register(
            "infersight_notifications_queue_length",
            "Alerts waiting in the notification queue",
            metrics.queue_length.clone(),
        );
        registry.register(
            "infersight_notifications_queue_capacity",
            "The notification queue's capacity",
            metrics.queue_capacity.clone(),
        );
        metrics
    }

    /// Metrics that no registry exposes, for tests and tools.
    pub fn unregistered() -> NotifyMetrics {
        NotifyMetrics {
            sent: Family::default(),
            errors: Family::default(),
            dropped: Counter::default(),
            queue_length: Gauge::default(),
            queue_capacity: Gauge::default(),
        }
    }

    /// Alerts dropped because the queue was full, so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}
