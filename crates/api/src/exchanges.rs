//! `/api/v1/infersight/exchanges`: sampled gateway exchanges and their scores, from the records store.
//!
//! Every answer that carries exchanges' text is audited first: one row per
//! exchange in the records store's `exchange_reads` (who, which, when, how)
//! and `infersight_exchange_reads_total{user}`. If the audit cannot be
//! written, the text is not sent.
//!
//! `DELETE` erases the exchanges of an end user, a session and/or a time
//! range, for data-subject requests (the `admin` role, as every `DELETE`
//! needs), counted in `infersight_exchanges_erased_total`. The ids it is
//! given are user data: they appear in no label, log line or error message.

use std::sync::Arc;
use std::time::Duration;

use access::Principal;
use axum::Extension;
use axum::extract::State;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use records::{Erasure, ExchangeId, ExchangeRecord, Filter, Page, StatusFilter, Store};
use serde::Serialize;
use tracing::info;

use crate::params::{Params, PathSegment};
use crate::query::parse_duration_ms;
use crate::{ApiState, Error, Result, Success};

/// Where reads of exchanges' text are counted.
#[derive(Debug, Clone, Default)]
pub struct ExchangeReads {
    reads: Family<UserLabels, Counter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UserLabels {
    user: String,
}

impl ExchangeReads {
    /// Registers `infersight_exchange_reads_total{user}`. The label is a
    /// configured username or token name (or `anonymous`), so it is bounded.
    pub fn new(registry: &mut Registry) -> ExchangeReads {
        let reads = ExchangeReads::default();
        registry.register(
            "infersight_exchange_reads",
            "Exchanges whose prompt and response text an API client was sent, by user or token name",
            reads.reads.clone(),
        );
        reads
    }
}

/// Where erasures of exchanges are counted.
#[derive(Debug, Clone, Default)]
pub struct ExchangeErasures {
    erased: Counter,
}

impl ExchangeErasures {
    /// Registers `infersight_exchanges_erased_total`, without labels: what
    /// was erased for whom is nobody's series.
    pub fn new(registry: &mut Registry) -> ExchangeErasures {
        let erasures = ExchangeErasures::default();
        registry.register(
            "infersight_exchanges_erased",
            "Stored exchanges erased on request (DELETE /api/v1/infersight/exchanges), with their scores",
            erasures.erased.clone(),
        );
        erasures
    }
}

/// Audits that `principal` is being sent the text of `ids`.
async fn audit(state: &ApiState, principal: Option<&Principal>, ids: Vec<ExchangeId>, how: &'static str) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let reader = principal.map_or_else(|| Principal::anonymous().name, |p| p.name.clone());
    let store = records_of(state)?;
    let n_read = ids.len() as u64;
    let now_ms = crate::clock::now_ms();
    let user = reader.clone();
    blocking(move || store.record_reads(&reader, &ids, how, now_ms)).await?;
    if let Some(reads) = &state.exchange_reads {
        reads.reads.get_or_create(&UserLabels { user }).inc_by(n_read);
    }
    Ok(())
}

/// `GET /api/v1/infersight/exchanges`: the newest exchanges matching the
/// parameters, with their scores.
///
/// Parameters, all optional: `model`; `gateway_key` (a `[[gateway.key]]`
/// name); `user` (the requests' `user`) and `session` (the gateway's
/// `x-infersight-session` header), for data-subject access; `start` and `end` (RFC 3339 or Unix
/// seconds); `status` (`ok`, `error` or an HTTP status code); `min_latency`
/// (a duration, `2s` or `2.5`); `flagged` (a scorer name, or `any`);
/// `before` (the previous page's `next_before`); `limit` (default 100, at
/// most 1000). The answer is `{"exchanges": [...], "next_before": id|null}`.
pub(crate) async fn search(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    params: Params,
) -> Result<Success<Page>> {
    let filter = filter_from(&params)?;
    let store = records_of(&state)?;
    let page = blocking(move || store.search(&filter)).await?;
    let ids = page.exchanges.iter().map(|record| record.id).collect();
    audit(&state, principal.as_deref(), ids, "search").await?;
    Ok(Success::new(page))
}

/// `GET /api/v1/infersight/exchanges/{id}`: one exchange with every score.
pub(crate) async fn get(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    PathSegment(id): PathSegment,
) -> Result<Success<ExchangeRecord>> {
    let id: i64 = id.parse().map_err(|_| Error::InvalidFilter { message: format!("invalid exchange id {id:?}") })?;
    let store = records_of(&state)?;
    let record = blocking(move || store.get(id)).await?.ok_or(Error::ExchangeNotFound { id })?;
    audit(&state, principal.as_deref(), vec![record.id], "get").await?;
    Ok(Success::new(record))
}

/// What an erasure answers.
#[derive(Debug, Serialize)]
pub(crate) struct Erased {
    /// How many exchanges were erased.
    erased: usize,
}

/// `DELETE /api/v1/infersight/exchanges`: erases the stored exchanges of a
/// data subject, with their scores, judgements and feedback.
///
/// Parameters: `user` (the requests' `user`), `session` (the gateway's
/// `x-infersight-session` header), `start` and `end` (RFC 3339 or Unix
/// seconds, both inclusive, both or neither). Each given one narrows; at
/// least one is needed, and any other parameter is refused, so a typo never
/// erases more than was meant. The answer is `{"erased": n}`.
pub(crate) async fn erase(
    State(state): State<ApiState>,
    principal: Option<Extension<Principal>>,
    params: Params,
) -> Result<Success<Erased>> {
    let erasure = erasure_from(&params)?;
    let store = records_of(&state)?;
    let erased = blocking(move || store.erase(&erasure)).await?;
    if let Some(erasures) = &state.exchange_erasures {
        erasures.erased.inc_by(erased as u64);
    }
    let by = principal.map_or_else(|| Principal::anonymous().name, |p| p.name.clone());
    info!(erased, by = %by, "Exchanges erased on request");
    Ok(Success::new(Erased { erased }))
}

fn erasure_from(params: &Params) -> Result<Erasure> {
    const KNOWN: [&str; 4] = ["user", "session", "start", "end"];
    if let Some(unknown) = params.names().find(|name| !KNOWN.contains(name)) {
        return Err(Error::InvalidFilter {
            message: format!("unknown parameter {unknown:?}: an erasure takes user, session, start and end"),
        });
    }
    let range_ms = match (params.value("start"), params.value("end")) {
        (None, None) => None,
        (Some(_), Some(_)) => {
            let (start, end) = (params.time("start", 0)?, params.time("end", 0)?);
            if end < start {
                return Err(Error::InvalidFilter { message: "end timestamp must not be before start time".into() });
            }
            Some((start, end))
        }
        _ => return Err(Error::InvalidFilter { message: "a time range needs both start and end".into() }),
    };
    let erasure = Erasure {
        user: params.value("user").map(str::to_owned),
        session: params.value("session").map(str::to_owned),
        range_ms,
    };
    if erasure.is_empty() {
        return Err(Error::InvalidFilter {
            message: "an erasure needs user, session, or start and end; it never erases everything".into(),
        });
    }
    Ok(erasure)
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
        gateway_key: params.value("gateway_key").filter(|k| !k.is_empty()).map(str::to_owned),
        user: params.value("user").filter(|u| !u.is_empty()).map(str::to_owned),
        session: params.value("session").filter(|s| !s.is_empty()).map(str::to_owned),
        start_ms: optional_time("start")?,
        end_ms: optional_time("end")?,
        status,
        min_latency,
        flagged_by,
        before,
        limit: params.limit()?,
    })
}
