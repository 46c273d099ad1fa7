//! Decoders of OTLP/HTTP metrics bodies: gzip, protobuf and JSON.
//!
//! Each takes the bytes of a body and returns a result, never panics, and
//! bounds its work by the input (and gzip's output by a limit), so they can
//! be fuzzed as they are.

use std::io::Read;

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
/// The output buffer grows by doubling, capped at one byte past the limit,
/// so a decompression bomb (a gigabyte of zeros in a megabyte of gzip)
/// costs at most `max_decompressed_bytes + 1` bytes of memory before it is
/// refused, however far it would inflate.
///
/// # Errors
///
/// [`Error::InflatedTooLarge`] or [`Error::Gzip`].
pub fn gunzip(body: &[u8], max_decompressed_bytes: usize) -> Result<Vec<u8>> {
    inflate(flate2::read::MultiGzDecoder::new(body), body.len(), max_decompressed_bytes)
}

/// Reads `decoder` to its end into a buffer of at most `limit + 1` bytes;
/// `compressed_len` sizes the first allocation.
fn inflate(mut decoder: impl Read, compressed_len: usize, limit: usize) -> Result<Vec<u8>> {
    let cap = limit.saturating_add(1);
    // Compressed text usually inflates several times over.
    let mut buf = vec![0; compressed_len.saturating_mul(4).clamp(MIN_INFLATE_BUFFER.min(cap), cap)];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            let grown = buf.len().saturating_mul(2).min(cap);
            if grown == buf.len() {
                // One byte past the limit has been inflated: that is enough to refuse.
                return Err(Error::InflatedTooLarge { limit });
            }
            buf.reserve_exact(grown - buf.len());
            buf.resize(grown, 0);
        }
        match decoder.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(Error::Gzip { source }),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// The smallest first buffer of [`inflate`], so small bodies do not grow it many times.
const MIN_INFLATE_BUFFER: usize = 8 << 10;

#[cfg(test)]
mod tests;
