//! `GET /api/v1/rules` and `GET /api/v1/alerts`, answered as Prometheus answers them.

use std::collections::{BTreeMap, HashSet};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::file::RuleKind;
use crate::group::{Alert, AlertState, Group, Rule};
use crate::manager::Manager;
use crate::template::format_alert_value;

/// The `data` of `GET /api/v1/rules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesData {
    /// The groups, in load order.
    pub groups: Vec<GroupInfo>,
}

/// One group as the rules API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    /// The group's name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Its rules (those the filters keep).
    pub rules: Vec<RuleInfo>,
    /// The interval in seconds.
    pub interval: f64,
    /// The limit (0: none).
    pub limit: usize,
    /// How long the last evaluation took, in seconds.
    pub evaluation_time: f64,
    /// When it was last evaluated, RFC 3339.
    pub last_evaluation: String,
}

/// One rule as the rules API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInfo {
    /// `inactive`, `pending` or `firing` (alerting rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// The record or alert name.
    pub name: String,
    /// The expression.
    pub query: String,
    /// `for` in seconds (alerting rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// `keep_firing_for` in seconds (alerting rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<f64>,
    /// The rule's labels.
    pub labels: BTreeMap<String, String>,
    /// The annotations (alerting rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The rule's active alerts (alerting rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<AlertInfo>>,
    /// `ok`, `err` or `unknown`.
    pub health: &'static str,
    /// Why the last evaluation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How long the last evaluation took, in seconds.
    pub evaluation_time: f64,
    /// When it was last evaluated, RFC 3339.
    pub last_evaluation: String,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One alert as the rules and alerts APIs show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertInfo {
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: &'static str,
    /// Since when the condition holds, RFC 3339.
    pub active_at: String,
    /// Since when it keeps firing without its condition, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<String>,
    /// The last value, formatted as Go's `%e`.
    pub value: String,
}

/// The `data` of `GET /api/v1/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertsData {
    /// Every pending or firing alert.
    pub alerts: Vec<AlertInfo>,
}

pub(crate) fn router(manager: Manager) -> Router {
    Router::new().route("/api/v1/rules", get(rules)).route("/api/v1/alerts", get(alerts)).with_state(manager)
}

fn rfc3339(ms: Option<i64>) -> String {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn alert_info(alert: &Alert) -> AlertInfo {
    AlertInfo {
        labels: alert.labels.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect(),
        annotations: alert.annotations.clone(),
        state: alert.state.as_str(),
        active_at: rfc3339(Some(alert.active_at_ms)),
        keep_firing_since: alert.keep_firing_since_ms.map(|t| rfc3339(Some(t))),
        value: format_alert_value(alert.value),
    }
}

fn rule_info(rule: &Rule, with_alerts: bool) -> RuleInfo {
    let state = rule.state.lock();
    let active: Vec<&Alert> = state.alerts.values().filter(|a| a.state != AlertState::Inactive).collect();
    let (rule_state, duration, keep_firing_for, annotations, alerts) = match &rule.spec.kind {
        RuleKind::Recording => (None, None, None, None, None),
        RuleKind::Alerting { hold, keep_firing_for, annotations } => {
            let top = active.iter().map(|a| a.state).max().unwrap_or(AlertState::Inactive);
            (
                Some(top.as_str()),
                Some(hold.as_secs_f64()),
                Some(keep_firing_for.as_secs_f64()),
                Some(annotations.clone()),
                Some(if with_alerts { active.iter().map(|a| alert_info(a)).collect() } else { Vec::new() }),
            )
        }
    };
    RuleInfo {
        state: rule_state,
        name: rule.spec.name.clone(),
        query: rule.spec.expr.clone(),
        duration,
        keep_firing_for,
        labels: rule.spec.labels.clone(),
        annotations,
        alerts,
        health: state.health.as_str(),
        last_error: state.last_error.clone(),
        evaluation_time: state.evaluation_seconds,
        last_evaluation: rfc3339(state.last_evaluation_ms),
        kind: if rule.spec.is_alert() { "alerting" } else { "recording" },
    }
}

/// The filters of `GET /api/v1/rules`.
#[derive(Debug, Default)]
struct Filters {
    alerts_only: Option<bool>,
    rule_names: HashSet<String>,
    rule_groups: HashSet<String>,
    files: HashSet<String>,
    exclude_alerts: bool,
}

fn parse_filters(query: Option<&str>) -> Result<Filters, String> {
    let mut filters = Filters::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "type" => {
                filters.alerts_only = match value.as_ref() {
                    "alert" => Some(true),
                    "record" => Some(false),
                    "" => None,
                    other => return Err(format!("not supported value {other:?}")),
                }
            }
            "rule_name[]" => {
                filters.rule_names.insert(value.into_owned());
            }
            "rule_group[]" => {
                filters.rule_groups.insert(value.into_owned());
            }
            "file[]" => {
                filters.files.insert(value.into_owned());
            }
            "exclude_alerts" => {
                filters.exclude_alerts = match value.as_ref() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    other => return Err(format!("parameter \"exclude_alerts\" must be a boolean, got {other:?}")),
                }
            }
            _ => {}
        }
    }
    Ok(filters)
}

/// The rules API's answer for the manager's current groups.
pub fn rules_data(manager: &Manager, query: Option<&str>) -> Result<RulesData, String> {
    let filters = parse_filters(query)?;
    let groups = manager.groups();
    let mut out = Vec::new();
    for group in groups.iter() {
        if (!filters.rule_groups.is_empty() && !filters.rule_groups.contains(&group.spec.name))
            || (!filters.files.is_empty() && !filters.files.contains(&group.spec.file))
        {
            continue;
        }
        let rules: Vec<RuleInfo> = group
            .rules
            .iter()
            .filter(|r| filters.alerts_only.is_none_or(|alerts| r.spec.is_alert() == alerts))
            .filter(|r| filters.rule_names.is_empty() || filters.rule_names.contains(&r.spec.name))
            .map(|r| rule_info(r, !filters.exclude_alerts))
            .collect();
        if rules.is_empty() && (filters.alerts_only.is_some() || !filters.rule_names.is_empty()) {
            continue;
        }
        out.push(group_info(group, rules));
    }
    Ok(RulesData { groups: out })
}

fn group_info(group: &Group, rules: Vec<RuleInfo>) -> GroupInfo {
    let state = group.state.lock().clone();
    GroupInfo {
        name: group.spec.name.clone(),
        file: group.spec.file.clone(),
        rules,
        interval: group.interval.as_secs_f64(),
        limit: group.spec.limit,
        evaluation_time: state.evaluation_seconds,
        last_evaluation: rfc3339(state.last_evaluation_ms),
    }
}

/// The alerts API's answer: every pending or firing alert.
pub fn alerts_data(manager: &Manager) -> AlertsData {
    let groups = manager.groups();
    let alerts = groups
        .iter()
        .flat_map(|g| g.rules.iter())
        .filter(|r| r.spec.is_alert())
        .flat_map(|r| {
            let state = r.state.lock();
            state.alerts.values().filter(|a| a.state != AlertState::Inactive).map(alert_info).collect::<Vec<_>>()
        })
        .collect();
    AlertsData { alerts }
}

#[derive(Serialize)]
struct Envelope<T> {
    status: &'static str,
    data: T,
}

#[derive(Serialize)]
struct ErrorEnvelope {
    status: &'static str,
    #[serde(rename = "errorType")]
    error_type: &'static str,
    error: String,
}

async fn rules(State(manager): State<Manager>, RawQuery(query): RawQuery) -> Response {
    match rules_data(&manager, query.as_deref()) {
        Ok(data) => Json(Envelope { status: "success", data }).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, Json(ErrorEnvelope { status: "error", error_type: "bad_data", error }))
            .into_response(),
    }
}

async fn alerts(State(manager): State<Manager>) -> Response {
    Json(Envelope { status: "success", data: alerts_data(&manager) }).into_response()
}
