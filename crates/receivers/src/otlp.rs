//! OTLP/HTTP metrics: `POST /api/v1/otlp/v1/metrics`.
//!
//! OpenTelemetry SDKs and collectors export here with the `otlphttp`
//! exporter, endpoint `http://host:8490/api/v1/otlp` (the exporter appends
//! `/v1/metrics`), as they would to Prometheus. A request goes through the
//! same steps as remote write: pick the encoding from `Content-Type`
//! (`application/x-protobuf` or `application/json`), read the body up to a
//! bound, gunzip it if `Content-Encoding: gzip` (output bounded too), decode
//! it, translate it to Prometheus series ([`translate`](translate::translate))
//! and append and commit them. Decoding, translation and appending run on the
//! blocking pool.
//!
//! A request that cannot be read is rejected whole: 415 for a content type or
//! encoding this receiver does not speak, 413 past the size limit, 400 for a
//! body that does not decode, each with a `google.rpc.Status` in the request's
//! encoding (plain text when that is unknown); 503 when the store cannot
//! write, so the sender retries. Data points that cannot be translated are
//! dropped one by one and the rest stored; the 200 answer then carries an
//! OTLP partial success saying how many and why.

mod attribute;
mod decode;
mod json;
pub mod name;
pub mod proto;
mod series_buf;
pub mod translate;

use std::error::Error as _;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use prost::Message as _;
use series::Appendable;
use tracing::{debug, warn};

pub use decode::{decode_json, decode_protobuf, gunzip};
pub use translate::{DeltaTotals, Translation, translate};

use crate::body::read_limited;
use crate::{Error, Metrics, Result};

/// The path senders post metrics to.
pub const PATH: &str = "/api/v1/otlp/v1/metrics";

/// Settings of the OTLP receiver.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// Largest request accepted, in bytes after gzip decompression. Larger
    /// requests are answered 413. The same limit as remote write's suits:
    /// OpenTelemetry exporters send batches of a few MiB at most.
    pub max_decompressed_bytes: usize,
    /// Most series of delta temporality whose running totals are kept. Delta
    /// points of further series are rejected (partial success) until series
    /// idle for an hour are forgotten.
    pub max_delta_series: usize,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig { max_decompressed_bytes: 32 << 20, max_delta_series: 100_000 }
    }
}

/// What the OTLP handler needs: where samples go, its settings, its
/// counters, and the running totals of delta series.
#[derive(Clone)]
pub struct OtlpState {
    storage: Arc<dyn Appendable>,
    config: OtlpConfig,
    metrics: Metrics,
    deltas: Arc<Mutex<DeltaTotals>>,
}

impl OtlpState {
    /// State that appends to `storage`.
    pub fn new(storage: Arc<dyn Appendable>, config: OtlpConfig, metrics: Metrics) -> OtlpState {
        let deltas = Arc::new(Mutex::new(DeltaTotals::new(config.max_delta_series)));
        OtlpState { storage, config, metrics, deltas }
    }
}

impl fmt::Debug for OtlpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpState").field("config", &self.config).field("metrics", &self.metrics).finish()
    }
}

/// The OTLP metrics endpoint, `POST /api/v1/otlp/v1/metrics`, for the binary
/// to merge into its server.
pub fn router(state: OtlpState) -> Router {
    Router::new().route(PATH, post(export)).with_state(state)
}

/// The encoding of an OTLP/HTTP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Binary protobuf, `application/x-protobuf`.
    Protobuf,
    /// The OTLP/JSON mapping, `application/json`.
    Json,
}

impl Encoding {
    /// The encoding as a metric label value, `protobuf` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "json",
        }
    }

    /// The media type of this encoding, for responses.
    pub fn media_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// The encoding a `Content-Type` header names, parameters ignored, or
    /// `None` if this receiver cannot read it.
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Encoding::Protobuf)
        } else if media_type.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }
}

/// What an accepted request carried.
#[derive(Debug)]
struct Exported {
    n_samples: usize,
    rejected: Vec<(translate::Rejection, usize)>,
    n_rejected: usize,
    error_message: String,
}

async fn export(State(state): State<OtlpState>, headers: HeaderMap, body: Body) -> Response {
    let (encoding, gzip) = match encoding_of(&headers) {
        Ok(found) => found,
        Err(error) => {
            let encoding =
                headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(Encoding::from_content_type);
            state.metrics.count_otlp_request(encoding);
            return reject(&state.metrics, encoding, &error);
        }
    };
    state.metrics.count_otlp_request(Some(encoding));
    let limit = max_body_bytes(state.config.max_decompressed_bytes, gzip);
    let body = match read_limited(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) => return reject(&state.metrics, Some(encoding), &error),
    };
    let ingest_state = state.clone();
    let exported = tokio::task::spawn_blocking(move || ingest(&ingest_state, encoding, gzip, &body))
        .await
        .unwrap_or_else(|source| Err(Error::Task { source }));
    match exported {
        Ok(exported) => {
            state.metrics.count_otlp_accepted(exported.n_samples, &exported.rejected);
            if exported.n_rejected > 0 {
                debug!(
                    rejected = exported.n_rejected,
                    error = %exported.error_message,
                    "OTLP data points rejected, the rest stored"
                );
            }
            success(encoding, &exported)
        }
        Err(error) => reject(&state.metrics, Some(encoding), &error),
    }
}

/// The body encoding and whether it is gzipped, from the request headers.
fn encoding_of(headers: &HeaderMap) -> Result<(Encoding, bool)> {
    let gzip = match headers.get(CONTENT_ENCODING) {
        None => false,
        Some(value) => match value.to_str().map(str::trim) {
            Ok(v) if v.eq_ignore_ascii_case("gzip") => true,
            Ok(v) if v.is_empty() || v.eq_ignore_ascii_case("identity") => false,
            _ => {
                return Err(Error::UnsupportedOtlpEncoding {
                    content_encoding: String::from_utf8_lossy(value.as_bytes()).into_owned(),
                });
            }
        },
    };
    let content_type = headers.get(CONTENT_TYPE);
    let encoding = content_type.and_then(|v| v.to_str().ok()).and_then(Encoding::from_content_type);
    let encoding = encoding.ok_or_else(|| Error::UnsupportedOtlpMediaType {
        content_type: content_type.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default(),
    })?;
    Ok((encoding, gzip))
}

/// The largest body read from the connection: the decompressed limit, plus
/// gzip's worst-case overhead (stored blocks) when compressed.
fn max_body_bytes(max_decompressed_bytes: usize, gzip: bool) -> usize {
    if gzip {
        max_decompressed_bytes.saturating_add(max_decompressed_bytes / 1024).saturating_add(64)
    } else {
        max_decompressed_bytes
    }
}

/// Decompresses, decodes, translates and stores one request.
fn ingest(state: &OtlpState, encoding: Encoding, gzip: bool, body: &[u8]) -> Result<Exported> {
    let inflated;
    let buf = if gzip {
        inflated = gunzip(body, state.config.max_decompressed_bytes)?;
        &inflated[..]
    } else {
        body
    };
    let request = match encoding {
        Encoding::Protobuf => decode_protobuf(buf)?,
        Encoding::Json => decode_json(buf)?,
    };
    let translation = if translate::has_delta(&request) {
        // Held until commit, so concurrent requests add to the same totals in turn.
        let mut deltas = state.deltas.lock().unwrap_or_else(PoisonError::into_inner);
        let mut translation = translate(&request, &deltas);
        store(&*state.storage, &translation)?;
        deltas.apply(&mut translation);
        translation
    } else {
        let translation = translate(&request, &DeltaTotals::new(0));
        store(&*state.storage, &translation)?;
        translation
    };
    Ok(Exported {
        n_samples: translation.num_samples(),
        rejected: translation.rejected().to_vec(),
        n_rejected: translation.num_rejected(),
        error_message: translation.error_message(),
    })
}

fn store(storage: &dyn Appendable, translation: &Translation) -> Result<()> {
    let mut appender = storage.appender();
    translation.append_to(&mut *appender);
    appender.commit().map_err(|source| Error::Commit { source })?;
    Ok(())
}

/// The 200 answer: an `ExportMetricsServiceResponse`, with a partial success
/// if points were dropped.
fn success(encoding: Encoding, exported: &Exported) -> Response {
    let partial_success = (exported.n_rejected > 0).then(|| proto::ExportMetricsPartialSuccess {
        rejected_data_points: i64::try_from(exported.n_rejected).unwrap_or(i64::MAX),
        error_message: exported.error_message.clone(),
    });
    let body = match encoding {
        Encoding::Protobuf => proto::ExportMetricsServiceResponse { partial_success }.encode_to_vec(),
        Encoding::Json => {
            let json = match partial_success {
                // int64 is a string in protobuf's JSON mapping.
                Some(partial) => serde_json::json!({ "partialSuccess": {
                    "rejectedDataPoints": partial.rejected_data_points.to_string(),
                    "errorMessage": partial.error_message,
                }}),
                None => serde_json::json!({}),
            };
            json.to_string().into_bytes()
        }
    };
    with_content_type(StatusCode::OK, encoding.media_type(), body)
}

/// Counts, logs and answers a rejected request with a `google.rpc.Status`
/// in the request's encoding, or plain text if that is unknown.
fn reject(metrics: &Metrics, encoding: Option<Encoding>, error: &Error) -> Response {
    metrics.count_otlp_rejected(error);
    let status = status_of(error);
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if status.is_server_error() {
        warn!(status = status.as_u16(), error = %message, "OTLP export failed, sender will retry");
    } else {
        debug!(status = status.as_u16(), error = %message, "OTLP export rejected");
    }
    let code = grpc_code(status);
    match encoding {
        Some(Encoding::Protobuf) => {
            with_content_type(status, Encoding::Protobuf.media_type(), proto::Status { code, message }.encode_to_vec())
        }
        Some(Encoding::Json) => {
            let body = serde_json::json!({ "code": code, "message": message }).to_string();
            with_content_type(status, Encoding::Json.media_type(), body.into_bytes())
        }
        None => with_content_type(status, "text/plain; charset=utf-8", message.into_bytes()),
    }
}

/// The HTTP status OTLP/HTTP prescribes for `error`: 4xx are not retried,
/// 503 is.
fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::UnsupportedMediaType { .. }
        | Error::UnsupportedEncoding { .. }
        | Error::UnsupportedOtlpMediaType { .. }
        | Error::UnsupportedOtlpEncoding { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::BodyTooLarge { .. } | Error::DecompressedTooLarge { .. } | Error::InflatedTooLarge { .. } => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        Error::ReadBody { .. }
        | Error::Snappy { .. }
        | Error::Protobuf { .. }
        | Error::Gzip { .. }
        | Error::OtlpProtobuf { .. }
        | Error::OtlpJson { .. }
        | Error::InvalidLabelName { .. }
        | Error::InvalidMetricName { .. }
        | Error::MissingMetricName { .. }
        | Error::DuplicateLabel { .. }
        | Error::TooManyLabels { .. }
        | Error::LabelTooLong { .. } => StatusCode::BAD_REQUEST,
        Error::Commit { source: series::Error::Unavailable { .. } } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Commit { .. } | Error::Task { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The gRPC code that goes with an HTTP status in a `google.rpc.Status`.
fn grpc_code(status: StatusCode) -> i32 {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3, // INVALID_ARGUMENT
        StatusCode::PAYLOAD_TOO_LARGE => 8,                                // RESOURCE_EXHAUSTED
        StatusCode::SERVICE_UNAVAILABLE => 14,                             // UNAVAILABLE
        _ => 13,                                                           // INTERNAL
    }
}

fn with_content_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests;
