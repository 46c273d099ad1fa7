//! Status and metadata endpoints that Grafana and promtool call:
//! `/api/v1/status/buildinfo`, `/api/v1/status/tsdb`, `/api/v1/metadata`,
//! `/api/v1/format_query`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::params::Params;
use crate::{Error, Result, Success};

/// What `/api/v1/status/buildinfo` reports.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BuildInfo {
    version: &'static str,
    revision: &'static str,
    branch: &'static str,
    build_user: &'static str,
    build_date: &'static str,
    go_version: &'static str,
}

/// `GET /api/v1/status/buildinfo`.
pub(crate) async fn buildinfo() -> Success<BuildInfo> {
    Success::new(BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        revision: "",
        branch: "",
        build_user: "",
        build_date: "",
        go_version: "",
    })
}

/// `GET /api/v1/metadata`: metric metadata (type, help, unit) by metric name.
/// Remote write 1.0 carries none and scraping is not there yet, so the
/// answer is an empty object, which clients read as "no metadata".
pub(crate) async fn metadata() -> Success<BTreeMap<String, Vec<()>>> {
    Success::new(BTreeMap::new())
}

/// `GET|POST /api/v1/format_query`: the query, pretty-printed.
pub(crate) async fn format_query(params: Params) -> Result<Success<String>> {
    let query = params.value("query").unwrap_or_default();
    let expr = promql::parse(query)
        .map_err(|error| Error::InvalidQuery { message: error.to_string() }.in_parameter("query"))?;
    Ok(Success::new(expr.prettify()))
}

/// The head's figures for `/api/v1/status/tsdb`, as the store reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadStats {
    /// Series in the in-memory head.
    pub num_series: u64,
    /// Chunks in the head.
    pub chunk_count: u64,
    /// Oldest head sample, in milliseconds.
    pub min_time: i64,
    /// Newest head sample, in milliseconds.
    pub max_time: i64,
}

/// `GET /api/v1/status/tsdb` as Prometheus answers it: head figures and the
/// top 10 metric names, label names and label pairs by series count.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TsdbStatus {
    head_stats: HeadStatsJson,
    series_count_by_metric_name: Vec<NameValue>,
    label_value_count_by_label_name: Vec<NameValue>,
    memory_in_bytes_by_label_name: Vec<NameValue>,
    series_count_by_label_value_pair: Vec<NameValue>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HeadStatsJson {
    num_series: u64,
    num_label_pairs: u64,
    chunk_count: u64,
    min_time: i64,
    max_time: i64,
}

#[derive(Debug, Serialize)]
struct NameValue {
    name: String,
    value: u64,
}

/// `GET /api/v1/status/tsdb`; `limit` (default 10) caps each list.
pub(crate) async fn tsdb(
    axum::extract::State(state): axum::extract::State<crate::ApiState>,
    params: Params,
) -> Result<Success<TsdbStatus>> {
    let limit = params.limit()?.unwrap_or(10);
    let head = state.head_stats.as_ref().map(|f| f()).unwrap_or_default();
    let queryable = state.queryable.clone();
    let all = series::Matcher::new(series::MatchOp::Regex, series::METRIC_NAME, ".+").expect("valid regex");
    let labels = tokio::task::spawn_blocking(move || -> Result<Vec<series::Labels>> {
        let hints = series::SelectHints { mint: i64::MIN, maxt: i64::MAX, labels_only: true };
        Ok(queryable.querier()?.select(&hints, &[all])?.into_iter().map(|s| s.labels).collect())
    })
    .await
    .map_err(|source| Error::Task { source })??;
    let mut by_metric: BTreeMap<String, u64> = BTreeMap::new();
    let mut values_by_name: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut bytes_by_name: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_pair: BTreeMap<String, u64> = BTreeMap::new();
    for set in &labels {
        for label in set {
            if label.name == series::METRIC_NAME {
                *by_metric.entry(label.value.to_owned()).or_default() += 1;
            }
            values_by_name.entry(label.name.to_owned()).or_default().insert(label.value.to_owned());
            *bytes_by_name.entry(label.name.to_owned()).or_default() += label.value.len() as u64;
            *by_pair.entry(format!("{}={}", label.name, label.value)).or_default() += 1;
        }
    }
    let top = |map: BTreeMap<String, u64>| -> Vec<NameValue> {
        let mut list: Vec<NameValue> = map.into_iter().map(|(name, value)| NameValue { name, value }).collect();
        list.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
        list.truncate(limit);
        list
    };
    let num_label_pairs = by_pair.len() as u64;
    Ok(Success::new(TsdbStatus {
        head_stats: HeadStatsJson {
            num_series: head.num_series,
            num_label_pairs,
            chunk_count: head.chunk_count,
            min_time: head.min_time,
            max_time: head.max_time,
        },
        series_count_by_metric_name: top(by_metric),
        label_value_count_by_label_name: top(values_by_name.into_iter().map(|(n, v)| (n, v.len() as u64)).collect()),
        memory_in_bytes_by_label_name: top(bytes_by_name),
        series_count_by_label_value_pair: top(by_pair),
    }))
}
