//! `/api/v1/infersight/exchanges`: sampled gateway exchanges and their scores, from the records store.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use records::{ExchangeRecord, Filter, Page, StatusFilter, Store};

use crate::params::Params;
use crate::query::parse_duration_ms;
use crate::{ApiState, Error, Result, Success};

/// `GET /api/v1/infersight/exchanges`: the newest exchanges matching the
/// parameters, with their scores.
///
/// Parameters, all optional: `model`; `start` and `end` (RFC 3339 or Unix
/// seconds); `status` (`ok`, `error` or an HTTP status code); `min_latency`
/// (a duration, `2s` or `2.5`); `flagged` (a scorer name, or `any`);
/// `before` (the previous page's `next_before`); `limit` (default 100, at
/// most 1000). The answer is `{"exchanges": [...], "next_before": id|null}`.
pub(crate) async fn search(State(state): State<ApiState>, params: Params) -> Result<Success<Page>> {
    let filter = filter_from(&params)?;
    let store = records_of(&state)?;
    let page = blocking(move || store.search(&filter)).await?;
    Ok(Success::new(page))
}

/// `GET /api/v1/infersight/exchanges/{id}`: one exchange with every score.
pub(crate) async fn get(State(state): State<ApiState>, Path(id): Path<String>) -> Result<Success<ExchangeRecord>> {
    let id: i64 = id.parse().map_err(|_| Error::InvalidFilter { message: format!("invalid exchange id {id:?}") })?;
    let store = records_of(&state)?;
    let record = blocking(move || store.get(id)).await?;
    record.map(Success::new).ok_or(Error::ExchangeNotFound { id })
}

fn records_of(state: &ApiState) -> Result<Arc<Store>> {
    state.records.clone().ok_or(Error::NoRecords)
}

/// Runs a records-store read on a blocking thread.
async fn blocking<T: Send + 'static>(read: impl FnOnce() -> records::Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(read).await.map_err(|source| Error::Task { source })?.map_err(Error::Records)
}

fn filter_from(params: &Params) -> Result<Filter> {
    let invalid =
        |name: &str, value: &str| Error::InvalidFilter { message: format!("invalid parameter {name:?}: {value:?}") };
    let optional_time =
        |name: &'static str| -> Result<Option<i64>> { params.value(name).map(|_| params.time(name, 0)).transpose() };
    let status = match params.value("status") {
        None | Some("") => None,
        Some("ok") => Some(StatusFilter::Ok),
        Some("error") => Some(StatusFilter::Error),
        Some(code) => Some(StatusFilter::Code(
            code.parse().ok().filter(|c| (100..600).contains(c)).ok_or_else(|| invalid("status", code))?,
        )),
    };
    let min_latency = params
        .value("min_latency")
        .map(|v| {
            parse_duration_ms(v)
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis)
                .ok_or_else(|| invalid("min_latency", v))
        })
        .transpose()?;
    let flagged_by = params.value("flagged").map(|v| if v == "any" { String::new() } else { v.to_owned() });
    let before = params.value("before").map(|v| v.parse().map_err(|_| invalid("before", v))).transpose()?;
    Ok(Filter {
        model: params.value("model").filter(|m| !m.is_empty()).map(str::to_owned),
        start_ms: optional_time("start")?,
        end_ms: optional_time("end")?,
        status,
        min_latency,
        flagged_by,
        before,
        limit: params.limit()?,
    })
}
