//! Prometheus-compatible HTTP API: the only crate that knows Prometheus's JSON format.
//!
//! This round serves the read path that needs no PromQL evaluation: the
//! series, label names and label values endpoints, plus the health and
//! readiness probes. Every response uses Prometheus's envelope and error types
//! ([`response`]), and parameters are read as Prometheus reads them: from the
//! query string and a form-encoded POST body, with its time format and
//! `match[]` selectors. The crate reads series only through
//! [`series::Queryable`](::series::Queryable), so it is tested on an in-memory store; it binds no
//! socket and spawns no detached task: the binary merges [`router`] with the
//! other crates' routers, wraps the result in [`instrument`] and serves it.
#![warn(missing_docs)]

mod annotations;
mod backfill;
mod clock;
mod compare;
mod error;
mod exchanges;
mod feedback;
mod health;
mod labels;
pub mod metrics;
mod params;
mod query;
pub mod response;
mod series;
mod status;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::routing::get;

pub use annotations::{SERIES as ANNOTATION_SERIES, record_annotation};
pub use backfill::BackfillStatus;
pub use error::{Error, Result};
pub use exchanges::{ExchangeErasures, ExchangeReads};
pub use feedback::Feedback;
pub use metrics::{Metrics, instrument};
pub use response::{ApiError, ErrorType, Success};
pub use status::HeadStats;

/// What the API's handlers share: the store to read and the readiness flag.
///
/// Cloning is cheap and clones share the readiness flag, so the binary keeps
/// one clone to call [`ApiState::set_ready`] on.
#[derive(Clone)]
pub struct ApiState {
    queryable: Arc<dyn ::series::Queryable>,
    engine: promql::Engine,
    ready: Arc<AtomicBool>,
    head_stats: Option<Arc<dyn Fn() -> HeadStats + Send + Sync>>,
    records: Option<Arc<records::Store>>,
    feedback: Option<feedback::Feedback>,
    exchange_reads: Option<ExchangeReads>,
    exchange_erasures: Option<ExchangeErasures>,
    backfill: Option<Arc<dyn Fn() -> BackfillStatus + Send + Sync>>,
    appendable: Option<Arc<dyn ::series::Appendable>>,
}

impl ApiState {
    /// State over `queryable`, ready to serve queries.
    pub fn new(queryable: Arc<dyn ::series::Queryable>) -> ApiState {
        ApiState {
            queryable,
            engine: promql::Engine::default(),
            ready: Arc::new(AtomicBool::new(true)),
            head_stats: None,
            records: None,
            feedback: None,
            exchange_reads: None,
            exchange_erasures: None,
            backfill: None,
            appendable: None,
        }
    }

    /// The same state reporting a backfill running beside the server at
    /// `/api/v1/infersight/backfill` (without one it answers `none`).
    pub fn with_backfill(mut self, status: impl Fn() -> BackfillStatus + Send + Sync + 'static) -> ApiState {
        self.backfill = Some(Arc::new(status));
        self
    }

    /// The same state with a source of head figures for `/api/v1/status/tsdb`.
    pub fn with_head_stats(mut self, stats: impl Fn() -> HeadStats + Send + Sync + 'static) -> ApiState {
        self.head_stats = Some(Arc::new(stats));
        self
    }

    /// The same state with the records store that
    /// `/api/v1/infersight/exchanges` reads.
    pub fn with_records(mut self, store: Arc<records::Store>) -> ApiState {
        self.records = Some(store);
        self
    }

    /// The same state taking end-user feedback
    /// (`POST /api/v1/infersight/exchanges/{id}/feedback`).
    pub fn with_feedback(mut self, feedback: feedback::Feedback) -> ApiState {
        self.feedback = Some(feedback);
        self
    }

    /// The same state counting reads of exchanges' text into `reads`
    /// (every read is audited in the records store either way).
    pub fn with_exchange_reads(mut self, reads: ExchangeReads) -> ApiState {
        self.exchange_reads = Some(reads);
        self
    }

    /// The same state counting erased exchanges into `erasures`.
    pub fn with_exchange_erasures(mut self, erasures: ExchangeErasures) -> ApiState {
        self.exchange_erasures = Some(erasures);
        self
    }

    /// The same state writing to `appendable` what the API records as
    /// series (each annotation as a sample of `infersight_annotation`).
    pub fn with_appendable(mut self, appendable: Arc<dyn ::series::Appendable>) -> ApiState {
        self.appendable = Some(appendable);
        self
    }

    /// The same state with a query engine of these options (timeouts and limits).
    pub fn with_engine(mut self, options: promql::EngineOptions) -> ApiState {
        self.engine = promql::Engine::new(options);
        self
    }

    /// Marks the server ready or not; `/-/ready` answers 503 while it is not
    /// (for example while the store replays its write-ahead log).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether the server is ready to serve queries.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for ApiState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiState").field("ready", &self.is_ready()).finish_non_exhaustive()
    }
}

/// The API's routes: `/api/v1/query`, `/api/v1/query_range`,
/// `/api/v1/format_query`, `/api/v1/metadata`, `/api/v1/status/buildinfo`,
/// `/api/v1/status/tsdb`,
/// `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/{name}/values`,
/// `/api/v1/infersight/annotations`, `/api/v1/infersight/compare`,
/// `/api/v1/infersight/exchanges[/{id}[/feedback]]` (`DELETE` on the first
/// erases), `/api/v1/infersight/backfill`,
/// `/-/healthy` and `/-/ready`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/format_query", get(status::format_query).post(status::format_query))
        .route("/api/v1/metadata", get(status::metadata))
        .route("/api/v1/status/buildinfo", get(status::buildinfo))
        .route("/api/v1/status/tsdb", get(status::tsdb))
        .route("/api/v1/series", get(series::series).post(series::series))
        .route("/api/v1/labels", get(labels::label_names).post(labels::label_names))
        .route("/api/v1/label/{name}/values", get(labels::label_values))
        .route("/api/v1/infersight/annotations", get(annotations::list).post(annotations::post))
        .route("/api/v1/infersight/compare", get(compare::compare))
        .route("/api/v1/infersight/exchanges", get(exchanges::search).delete(exchanges::erase))
        .route("/api/v1/infersight/exchanges/{id}", get(exchanges::get))
        .route("/api/v1/infersight/exchanges/{id}/feedback", axum::routing::post(feedback::give))
        .route("/api/v1/infersight/backfill", get(backfill::status))
        .route("/-/healthy", get(health::healthy))
        .route("/-/ready", get(health::ready))
        .with_state(state)
}
