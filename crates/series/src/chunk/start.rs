//! The start-timestamp chunk encoding: for the samples of one series that
//! have one, the time their counter (or delta) started, Prometheus 3's
//! "created" or start timestamp.
//!
//! Start timestamps travel beside the value chunks rather than inside them,
//! so a series without them (almost every series) pays nothing and float
//! chunks decode as before.
//!
//! Layout (see `crates/tsdb/docs/format/chunks.md`):
//!
//! ```text
//! u16 BE  number of samples n (n >= 1)
//! per sample:
//!   varint  t (the first absolute, then the delta to the previous one)
//!   varint  t - start timestamp
//! ```

use crate::varint::{put_varint, varint};

/// A sample's start timestamp: the sample at `t` counts from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartTimestamp {
    /// The sample's time, in milliseconds since the Unix epoch.
    pub t: i64,
    /// When the sample's counter (or the delta it holds) started, in milliseconds.
    pub start: i64,
}

/// Encodes `samples` (sorted by strictly increasing time, at most `u16::MAX`).
///
/// # Panics
///
/// If there are more than `u16::MAX` samples.
pub fn encode(samples: &[StartTimestamp]) -> Vec<u8> {
    let n = u16::try_from(samples.len()).expect("at most u16::MAX samples in a chunk");
    let mut buf = Vec::with_capacity(2 + samples.len() * 4);
    buf.extend_from_slice(&n.to_be_bytes());
    let mut previous_t = 0;
    for (i, s) in samples.iter().enumerate() {
        put_varint(&mut buf, if i == 0 { s.t } else { s.t.wrapping_sub(previous_t) });
        put_varint(&mut buf, s.t.wrapping_sub(s.start));
        previous_t = s.t;
    }
    buf
}

/// Decodes the start timestamps of samples within `[mint, maxt]` into `out`.
///
/// # Errors
///
/// When the chunk is corrupt; `out` then holds what decoded before the damage.
pub fn decode_into(data: &[u8], mint: i64, maxt: i64, out: &mut Vec<StartTimestamp>) -> Result<(), &'static str> {
    let n = super::header_count(data);
    let mut p = data.get(2..).ok_or("start-timestamp chunk without header")?;
    let mut t = 0i64;
    for i in 0..n {
        let delta = varint(&mut p)?;
        t = if i == 0 { delta } else { t.wrapping_add(delta) };
        let start = t.wrapping_sub(varint(&mut p)?);
        if t > maxt {
            break;
        }
        if t >= mint {
            out.push(StartTimestamp { t, start });
        }
    }
    Ok(())
}
