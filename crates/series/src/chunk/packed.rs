//! The packed chunk encoding: dense, for persisted blocks.
//!
//! Scraped series are regular in time and most values are integers or
//! short decimals (counters, histogram buckets, percentages, GPU clocks).
//! Packed chunks store timestamps as a first value and delta, with
//! delta-of-deltas only when the spacing varies, and values either as
//! scaled integers (`v = m / 10^k`, exact) whose deltas are bit-packed
//! against their minimum (frame of reference), or, for arbitrary floats,
//! as the XOR stream of the Gorilla encoding. A counter that grows by a
//! few dozen per scrape costs about 6 bits a sample instead of about 12.
//!
//! Layout (see `crates/tsdb/docs/format/chunks.md`):
//!
//! ```text
//! u16 BE  number of samples n (n >= 1)
//! u8      flags: bit 0 = timestamps irregular, bit 1 = values as XOR floats,
//!         bit 2 = values as deltas of their IEEE-754 bit patterns
//! varint  t0; if n > 1: uvarint first delta;
//!         if irregular: packed block of the n-2 delta-of-deltas
//! values, integer mode: u8 k, varint m0, packed block of the n-1 deltas of m
//! values, XOR mode:     the XOR value stream of the n values
//! values, bit deltas:   varint bits(v0), packed block of the n-1 deltas of
//!                       the bit patterns (smaller than XOR for sums that
//!                       grow steadily, such as a histogram's `_sum`)
//! packed block: frames of up to 64 values, each: varint min, u8 width,
//!               then each (x - min) in `width` bits, least significant bit
//!               first, padded to a byte
//! ```

use super::bstream::{BitReader, BitWriter};
use super::xor::{ValueState, read_value, write_value};
use crate::Sample;
use crate::varint::{put_uvarint, put_varint};

fn uvarint(p: &mut &[u8]) -> Option<u64> {
    crate::varint::uvarint(p).ok()
}

fn varint(p: &mut &[u8]) -> Option<i64> {
    crate::varint::varint(p).ok()
}

const FLAG_IRREGULAR_TIME: u8 = 1;
const FLAG_XOR_VALUES: u8 = 2;
const FLAG_BIT_DELTAS: u8 = 4;
/// Largest decimal scale tried: values with up to 6 decimals pack as integers.
const MAX_SCALE: u8 = 6;
const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];

/// Encodes samples (strictly increasing timestamps, at least one) as a packed chunk.
///
/// # Panics
///
/// If `samples` is empty or longer than `u16::MAX`.
pub fn encode(samples: &[Sample]) -> Vec<u8> {
    assert!(!samples.is_empty() && samples.len() <= usize::from(u16::MAX), "1..=65535 samples");
    let n = samples.len();
    let mut out = Vec::with_capacity(16 + n);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    let flags_at = out.len();
    out.push(0);
    let mut flags = 0;

    put_varint(&mut out, samples[0].t);
    if n > 1 {
        let first_delta = samples[1].t.wrapping_sub(samples[0].t);
        put_uvarint(&mut out, first_delta as u64);
        let dods: Vec<i64> =
            samples.windows(3).map(|w| w[2].t.wrapping_sub(w[1].t).wrapping_sub(w[1].t.wrapping_sub(w[0].t))).collect();
        if dods.iter().any(|&d| d != 0) {
            flags |= FLAG_IRREGULAR_TIME;
            put_packed(&mut out, &dods);
        }
    }

    match integer_scale(samples) {
        Some((k, ints)) => {
            out.push(k);
            put_varint(&mut out, ints[0]);
            let deltas: Vec<i64> = ints.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
            put_packed(&mut out, &deltas);
        }
        None => {
            let mut stream = BitWriter::with_bytes(Vec::new());
            stream.write_bits(samples[0].v.to_bits(), 64);
            let mut state = ValueState::default();
            for w in samples.windows(2) {
                write_value(&mut stream, &mut state, w[0].v, w[1].v);
            }
            let bits: Vec<i64> = samples.iter().map(|s| s.v.to_bits() as i64).collect();
            let mut by_delta = Vec::with_capacity(stream.bytes.len());
            put_varint(&mut by_delta, bits[0]);
            let deltas: Vec<i64> = bits.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
            put_packed(&mut by_delta, &deltas);
            if by_delta.len() < stream.bytes.len() {
                flags |= FLAG_BIT_DELTAS;
                out.extend_from_slice(&by_delta);
            } else {
                flags |= FLAG_XOR_VALUES;
                out.extend_from_slice(&stream.bytes);
            }
        }
    }
    out[flags_at] = flags;
    out
}

/// Decodes a packed chunk, or `None` if it is corrupt.
pub fn decode(data: &[u8]) -> Option<Vec<Sample>> {
    let mut out = Vec::with_capacity(super::header_count(data));
    decode_into(data, i64::MIN, i64::MAX, &mut out)?;
    Some(out)
}

/// Appends the chunk's samples within `[mint, maxt]` to `out`, without
/// materialising the others; `None` if the chunk is corrupt (what was
/// appended before the damage stays).
pub fn decode_into(data: &[u8], mint: i64, maxt: i64, out: &mut Vec<Sample>) -> Option<()> {
    let n = usize::from(u16::from_be_bytes([*data.first()?, *data.get(1)?]));
    let flags = *data.get(2)?;
    let mut p = data.get(3..)?;
    let value_mode = flags & (FLAG_XOR_VALUES | FLAG_BIT_DELTAS);
    if n == 0 || flags & !(FLAG_IRREGULAR_TIME | FLAG_XOR_VALUES | FLAG_BIT_DELTAS) != 0 || value_mode == 6 {
        return None;
    }
    let t0 = varint(&mut p)?;
    let first_delta = if n > 1 { uvarint(&mut p)? as i64 } else { 0 };
    let times = if flags & FLAG_IRREGULAR_TIME != 0 && n > 2 {
        let mut ts = Vec::with_capacity(n);
        ts.push(t0);
        ts.push(t0.wrapping_add(first_delta));
        let mut delta = first_delta;
        for dod in packed(&mut p, n - 2)? {
            delta = delta.wrapping_add(dod);
            let last = ts[ts.len() - 1];
            ts.push(last.wrapping_add(delta));
        }
        Times::Listed(ts)
    } else {
        Times::Regular { t0, delta: first_delta }
    };
    let (lo, hi) = times.index_range(n, mint, maxt);
    if lo >= hi {
        return Some(());
    }
    out.reserve(hi - lo);
    let mut push = |i: usize, v: f64| {
        if i >= lo {
            out.push(Sample { t: times.at(i), v });
        }
    };
    match value_mode {
        FLAG_BIT_DELTAS => {
            let mut bits = varint(&mut p)?;
            push(0, f64::from_bits(bits as u64));
            let mut deltas = Frames::new(p, n - 1);
            for i in 1..hi {
                bits = bits.wrapping_add(deltas.next()?);
                push(i, f64::from_bits(bits as u64));
            }
        }
        0 => {
            let k = *p.first()?;
            p = &p[1..];
            let scale = *POW10.get(usize::from(k))?;
            let mut m = varint(&mut p)?;
            push(0, from_scaled(m, scale));
            let mut deltas = Frames::new(p, n - 1);
            for i in 1..hi {
                m = m.wrapping_add(deltas.next()?);
                push(i, from_scaled(m, scale));
            }
        }
        _ => {
            let mut reader = BitReader::new(p);
            let mut bits = reader.read_bits(64)?;
            push(0, f64::from_bits(bits));
            let mut state = ValueState::default();
            for i in 1..hi {
                bits = read_value(&mut reader, &mut state, bits)?;
                push(i, f64::from_bits(bits));
            }
        }
    }
    Some(())
}

/// The timestamps of a packed chunk.
enum Times {
    /// `t0 + i × delta`: evenly spaced (delta > 0, or a single sample).
    Regular { t0: i64, delta: i64 },
    /// Decoded from delta-of-deltas.
    Listed(Vec<i64>),
}

impl Times {
    fn at(&self, i: usize) -> i64 {
        match self {
            Times::Regular { t0, delta } => t0.wrapping_add(delta.wrapping_mul(i as i64)),
            Times::Listed(ts) => ts[i],
        }
    }

    /// The indices `lo..hi` of the `n` samples within `[mint, maxt]`.
    fn index_range(&self, n: usize, mint: i64, maxt: i64) -> (usize, usize) {
        match self {
            Times::Listed(ts) => (ts.partition_point(|&t| t < mint), ts.partition_point(|&t| t <= maxt)),
            Times::Regular { t0, delta } if *delta > 0 => {
                // First i with t0 + i·delta >= bound, in i128 so no step overflows.
                let first_at_least = |bound: i128| -> usize {
                    let offset = bound - i128::from(*t0);
                    if offset <= 0 {
                        return 0;
                    }
                    let i = (offset + i128::from(*delta) - 1) / i128::from(*delta);
                    usize::try_from(i).unwrap_or(usize::MAX).min(n)
                };
                (first_at_least(i128::from(mint)), first_at_least(i128::from(maxt) + 1))
            }
            Times::Regular { .. } => {
                // Wrapped or zero deltas only come from corrupt or hostile
                // data: decide sample by sample.
                let lo = (0..n).find(|&i| self.at(i) >= mint).unwrap_or(n);
                let hi = (lo..n).find(|&i| self.at(i) > maxt).unwrap_or(n);
                (lo, hi)
            }
        }
    }
}

/// Streams the integers of a packed block, one frame at a time.
struct Frames<'a> {
    p: &'a [u8],
    left: usize,
    buf: [i64; FRAME],
    len: usize,
    pos: usize,
}

impl<'a> Frames<'a> {
    fn new(p: &'a [u8], count: usize) -> Frames<'a> {
        Frames { p, left: count, buf: [0; FRAME], len: 0, pos: 0 }
    }

    fn next(&mut self) -> Option<i64> {
        if self.pos == self.len {
            if self.left == 0 {
                return None;
            }
            let n = self.left.min(FRAME);
            frame_into(&mut self.p, &mut self.buf[..n])?;
            self.left -= n;
            self.len = n;
            self.pos = 0;
        }
        let v = self.buf[self.pos];
        self.pos += 1;
        Some(v)
    }
}

fn from_scaled(m: i64, scale: f64) -> f64 {
    if scale == 1.0 { m as f64 } else { m as f64 / scale }
}

/// The smallest decimal scale `k` at which every value is exactly
/// `m / 10^k` for an integer `m` of at most 53 bits, with those integers.
fn integer_scale(samples: &[Sample]) -> Option<(u8, Vec<i64>)> {
    const LIMIT: f64 = (1u64 << 53) as f64;
    'scales: for k in 0..=MAX_SCALE {
        let scale = POW10[usize::from(k)];
        let mut ints = Vec::with_capacity(samples.len());
        for s in samples {
            let m = (s.v * scale).round();
            if !m.is_finite() || m.abs() > LIMIT {
                return None;
            }
            let m = m as i64;
            if from_scaled(m, scale).to_bits() != s.v.to_bits() {
                continue 'scales;
            }
            ints.push(m);
        }
        return Some((k, ints));
    }
    None
}

/// Values per frame of reference: each frame has its own minimum and bit
/// width, so a rate that drifts over a chunk costs what it costs locally.
const FRAME: usize = 64;

fn put_packed(out: &mut Vec<u8>, values: &[i64]) {
    for frame in values.chunks(FRAME) {
        put_frame(out, frame);
    }
}

fn put_frame(out: &mut Vec<u8>, values: &[i64]) {
    let min = values.iter().copied().min().unwrap_or(0);
    let max_offset = values.iter().map(|&v| v.wrapping_sub(min) as u64).max().unwrap_or(0);
    let width = 64 - max_offset.leading_zeros();
    put_varint(out, min);
    out.push(width as u8);
    if width == 0 {
        return;
    }
    let mut acc: u128 = 0;
    let mut filled = 0u32;
    for &v in values {
        acc |= u128::from(v.wrapping_sub(min) as u64) << filled;
        filled += width;
        while filled >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        out.push(acc as u8);
    }
}

fn packed(p: &mut &[u8], count: usize) -> Option<Vec<i64>> {
    let mut out = vec![0; count];
    for frame in out.chunks_mut(FRAME) {
        frame_into(p, frame)?;
    }
    Some(out)
}

/// Reads one frame of `out.len()` integers.
fn frame_into(p: &mut &[u8], out: &mut [i64]) -> Option<()> {
    let min = varint(p)?;
    let width = u32::from(*p.first()?);
    *p = &p[1..];
    if width > 64 {
        return None;
    }
    if width == 0 {
        out.fill(min);
        return Some(());
    }
    let len = (out.len() * width as usize).div_ceil(8);
    let bytes = p.get(..len)?;
    *p = &p[len..];
    let mask: u128 = if width == 64 { u128::from(u64::MAX) } else { (1u128 << width) - 1 };
    let (mut acc, mut filled, mut next) = (0u128, 0u32, 0usize);
    for slot in out.iter_mut() {
        while filled < width {
            acc |= u128::from(bytes[next]) << filled;
            next += 1;
            filled += 8;
        }
        *slot = min.wrapping_add((acc & mask) as u64 as i64);
        acc >>= width;
        filled -= width;
    }
    Some(())
}
