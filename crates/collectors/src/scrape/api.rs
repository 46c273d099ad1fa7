//! `GET /api/v1/targets`, answered as Prometheus answers it.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::scrape::Manager;
use crate::scrape::target::{Target, format_duration};

/// One active target as the targets API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    /// Labels before relabelling: `__address__`, `__metrics_path__`, `__scheme__`, ...
    pub discovered_labels: BTreeMap<String, String>,
    /// The target's labels: `job`, `instance` and the configured ones.
    pub labels: BTreeMap<String, String>,
    /// The job name.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The URL scraped, as reachable from elsewhere (the same here).
    pub global_url: String,
    /// Why the last scrape failed; empty when it succeeded.
    pub last_error: String,
    /// When the last scrape started, RFC 3339; `0001-01-01T00:00:00Z` before the first.
    pub last_scrape: String,
    /// How long the last scrape took, in seconds.
    pub last_scrape_duration: f64,
    /// `up`, `down` or `unknown`.
    pub health: &'static str,
    /// The job's interval, like `15s`.
    pub scrape_interval: String,
    /// The job's timeout, like `10s`.
    pub scrape_timeout: String,
}

impl TargetInfo {
    pub(crate) fn of(target: &Target) -> TargetInfo {
        let status = target.status.lock().clone();
        let last_scrape = status.last_scrape.map_or_else(
            || "0001-01-01T00:00:00Z".to_owned(),
            |t| DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::AutoSi, true),
        );
        TargetInfo {
            discovered_labels: target.discovered.clone(),
            labels: target.labels.iter().cloned().collect(),
            scrape_pool: target.job.job_name.clone(),
            scrape_url: target.url.clone(),
            global_url: target.url.clone(),
            last_error: status.last_error,
            last_scrape,
            last_scrape_duration: status.last_duration.as_secs_f64(),
            health: status.health.as_str(),
            scrape_interval: format_duration(target.job.interval),
            scrape_timeout: format_duration(target.job.timeout),
        }
    }
}

/// The `data` of the targets API's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetsResponse {
    /// Targets being scraped.
    pub active_targets: Vec<TargetInfo>,
    /// Targets dropped by relabelling: always empty, as there is no target relabelling.
    pub dropped_targets: Vec<TargetInfo>,
    /// Dropped targets per job.
    pub dropped_target_counts: BTreeMap<String, usize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetsQuery {
    #[serde(default)]
    state: String,
    scrape_pool: Option<String>,
}

pub(crate) fn router(manager: Manager) -> Router {
    Router::new().route("/api/v1/targets", get(targets)).with_state(manager)
}

async fn targets(State(manager): State<Manager>, Query(query): Query<TargetsQuery>) -> Response {
    // As in Prometheus, an unknown state shows neither kind.
    let state = query.state.to_ascii_lowercase();
    let show_active = matches!(state.as_str(), "" | "any" | "active");
    let mut active_targets = Vec::new();
    if show_active {
        active_targets = manager.targets();
        if let Some(pool) = &query.scrape_pool {
            active_targets.retain(|t| &t.scrape_pool == pool);
        }
    }
    let mut dropped_target_counts = BTreeMap::new();
    for target in manager.targets() {
        dropped_target_counts.insert(target.scrape_pool, 0);
    }
    let data = TargetsResponse { active_targets, dropped_targets: Vec::new(), dropped_target_counts };
    Json(Envelope { status: "success", data }).into_response()
}

#[derive(Serialize)]
struct Envelope<T> {
    status: &'static str,
    data: T,
}
