//! The histogram chunk encoding: native-histogram samples of one series.
//!
//! Simple rather than small: histograms arrive far less often than floats,
//! and each already holds many numbers. Timestamps are delta-encoded
//! varints; each histogram is written field by field.
//!
//! Layout (see `crates/tsdb/docs/format/chunks.md`):
//!
//! ```text
//! u16 BE  number of samples n (n >= 1)
//! per sample:
//!   varint  t (the first absolute, then the delta to the previous one)
//!   varint  schema
//!   u8      counter-reset hint (0 unknown, 1 reset, 2 not reset, 3 gauge)
//!   f64 LE  zero threshold, zero count, count, sum
//!   2 × (positive, then negative buckets):
//!     uvarint number of buckets; per bucket: varint index delta (the first
//!     absolute), f64 LE count
//!   uvarint number of custom bounds; f64 LE each
//! ```

use std::sync::Arc;

use crate::histogram::{Bucket, CounterResetHint, FloatHistogram, HistogramSample};
use crate::varint::{put_uvarint, put_varint};

/// Encodes `samples` (sorted by strictly increasing time, at most `u16::MAX`).
///
/// # Panics
///
/// If there are more than `u16::MAX` samples.
pub fn encode(samples: &[HistogramSample]) -> Vec<u8> {
    let n = u16::try_from(samples.len()).expect("at most u16::MAX samples in a chunk");
    let mut buf = Vec::with_capacity(2 + samples.len() * 64);
    buf.extend_from_slice(&n.to_be_bytes());
    let mut previous_t = 0;
    for (i, s) in samples.iter().enumerate() {
        put_varint(&mut buf, if i == 0 { s.t } else { s.t - previous_t });
        previous_t = s.t;
        let h = &s.h;
        put_varint(&mut buf, i64::from(h.schema));
        buf.push(h.counter_reset_hint.to_u8());
        for f in [h.zero_threshold, h.zero_count, h.count, h.sum] {
            buf.extend_from_slice(&f.to_le_bytes());
        }
        for buckets in [&h.positive, &h.negative] {
            put_uvarint(&mut buf, buckets.len() as u64);
            let mut previous_index = 0;
            for (j, b) in buckets.iter().enumerate() {
                let index = i64::from(b.index);
                put_varint(&mut buf, if j == 0 { index } else { index - previous_index });
                previous_index = index;
                buf.extend_from_slice(&b.count.to_le_bytes());
            }
        }
        put_uvarint(&mut buf, h.custom_values.len() as u64);
        for v in h.custom_values.iter() {
            buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    buf
}

/// Decodes the samples within `[mint, maxt]` into `out`.
///
/// # Errors
///
/// When the chunk is corrupt; `out` then holds what decoded before the damage.
pub fn decode_into(data: &[u8], mint: i64, maxt: i64, out: &mut Vec<HistogramSample>) -> Result<(), &'static str> {
    let n = super::header_count(data);
    let mut p = data.get(2..).ok_or("histogram chunk without header")?;
    let mut t = 0;
    let mut custom_values: Arc<[f64]> = Arc::from(Vec::new());
    for i in 0..n {
        let delta = crate::varint::varint(&mut p)?;
        t = if i == 0 { delta } else { t + delta };
        let schema = i32::try_from(crate::varint::varint(&mut p)?).map_err(|_| "schema out of range")?;
        let (&hint, rest) = p.split_first().ok_or("histogram cut short")?;
        p = rest;
        let zero_threshold = read_f64(&mut p)?;
        let zero_count = read_f64(&mut p)?;
        let count = read_f64(&mut p)?;
        let sum = read_f64(&mut p)?;
        let positive = read_buckets(&mut p)?;
        let negative = read_buckets(&mut p)?;
        let n_custom = usize::try_from(crate::varint::uvarint(&mut p)?).map_err(|_| "too many bounds")?;
        if n_custom > p.len() / 8 {
            return Err("custom bounds cut short");
        }
        let mut bounds = Vec::with_capacity(n_custom);
        for _ in 0..n_custom {
            bounds.push(read_f64(&mut p)?);
        }
        // Consecutive samples usually share their bounds: share the allocation too.
        if *custom_values != *bounds {
            custom_values = Arc::from(bounds);
        }
        if t < mint || t > maxt {
            continue;
        }
        let h = FloatHistogram {
            schema,
            zero_threshold,
            zero_count,
            count,
            sum,
            positive,
            negative,
            custom_values: Arc::clone(&custom_values),
            counter_reset_hint: CounterResetHint::from_u8(hint),
        };
        out.push(HistogramSample { t, h: Arc::new(h) });
    }
    Ok(())
}

fn read_f64(p: &mut &[u8]) -> Result<f64, &'static str> {
    let (bytes, rest) = p.split_first_chunk::<8>().ok_or("histogram cut short")?;
    *p = rest;
    Ok(f64::from_le_bytes(*bytes))
}

fn read_buckets(p: &mut &[u8]) -> Result<Vec<Bucket>, &'static str> {
    let n = usize::try_from(crate::varint::uvarint(p)?).map_err(|_| "too many buckets")?;
    if n > p.len() / 9 {
        return Err("buckets cut short");
    }
    let mut buckets = Vec::with_capacity(n);
    let mut index = 0i64;
    for j in 0..n {
        let delta = crate::varint::varint(p)?;
        index = if j == 0 { delta } else { index + delta };
        let index = i32::try_from(index).map_err(|_| "bucket index out of range")?;
        buckets.push(Bucket { index, count: read_f64(p)? });
    }
    Ok(buckets)
}
