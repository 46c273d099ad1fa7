//! Prometheus remote write 1.0 and 2.0: `POST /api/v1/write`.
//!
//! A request goes through four steps, and the first failure answers it with
//! nothing stored: pick the protocol version from `Content-Type`, read the
//! body up to a bound, decompress it (snappy block format, length checked
//! before decompressing), then decode and validate the whole request before
//! appending and committing. Decoding and appending are CPU work, so they
//! run on the blocking pool rather than on the async workers.

mod decode;
pub mod proto;

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use series::Appendable;
use tracing::{debug, warn};

pub use decode::{decode_v1, decode_v2};

use crate::body::read_limited;
use crate::{Error, Metrics, Result};

/// Settings of the remote-write receiver.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteWriteConfig {
    /// Largest request accepted, in bytes after snappy decompression. Larger
    /// requests are answered 413 without being decompressed. Prometheus sends
    /// at most a few MiB per request with its default queue settings.
    pub max_decompressed_bytes: usize,
}

impl Default for RemoteWriteConfig {
    fn default() -> Self {
        RemoteWriteConfig { max_decompressed_bytes: 32 << 20 }
    }
}

/// What the remote-write handler needs: where samples go, its settings and its counters.
#[derive(Clone)]
pub struct RemoteWriteState {
    storage: Arc<dyn Appendable>,
    config: RemoteWriteConfig,
    metrics: Metrics,
}

impl RemoteWriteState {
    /// State that appends to `storage`.
    pub fn new(storage: Arc<dyn Appendable>, config: RemoteWriteConfig, metrics: Metrics) -> RemoteWriteState {
        RemoteWriteState { storage, config, metrics }
    }
}

impl fmt::Debug for RemoteWriteState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteWriteState").field("config", &self.config).field("metrics", &self.metrics).finish()
    }
}

/// The remote-write endpoint, `POST /api/v1/write`, for the binary to merge into its server.
pub fn router(state: RemoteWriteState) -> Router {
    Router::new().route("/api/v1/write", post(write)).with_state(state)
}

/// The remote-write protocol version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// 1.0: `prometheus.WriteRequest`.
    V1,
    /// 2.0: `io.prometheus.write.v2.Request`.
    V2,
}

impl Version {
    /// The version as written in the specification, `1.0` or `2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "1.0",
            Version::V2 => "2.0",
        }
    }

    /// The version a `Content-Type` header asks for, or `None` if this
    /// receiver cannot read it. Without a `proto` parameter, 1.0 is meant.
    pub fn from_content_type(content_type: &str) -> Option<Version> {
        let mut parts = content_type.split(';');
        let media_type = parts.next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case("application/x-protobuf") {
            return None;
        }
        let mut version = Version::V1;
        for parameter in parts {
            let Some((key, value)) = parameter.split_once('=') else { continue };
            if key.trim().eq_ignore_ascii_case("proto") {
                version = match value.trim().trim_matches('"') {
                    "prometheus.WriteRequest" => Version::V1,
                    "io.prometheus.write.v2.Request" => Version::V2,
                    _ => return None,
                };
            }
        }
        Some(version)
    }
}

/// Decompresses a snappy block-format body, refusing bodies that would
/// decompress to more than `max_decompressed_bytes`.
///
/// # Errors
///
/// [`Error::DecompressedTooLarge`] or [`Error::Snappy`].
pub fn decompress(body: &[u8], max_decompressed_bytes: usize) -> Result<Vec<u8>> {
    let decompressed_len = snap::raw::decompress_len(body).map_err(|source| Error::Snappy { source })?;
    if decompressed_len > max_decompressed_bytes {
        return Err(Error::DecompressedTooLarge { decompressed_len, limit: max_decompressed_bytes });
    }
    snap::raw::Decoder::new().decompress_vec(body).map_err(|source| Error::Snappy { source })
}

/// The largest snappy block that can decompress to `max_decompressed_bytes`
/// (snappy's worst-case expansion), so larger bodies are refused unread.
fn max_compressed_bytes(max_decompressed_bytes: usize) -> usize {
    max_decompressed_bytes.saturating_add(max_decompressed_bytes / 6).saturating_add(32)
}

/// What an accepted request carried.
#[derive(Debug, Clone, Copy)]
struct Written {
    samples: usize,
    histograms: usize,
    exemplars: usize,
}

async fn write(State(state): State<RemoteWriteState>, headers: HeaderMap, body: Body) -> Response {
    let version = match version_of(&headers) {
        Ok(version) => version,
        Err(error) => {
            state.metrics.count_request(None);
            return reject(&state.metrics, None, &error);
        }
    };
    state.metrics.count_request(Some(version));
    let limit = max_compressed_bytes(state.config.max_decompressed_bytes);
    let compressed = match read_limited(body, limit).await {
        Ok(bytes) => bytes,
        Err(error) => return reject(&state.metrics, Some(version), &error),
    };
    let storage = Arc::clone(&state.storage);
    let max_decompressed_bytes = state.config.max_decompressed_bytes;
    let ingested = tokio::task::spawn_blocking(move || ingest(&*storage, version, &compressed, max_decompressed_bytes))
        .await
        .unwrap_or_else(|source| Err(Error::Task { source }));
    match ingested {
        Ok(written) => {
            state.metrics.count_accepted(written.samples, written.histograms, written.exemplars);
            let mut response = StatusCode::NO_CONTENT.into_response();
            if version == Version::V2 {
                set_written_headers(response.headers_mut(), written.samples);
            }
            response
        }
        Err(error) => reject(&state.metrics, Some(version), &error),
    }
}

/// The protocol version from the request headers.
fn version_of(headers: &HeaderMap) -> Result<Version> {
    if let Some(encoding) = headers.get(CONTENT_ENCODING)
        && !encoding.to_str().is_ok_and(|encoding| encoding.trim().eq_ignore_ascii_case("snappy"))
    {
        return Err(Error::UnsupportedEncoding {
            content_encoding: String::from_utf8_lossy(encoding.as_bytes()).into_owned(),
        });
    }
    // Old senders omit the header; they speak 1.0.
    let Some(content_type) = headers.get(CONTENT_TYPE) else { return Ok(Version::V1) };
    content_type.to_str().ok().and_then(Version::from_content_type).ok_or_else(|| Error::UnsupportedMediaType {
        content_type: String::from_utf8_lossy(content_type.as_bytes()).into_owned(),
    })
}

/// Decompresses, decodes, validates and stores one request.
fn ingest(storage: &dyn Appendable, version: Version, body: &[u8], max_decompressed_bytes: usize) -> Result<Written> {
    let buf = decompress(body, max_decompressed_bytes)?;
    let batch = match version {
        Version::V1 => decode_v1(&buf)?,
        Version::V2 => decode_v2(&buf)?,
    };
    let mut appender = storage.appender();
    batch.append_to(&mut *appender);
    appender.commit().map_err(|source| Error::Commit { source })?;
    Ok(Written { samples: batch.num_samples(), histograms: batch.num_histograms(), exemplars: batch.num_exemplars() })
}

const SAMPLES_WRITTEN: HeaderName = HeaderName::from_static("x-prometheus-remote-write-samples-written");
const HISTOGRAMS_WRITTEN: HeaderName = HeaderName::from_static("x-prometheus-remote-write-histograms-written");
const EXEMPLARS_WRITTEN: HeaderName = HeaderName::from_static("x-prometheus-remote-write-exemplars-written");

/// Adds the 2.0 response headers. Histograms and exemplars are never stored yet.
fn set_written_headers(headers: &mut HeaderMap, n_samples: usize) {
    headers.insert(SAMPLES_WRITTEN, HeaderValue::from(n_samples));
    headers.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(0));
    headers.insert(EXEMPLARS_WRITTEN, HeaderValue::from(0));
}

/// Counts, logs and answers a rejected request, as a Prometheus API error.
fn reject(metrics: &Metrics, version: Option<Version>, error: &Error) -> Response {
    metrics.count_rejected(error);
    let (status, error_type) = match error {
        Error::UnsupportedMediaType { .. }
        | Error::UnsupportedEncoding { .. }
        | Error::UnsupportedOtlpMediaType { .. }
        | Error::UnsupportedOtlpEncoding { .. } => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_data"),
        Error::BodyTooLarge { .. } | Error::DecompressedTooLarge { .. } | Error::InflatedTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "bad_data")
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
        | Error::LabelTooLong { .. } => (StatusCode::BAD_REQUEST, "bad_data"),
        Error::Commit { source: series::Error::Unavailable { .. } } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Error::Commit { .. } | Error::Task { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if status.is_server_error() {
        warn!(status = status.as_u16(), error = %message, "Remote write failed, sender will retry");
    } else {
        debug!(status = status.as_u16(), error = %message, "Remote write rejected");
    }
    let body = serde_json::json!({ "status": "error", "errorType": error_type, "error": message });
    let mut response = (status, axum::Json(body)).into_response();
    if version == Some(Version::V2) {
        // Nothing of a rejected request is stored, and 2.0 senders read these counts.
        set_written_headers(response.headers_mut(), 0);
    }
    response
}

#[cfg(test)]
mod tests;
