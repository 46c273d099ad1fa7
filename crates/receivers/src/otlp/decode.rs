//! Decoders of OTLP/HTTP metrics bodies: gzip, protobuf and JSON.
//!
//! Each takes the bytes of a body and returns a result, never panics, and
//! bounds its work by the input (and gzip's output by a limit), so they can
//! be fuzzed as they are.

use std::io::Read as _;

use prost::Message as _;

use super::proto::ExportMetricsServiceRequest;
use crate::{Error, Result};

/// Decodes a protobuf `ExportMetricsServiceRequest`.
///
/// # Errors
///
/// [`Error::OtlpProtobuf`] if `buf` is not a valid message of the schema.
pub fn decode_protobuf(buf: &[u8]) -> Result<ExportMetricsServiceRequest> {
    ExportMetricsServiceRequest::decode(buf).map_err(|source| Error::OtlpProtobuf { source })
}

/// Decodes an OTLP/JSON `ExportMetricsServiceRequest`.
///
/// # Errors
///
/// [`Error::OtlpJson`] if `buf` is not valid JSON of the OTLP mapping.
pub fn decode_json(buf: &[u8]) -> Result<ExportMetricsServiceRequest> {
    serde_json::from_slice(buf).map_err(|source| Error::OtlpJson { source })
}

/// Decompresses a gzip body, refusing to produce more than
/// `max_decompressed_bytes`.
///
/// # Errors
///
/// [`Error::InflatedTooLarge`] or [`Error::Gzip`].
pub fn gunzip(body: &[u8], max_decompressed_bytes: usize) -> Result<Vec<u8>> {
    let limit = u64::try_from(max_decompressed_bytes).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit);
    // Compressed text usually inflates several times over.
    let mut buf = Vec::with_capacity(body.len().saturating_mul(4).min(max_decompressed_bytes));
    decoder.read_to_end(&mut buf).map_err(|source| Error::Gzip { source })?;
    if buf.len() > max_decompressed_bytes {
        return Err(Error::InflatedTooLarge { limit: max_decompressed_bytes });
    }
    Ok(buf)
}

#[cfg(test)]
mod tests;
