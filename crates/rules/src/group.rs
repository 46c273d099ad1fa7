//! One group's evaluation with Prometheus's semantics: recording rules,
//! alert states, `ALERTS` and `ALERTS_FOR_STATE`, stale markers, limits,
//! and restoring alert state after a restart.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use promql::{Engine, InstantSample, Value};
use series::{Appendable, Appender, LabelRef, Labels, LabelsBuilder, Matcher, Querier, Queryable, STALE_NAN};
use tracing::{debug, warn};

use crate::file::{GroupSpec, RuleKind, RuleSpec};
use crate::metrics::RuleMetrics;
use crate::notify::Notification;
use crate::template::{Context, Template};

/// How long a resolved alert is kept (and re-sent) after it resolved, as in Prometheus.
const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// What makes two rules the same rule across a reload: kind, name and labels.
type RuleIdentity<'a> = (bool, &'a str, &'a BTreeMap<String, String>);

/// The state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    /// Resolved; kept for a while so that the resolution is sent.
    Inactive,
    /// The condition holds, but not yet for the rule's `for` duration.
    Pending,
    /// The condition has held for `for` (or keeps firing for `keep_firing_for`).
    Firing,
}

impl AlertState {
    /// `inactive`, `pending` or `firing`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// Whether a rule's last evaluation succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not evaluated yet.
    Unknown,
    /// The last evaluation succeeded.
    Ok,
    /// The last evaluation failed; see the rule's last error.
    Err,
}

impl Health {
    /// `unknown`, `ok` or `err`, as the rules API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

/// One alert of an alerting rule: a label set for which the condition holds or held.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The alert's labels: the sample's (without `__name__`), the rule's, and `alertname`.
    pub labels: Labels,
    /// The expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// Pending, firing or (recently resolved) inactive.
    pub state: AlertState,
    /// The value of the last evaluation that returned this alert.
    pub value: f64,
    /// Since when the condition holds, in milliseconds.
    pub active_at_ms: i64,
    /// When the alert started firing.
    pub fired_at_ms: Option<i64>,
    /// When the alert resolved.
    pub resolved_at_ms: Option<i64>,
    /// When it was last handed to the notifier.
    pub last_sent_ms: Option<i64>,
    /// Until when the last notification is valid (its `endsAt`).
    pub valid_until_ms: i64,
    /// Since when it keeps firing although the condition stopped holding.
    pub keep_firing_since_ms: Option<i64>,
}

/// The evaluation state of one rule.
#[derive(Debug, Clone)]
pub(crate) struct RuleState {
    pub(crate) health: Health,
    pub(crate) last_error: Option<String>,
    pub(crate) last_evaluation_ms: Option<i64>,
    pub(crate) evaluation_seconds: f64,
    /// The series the last successful evaluation wrote, for stale markers.
    pub(crate) series: HashSet<Labels>,
    /// Active alerts (and resolved ones within the retention), by labels.
    pub(crate) alerts: BTreeMap<Labels, Alert>,
}

impl Default for RuleState {
    fn default() -> Self {
        RuleState {
            health: Health::Unknown,
            last_error: None,
            last_evaluation_ms: None,
            evaluation_seconds: 0.0,
            series: HashSet::new(),
            alerts: BTreeMap::new(),
        }
    }
}

/// A rule with its parsed templates and state.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) spec: RuleSpec,
    /// The expression, parsed once (rule files are checked when loaded, so
    /// this fails only for groups set up without checking).
    parsed: Result<promql_parser::parser::Expr, String>,
    label_templates: Vec<(String, Template)>,
    annotation_templates: Vec<(String, Template)>,
    /// Whether the rule reads a series an earlier rule of the group records,
    /// so the batch must be committed first (Prometheus commits per rule).
    commit_before: bool,
    pub(crate) state: Mutex<RuleState>,
}

/// The evaluation state of a group.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupState {
    pub(crate) last_evaluation_ms: Option<i64>,
    pub(crate) evaluation_seconds: f64,
    pub(crate) restored: bool,
}

/// A group of rules evaluated together.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) spec: GroupSpec,
    pub(crate) key: String,
    pub(crate) interval: Duration,
    pub(crate) rules: Vec<Rule>,
    pub(crate) state: Mutex<GroupState>,
}

/// What a group evaluation needs from the manager.
pub(crate) struct Env<'a> {
    pub(crate) queryable: &'a dyn Queryable,
    pub(crate) appendable: &'a dyn Appendable,
    pub(crate) engine: &'a Engine,
    pub(crate) metrics: &'a RuleMetrics,
    pub(crate) external_labels: &'a BTreeMap<String, String>,
    pub(crate) external_url: &'a str,
    pub(crate) resend_delay: Duration,
    /// Restore alert state from `ALERTS_FOR_STATE` at the first evaluation.
    pub(crate) restore: Option<Restore>,
}

/// How alert state is restored after a restart (Prometheus's flags).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Restore {
    pub(crate) outage_tolerance: Duration,
    pub(crate) for_grace_period: Duration,
}

impl Group {
    pub(crate) fn new(spec: GroupSpec, default_interval: Duration) -> Group {
        let interval = spec.interval.unwrap_or(default_interval).max(Duration::from_millis(1));
        let mut recorded: Vec<&str> = Vec::new();
        let mut rules = Vec::with_capacity(spec.rules.len());
        for rule in &spec.rules {
            let commit_before = recorded.iter().any(|name| mentions(&rule.expr, name));
            recorded.push(if rule.is_alert() { "ALERTS" } else { &rule.name });
            let parse = |pairs: &BTreeMap<String, String>| {
                pairs
                    .iter()
                    .map(|(k, v)| {
                        let template =
                            Template::parse(v).unwrap_or_else(|_| Template::parse("").expect("empty template parses"));
                        (k.clone(), template)
                    })
                    .collect::<Vec<_>>()
            };
            let annotation_templates = match &rule.kind {
                RuleKind::Alerting { annotations, .. } => parse(annotations),
                RuleKind::Recording => Vec::new(),
            };
            rules.push(Rule {
                spec: rule.clone(),
                parsed: promql::parse(&rule.expr).map_err(|e| e.to_string()),
                label_templates: if rule.is_alert() { parse(&rule.labels) } else { Vec::new() },
                annotation_templates,
                commit_before,
                state: Mutex::new(RuleState::default()),
            });
        }
        Group { key: spec.key(), interval, rules, state: Mutex::new(GroupState::default()), spec }
    }

    /// The interval in milliseconds.
    pub(crate) fn interval_ms(&self) -> i64 {
        (self.interval.as_millis() as i64).max(1)
    }

    /// The latest evaluation time at or before `now_ms` on the group's grid:
    /// every group is offset by a hash of its key, as Prometheus spreads groups.
    pub(crate) fn aligned_at_or_before(&self, now_ms: i64) -> i64 {
        let interval = self.interval_ms();
        let offset = (xxhash_rust::xxh3::xxh3_64(self.key.as_bytes()) % interval as u64) as i64;
        let adjusted = now_ms - offset;
        adjusted - adjusted.rem_euclid(interval) + offset
    }

    /// Evaluates every rule at `t_ms`, appends the results in one batch and
    /// returns the alerts to send.
    pub(crate) fn evaluate(&self, env: &Env<'_>, t_ms: i64) -> Vec<Notification> {
        let span = tracing::debug_span!("rule_group", group = %self.key);
        let _entered = span.enter();
        let started = Instant::now();
        let query_t = t_ms - self.spec.query_offset.map_or(0, |d| d.as_millis() as i64);
        let restore = {
            let mut state = self.state.lock();
            let first = !state.restored;
            state.restored = true;
            if first { env.restore } else { None }
        };
        let mut appender = env.appendable.appender();
        let mut querier = env.queryable.querier().map_err(|e| e.to_string());
        let mut notifications = Vec::new();
        for rule in &self.rules {
            if rule.commit_before {
                if let Err(error) = appender.commit() {
                    warn!(group = %self.key, error = %error, "Rule results could not be stored");
                }
                drop(querier);
                querier = env.queryable.querier().map_err(|e| e.to_string());
            }
            let rule_started = Instant::now();
            let outcome = match &querier {
                Ok(querier) => rule.evaluate(env, querier.as_ref(), t_ms, query_t, self.spec.limit, restore),
                Err(message) => Err(format!("cannot open the store: {message}")),
            };
            let seconds = rule_started.elapsed().as_secs_f64();
            let mut state = rule.state.lock();
            state.last_evaluation_ms = Some(t_ms);
            state.evaluation_seconds = seconds;
            match outcome {
                Ok(samples) => {
                    if state.health == Health::Err {
                        debug!(group = %self.key, rule = %rule.spec.name, "Rule evaluates again");
                    }
                    state.health = Health::Ok;
                    state.last_error = None;
                    let mut seen = HashSet::with_capacity(samples.len());
                    for (labels, v) in samples {
                        append(appender.as_mut(), &labels, query_t, v);
                        seen.insert(labels);
                    }
                    for gone in state.series.difference(&seen) {
                        append(appender.as_mut(), gone, query_t, STALE_NAN);
                    }
                    state.series = seen;
                    env.metrics.observe_rule(&self.key, seconds, false);
                }
                Err(message) => {
                    if state.health != Health::Err || state.last_error.as_deref() != Some(message.as_str()) {
                        warn!(group = %self.key, rule = %rule.spec.name, error = %message, "Rule evaluation failed");
                    }
                    state.health = Health::Err;
                    state.last_error = Some(message);
                    env.metrics.observe_rule(&self.key, seconds, true);
                }
            }
            if rule.spec.is_alert() {
                notifications.extend(rule.alerts_to_send(&mut state, env, t_ms, self.interval));
            }
        }
        drop(querier);
        if let Err(error) = appender.commit() {
            warn!(group = %self.key, error = %error, "Rule results could not be stored");
        }
        let seconds = started.elapsed().as_secs_f64();
        let mut state = self.state.lock();
        state.last_evaluation_ms = Some(t_ms);
        state.evaluation_seconds = seconds;
        env.metrics.observe_group(&self.key, seconds, t_ms);
        notifications
    }

    /// Takes over the state of the rules of `old` that are the same rule
    /// (kind, name and labels), as Prometheus does on reload.
    pub(crate) fn copy_state(&self, old: &Group) {
        let mut by_identity: HashMap<RuleIdentity<'_>, Vec<&Rule>> = HashMap::new();
        for rule in &old.rules {
            by_identity.entry((rule.spec.is_alert(), &rule.spec.name, &rule.spec.labels)).or_default().push(rule);
        }
        for rule in &self.rules {
            let key = (rule.spec.is_alert(), rule.spec.name.as_str(), &rule.spec.labels);
            if let Some(candidates) = by_identity.get_mut(&key)
                && !candidates.is_empty()
            {
                let old_rule = candidates.remove(0);
                let old_state = old_rule.state.lock().clone();
                let mut state = rule.state.lock();
                *state = old_state;
                if rule.spec.expr != old_rule.spec.expr {
                    state.alerts.retain(|_, alert| alert.state != AlertState::Inactive);
                }
            }
        }
        let mut state = self.state.lock();
        let old_state = old.state.lock().clone();
        state.last_evaluation_ms = old_state.last_evaluation_ms;
        state.evaluation_seconds = old_state.evaluation_seconds;
        state.restored = old_state.restored;
    }

    /// Every series the group's rules wrote at their last evaluation, for
    /// stale markers when the group is removed.
    pub(crate) fn written_series(&self) -> Vec<Labels> {
        self.rules.iter().flat_map(|rule| rule.state.lock().series.iter().cloned().collect::<Vec<_>>()).collect()
    }
}

impl Rule {
    /// Evaluates the rule; returns the samples to write.
    fn evaluate(
        &self,
        env: &Env<'_>,
        querier: &dyn Querier,
        t_ms: i64,
        query_t: i64,
        limit: usize,
        restore: Option<Restore>,
    ) -> Result<Vec<(Labels, f64)>, String> {
        let expr = self.parsed.as_ref().map_err(Clone::clone)?;
        let vector = query_vector(env.engine, querier, expr, query_t)?;
        match &self.spec.kind {
            RuleKind::Recording => self.record(vector, limit),
            RuleKind::Alerting { hold, keep_firing_for, .. } => {
                let mut state = self.state.lock();
                let hold_ms = hold.as_millis() as i64;
                let keep_ms = keep_firing_for.as_millis() as i64;
                self.update_alerts(&mut state, env, vector, t_ms, hold_ms, keep_ms, limit)?;
                if let Some(restore) = restore {
                    self.restore(&mut state, querier, t_ms, hold_ms, restore);
                }
                Ok(alert_samples(&state.alerts))
            }
        }
    }

    fn record(&self, vector: Vec<InstantSample>, limit: usize) -> Result<Vec<(Labels, f64)>, String> {
        let mut out = Vec::with_capacity(vector.len());
        let mut seen = HashSet::with_capacity(vector.len());
        for sample in vector {
            let mut builder = sample.labels.to_builder();
            builder.set(series::METRIC_NAME, &self.spec.name);
            for (name, value) in &self.spec.labels {
                builder.set(name, value);
            }
            let labels = builder.build();
            if !seen.insert(labels.clone()) {
                return Err("vector contains metrics with the same labelset after applying rule labels".to_owned());
            }
            out.push((labels, sample.v));
        }
        if limit > 0 && out.len() > limit {
            return Err(format!("exceeded limit {limit} with {} series", out.len()));
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn update_alerts(
        &self,
        state: &mut RuleState,
        env: &Env<'_>,
        vector: Vec<InstantSample>,
        t_ms: i64,
        hold_ms: i64,
        keep_ms: i64,
        limit: usize,
    ) -> Result<(), String> {
        let mut results: BTreeMap<Labels, Alert> = BTreeMap::new();
        for sample in vector {
            let sample_labels: BTreeMap<String, String> =
                sample.labels.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect();
            let context = Context {
                labels: &sample_labels,
                value: sample.v,
                external_labels: env.external_labels,
                external_url: env.external_url,
            };
            let mut builder: LabelsBuilder = sample.labels.to_builder();
            builder.remove(series::METRIC_NAME);
            for (name, template) in &self.label_templates {
                builder.set(name, &template.expand(&context));
            }
            builder.set("alertname", &self.spec.name);
            let labels = builder.build();
            let annotations = self.annotation_templates.iter().map(|(k, t)| (k.clone(), t.expand(&context))).collect();
            if results.contains_key(&labels) {
                return Err("vector contains metrics with the same labelset after applying alert labels".to_owned());
            }
            let alert = Alert {
                labels: labels.clone(),
                annotations,
                state: AlertState::Pending,
                value: sample.v,
                active_at_ms: t_ms,
                fired_at_ms: None,
                resolved_at_ms: None,
                last_sent_ms: None,
                valid_until_ms: 0,
                keep_firing_since_ms: None,
            };
            results.insert(labels, alert);
        }
        let returned: HashSet<Labels> = results.keys().cloned().collect();
        for (labels, fresh) in results {
            match state.alerts.get_mut(&labels) {
                Some(alert) if alert.state != AlertState::Inactive => {
                    alert.value = fresh.value;
                    alert.annotations = fresh.annotations;
                }
                _ => {
                    state.alerts.insert(labels, fresh);
                }
            }
        }
        let mut n_active = 0;
        state.alerts.retain(|labels, alert| {
            if !returned.contains(labels) {
                let mut keep_firing = false;
                if alert.state == AlertState::Firing && keep_ms > 0 {
                    let since = *alert.keep_firing_since_ms.get_or_insert(t_ms);
                    keep_firing = t_ms - since < keep_ms;
                }
                if alert.state == AlertState::Pending
                    || alert.resolved_at_ms.is_some_and(|resolved| t_ms - resolved > RESOLVED_RETENTION_MS)
                {
                    return false;
                }
                if !keep_firing {
                    if alert.state != AlertState::Inactive {
                        alert.state = AlertState::Inactive;
                        alert.resolved_at_ms = Some(t_ms);
                        alert.keep_firing_since_ms = None;
                    }
                    return true;
                }
            } else {
                alert.keep_firing_since_ms = None;
            }
            n_active += 1;
            if alert.state == AlertState::Pending && t_ms - alert.active_at_ms >= hold_ms {
                alert.state = AlertState::Firing;
                alert.fired_at_ms = Some(t_ms);
            }
            true
        });
        if limit > 0 && n_active > limit {
            state.alerts.clear();
            return Err(format!("exceeded limit of {limit} with {n_active} alerts"));
        }
        Ok(())
    }

    /// Restores `active_at` of the rule's alerts from `ALERTS_FOR_STATE`, as
    /// Prometheus's `RestoreForState` does after a restart.
    fn restore(&self, state: &mut RuleState, querier: &dyn Querier, t_ms: i64, hold_ms: i64, restore: Restore) {
        let grace_ms = restore.for_grace_period.as_millis() as i64;
        if hold_ms < grace_ms || state.alerts.is_empty() {
            return;
        }
        let mint = t_ms - restore.outage_tolerance.as_millis() as i64;
        let matchers =
            [Matcher::equal(series::METRIC_NAME, "ALERTS_FOR_STATE"), Matcher::equal("alertname", &self.spec.name)];
        let found = match querier.select(&series::SelectHints::range(mint, t_ms - 1), &matchers) {
            Ok(found) => found,
            Err(error) => {
                warn!(rule = %self.spec.name, error = %error, "Cannot read ALERTS_FOR_STATE to restore alerts");
                return;
            }
        };
        let mut last: HashMap<Labels, (i64, f64)> = HashMap::new();
        for series in found {
            let mut builder = series.labels.to_builder();
            builder.remove(series::METRIC_NAME);
            let latest = series.decode(mint, t_ms - 1).into_iter().rev().find(|s| !series::is_stale_nan(s.v));
            if let Some(sample) = latest {
                last.insert(builder.build(), (sample.t, sample.v));
            }
        }
        for (labels, alert) in state.alerts.iter_mut() {
            if alert.state == AlertState::Inactive {
                continue;
            }
            let Some(&(down_at, active_at_seconds)) = last.get(labels) else { continue };
            let mut restored = (active_at_seconds * 1000.0) as i64;
            let time_spent_pending = down_at - restored;
            let time_remaining = hold_ms - time_spent_pending;
            if time_remaining <= 0 {
                // It was firing when the process stopped: keep the old activeAt,
                // the next evaluation fires it again if the condition holds.
            } else if time_remaining < grace_ms {
                restored = t_ms + grace_ms - hold_ms;
            } else {
                restored += t_ms - down_at;
            }
            alert.active_at_ms = restored;
            debug!(rule = %self.spec.name, labels = %labels, active_at_ms = restored, "Alert state restored");
        }
    }

    /// The alerts that need (re)sending now, marked as sent.
    fn alerts_to_send(&self, state: &mut RuleState, env: &Env<'_>, t_ms: i64, interval: Duration) -> Vec<Notification> {
        let resend_ms = env.resend_delay.as_millis() as i64;
        let delta = resend_ms.max(interval.as_millis() as i64);
        let mut out = Vec::new();
        for alert in state.alerts.values_mut() {
            let needs_sending = match alert.state {
                AlertState::Pending => false,
                _ => match alert.last_sent_ms {
                    None => true,
                    Some(sent) => alert.resolved_at_ms.is_some_and(|r| r > sent) || sent + resend_ms < t_ms,
                },
            };
            if !needs_sending {
                continue;
            }
            alert.last_sent_ms = Some(t_ms);
            alert.valid_until_ms = t_ms + 4 * delta;
            out.push(Notification::of(alert, &self.spec.expr, env.external_labels, env.external_url, t_ms));
        }
        out
    }
}

/// The samples an alerting rule writes: `ALERTS` (1) and `ALERTS_FOR_STATE`
/// (active-since in seconds) for each pending or firing alert.
fn alert_samples(alerts: &BTreeMap<Labels, Alert>) -> Vec<(Labels, f64)> {
    let mut out = Vec::with_capacity(alerts.len() * 2);
    for alert in alerts.values().filter(|a| a.state != AlertState::Inactive) {
        let mut builder = alert.labels.to_builder();
        builder.set(series::METRIC_NAME, "ALERTS");
        builder.set("alertstate", alert.state.as_str());
        out.push((builder.build(), 1.0));
        let mut builder = alert.labels.to_builder();
        builder.set(series::METRIC_NAME, "ALERTS_FOR_STATE");
        out.push((builder.build(), alert.active_at_ms as f64 / 1000.0));
    }
    out
}

fn query_vector(
    engine: &Engine,
    querier: &dyn Querier,
    expr: &promql_parser::parser::Expr,
    t_ms: i64,
) -> Result<Vec<InstantSample>, String> {
    let time = promql::QueryTime::Instant(t_ms);
    let (value, _warnings) =
        engine.query_expr(querier, expr, time, &AtomicBool::new(false)).map_err(|e| e.to_string())?;
    match value {
        // Rules record and alert on floats only: a histogram result is left out
        // rather than recorded as a NaN.
        Value::Vector(vector) => Ok(vector.into_iter().filter(|s| s.h.is_none()).collect()),
        Value::Scalar(sample) => Ok(vec![InstantSample { labels: Labels::empty(), t: sample.t, v: sample.v, h: None }]),
        Value::String { .. } | Value::Matrix(_) => Err("rule result is not a vector or scalar".to_owned()),
    }
}

fn append(appender: &mut dyn Appender, labels: &Labels, t: i64, v: f64) {
    let refs: Vec<LabelRef<'_>> = labels.iter().collect();
    appender.append(&refs, t, v);
}

/// Whether `expr` mentions `name` as a whole word (metric names may hold `:`).
fn mentions(expr: &str, name: &str) -> bool {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    expr.match_indices(name).any(|(at, _)| {
        let before = expr[..at].chars().next_back();
        let after = expr[at + name.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
    })
}
