//! WAL record encoding: series definitions and sample batches.

use series::Labels;

use series::varint::{put_uvarint, put_varint, uvarint, varint};

use super::FRAME_HEADER;

const TYPE_SERIES: u8 = 1;
const TYPE_SAMPLES: u8 = 2;

/// A decoded WAL record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record<'a> {
    /// A series was created with this reference and label set (canonical encoding).
    Series { series_ref: u64, labels: &'a [u8] },
    /// Samples, each for a series defined earlier in the log.
    Samples(Vec<(u64, i64, f64)>),
}

/// Encodes records into one buffer, written to the log with one call.
#[derive(Debug, Default)]
pub(crate) struct RecordEncoder {
    pub(crate) buf: Vec<u8>,
}

impl RecordEncoder {
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Adds a series record.
    pub(crate) fn series(&mut self, series_ref: u64, labels: &Labels) {
        let start = self.begin(TYPE_SERIES);
        put_uvarint(&mut self.buf, series_ref);
        self.buf.extend_from_slice(labels.as_bytes());
        self.finish(start);
    }

    /// Adds a samples record. References and timestamps are stored as
    /// zig-zag deltas from the first sample's, values as raw bits.
    pub(crate) fn samples(&mut self, samples: &[(u64, i64, f64)]) {
        let Some(&(base_ref, base_t, _)) = samples.first() else { return };
        let start = self.begin(TYPE_SAMPLES);
        put_uvarint(&mut self.buf, samples.len() as u64);
        put_uvarint(&mut self.buf, base_ref);
        put_varint(&mut self.buf, base_t);
        for &(series_ref, t, v) in samples {
            put_varint(&mut self.buf, series_ref.wrapping_sub(base_ref) as i64);
            put_varint(&mut self.buf, t.wrapping_sub(base_t));
            self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        self.finish(start);
    }

    fn begin(&mut self, record_type: u8) -> usize {
        let start = self.buf.len();
        self.buf.push(record_type);
        self.buf.extend_from_slice(&[0; FRAME_HEADER - 1]);
        start
    }

    fn finish(&mut self, start: usize) {
        let payload = &self.buf[start + FRAME_HEADER..];
        let len = u32::try_from(payload.len()).expect("a WAL record is smaller than 4 GiB");
        let crc = crc32c::crc32c(payload);
        self.buf[start + 1..start + 5].copy_from_slice(&len.to_le_bytes());
        self.buf[start + 5..start + 9].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Decodes the record at the start of `data`; returns it and its framed length.
pub(crate) fn decode_record(data: &[u8]) -> Result<(Record<'_>, usize), &'static str> {
    if data.len() < FRAME_HEADER {
        return Err("record header cut short");
    }
    let record_type = data[0];
    let len = u32::from_le_bytes(data[1..5].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(data[5..9].try_into().expect("4 bytes"));
    let payload = data.get(FRAME_HEADER..FRAME_HEADER + len).ok_or("record payload cut short")?;
    if crc32c::crc32c(payload) != crc {
        return Err("record checksum mismatch");
    }
    let record = match record_type {
        TYPE_SERIES => {
            let mut p = payload;
            let series_ref = uvarint(&mut p)?;
            Labels::from_encoded(p).ok_or("series record has invalid labels")?;
            Record::Series { series_ref, labels: p }
        }
        TYPE_SAMPLES => {
            let mut p = payload;
            let n = uvarint(&mut p)? as usize;
            let base_ref = uvarint(&mut p)?;
            let base_t = varint(&mut p)?;
            // Each sample takes at least 10 bytes: bound the allocation by the payload.
            let mut samples = Vec::with_capacity(n.min(p.len() / 10));
            for _ in 0..n {
                let series_ref = base_ref.wrapping_add(varint(&mut p)? as u64);
                let t = base_t.wrapping_add(varint(&mut p)?);
                let bits = p.get(..8).ok_or("sample value cut short")?;
                let v = f64::from_bits(u64::from_le_bytes(bits.try_into().expect("8 bytes")));
                p = &p[8..];
                samples.push((series_ref, t, v));
            }
            if !p.is_empty() {
                return Err("samples record has trailing bytes");
            }
            Record::Samples(samples)
        }
        _ => return Err("unknown record type"),
    };
    Ok((record, FRAME_HEADER + len))
}
