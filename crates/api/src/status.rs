//! Status and metadata endpoints that Grafana and promtool call:
//! `/api/v1/status/buildinfo`, `/api/v1/metadata`, `/api/v1/format_query`.

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
    let expr =
        promql_parser::parser::parse(query).map_err(|message| Error::InvalidQuery { message }.in_parameter("query"))?;
    Ok(Success::new(expr.prettify()))
}
