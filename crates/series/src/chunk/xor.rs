//! The XOR chunk encoding (Gorilla), byte-compatible with Prometheus's.
//!
//! Layout: a 2-byte big-endian sample count, then a bit stream. The first
//! sample is its timestamp as a zig-zag varint and its value as 64 raw bits;
//! the second is its timestamp delta as a varint and its value XOR-ed with
//! the first. Every later timestamp is a delta-of-delta in one of five
//! buckets (`0`, `10`+14 bits, `110`+17, `1110`+20, `1111`+64) and every
//! later value is XOR-ed with the previous one: `0` when equal, else `1`
//! then either `0` and the meaningful bits inside the previous window, or
//! `1`, 5 bits of leading zeros, 6 bits of length and the meaningful bits.

use super::bstream::{BitReader, BitWriter};
use crate::Sample;

/// Samples per chunk at most: the count is a u16.
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Encodes samples with strictly increasing timestamps into an XOR chunk.
#[derive(Debug, Clone)]
pub struct XorAppender {
    stream: BitWriter,
    num_samples: u16,
    t: i64,
    t_delta: u64,
    v: f64,
    values: ValueState,
    min_t: i64,
}

/// The window of meaningful bits shared by consecutive XOR-ed values.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ValueState {
    leading: u8,
    trailing: u8,
    /// Whether a window was written yet (a reader starts at 0/0 regardless).
    set: bool,
}

impl Default for XorAppender {
    fn default() -> Self {
        XorAppender::new()
    }
}

impl XorAppender {
    /// An empty chunk.
    pub fn new() -> XorAppender {
        XorAppender {
            stream: BitWriter::with_bytes(vec![0, 0]),
            num_samples: 0,
            t: 0,
            t_delta: 0,
            v: 0.0,
            values: ValueState::default(),
            min_t: 0,
        }
    }

    /// The number of samples appended.
    pub fn num_samples(&self) -> usize {
        usize::from(self.num_samples)
    }

    /// Whether no sample was appended.
    pub fn is_empty(&self) -> bool {
        self.num_samples == 0
    }

    /// Timestamp of the last sample appended.
    pub fn last_t(&self) -> i64 {
        self.t
    }

    /// Value of the last sample appended.
    pub fn last_v(&self) -> f64 {
        self.v
    }

    /// Timestamp of the first sample appended.
    pub fn first_t(&self) -> i64 {
        self.min_t
    }

    /// The encoded size so far, in bytes.
    pub fn size(&self) -> usize {
        self.stream.bytes.len()
    }

    /// Whether the chunk cannot take another sample.
    pub fn is_full(&self) -> bool {
        self.num_samples() == MAX_SAMPLES
    }

    /// Appends a sample. Timestamps must increase strictly; the caller checks.
    ///
    /// # Panics
    ///
    /// In debug builds, if `t` does not increase or the chunk is full.
    pub fn append(&mut self, t: i64, v: f64) {
        debug_assert!(self.num_samples == 0 || t > self.t, "timestamps must increase");
        debug_assert!(!self.is_full(), "chunk is full");
        match self.num_samples {
            0 => {
                put_varint(&mut self.stream, t);
                self.stream.write_bits(v.to_bits(), 64);
                self.min_t = t;
            }
            1 => {
                let t_delta = t.wrapping_sub(self.t) as u64;
                put_uvarint(&mut self.stream, t_delta);
                write_value(&mut self.stream, &mut self.values, self.v, v);
                self.t_delta = t_delta;
            }
            _ => {
                let t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                let s = &mut self.stream;
                if dod == 0 {
                    s.write_bit(false);
                } else if fits(dod, 14) {
                    s.write_bits(0b10, 2);
                    s.write_bits(dod as u64, 14);
                } else if fits(dod, 17) {
                    s.write_bits(0b110, 3);
                    s.write_bits(dod as u64, 17);
                } else if fits(dod, 20) {
                    s.write_bits(0b1110, 4);
                    s.write_bits(dod as u64, 20);
                } else {
                    s.write_bits(0b1111, 4);
                    s.write_bits(dod as u64, 64);
                }
                write_value(&mut self.stream, &mut self.values, self.v, v);
                self.t_delta = t_delta;
            }
        }
        self.t = t;
        self.v = v;
        self.num_samples += 1;
        self.stream.bytes[..2].copy_from_slice(&self.num_samples.to_be_bytes());
    }

    /// The encoded bytes so far (a valid chunk at every point).
    pub fn bytes(&self) -> &[u8] {
        &self.stream.bytes
    }

    /// A copy of the chunk as it is now, or `None` if it is empty.
    pub fn to_chunk(&self) -> Option<super::Chunk> {
        (!self.is_empty()).then(|| super::Chunk {
            min_t: self.min_t,
            max_t: self.t,
            encoding: super::ChunkEncoding::Xor,
            data: bytes::Bytes::copy_from_slice(self.bytes()),
        })
    }
}

/// Writes `v` XOR-ed with the previous value `prev`.
pub(crate) fn write_value(s: &mut BitWriter, state: &mut ValueState, prev: f64, v: f64) {
    let delta = v.to_bits() ^ prev.to_bits();
    if delta == 0 {
        s.write_bit(false);
        return;
    }
    s.write_bit(true);
    let leading = (delta.leading_zeros() as u8).min(31);
    let trailing = delta.trailing_zeros() as u8;
    if state.set && leading >= state.leading && trailing >= state.trailing {
        s.write_bit(false);
        s.write_bits(delta >> state.trailing, 64 - u32::from(state.leading) - u32::from(state.trailing));
        return;
    }
    *state = ValueState { leading, trailing, set: true };
    s.write_bit(true);
    s.write_bits(u64::from(leading), 5);
    let sigbits = 64 - leading - trailing;
    // 64 significant bits do not fit in 6 bits; 0 stands for 64.
    s.write_bits(u64::from(sigbits & 0x3f), 6);
    s.write_bits(delta >> trailing, u32::from(sigbits));
}

/// Reads a value XOR-ed with the previous value's bits `prev`.
pub(crate) fn read_value(r: &mut BitReader<'_>, state: &mut ValueState, prev: u64) -> Option<u64> {
    if !r.read_bit()? {
        return Some(prev);
    }
    if r.read_bit()? {
        state.leading = r.read_bits(5)? as u8;
        let mut sigbits = r.read_bits(6)? as u8;
        if sigbits == 0 {
            sigbits = 64;
        }
        state.trailing = 64u8.checked_sub(state.leading + sigbits)?;
    }
    let sigbits = 64 - u32::from(state.leading) - u32::from(state.trailing);
    if sigbits == 0 {
        return None;
    }
    let bits = r.read_bits(sigbits)?;
    Some(prev ^ (bits << state.trailing))
}

fn fits(dod: i64, nbits: u32) -> bool {
    let min = -(1i64 << (nbits - 1)) + 1;
    let max = 1i64 << (nbits - 1);
    (min..=max).contains(&dod)
}

fn put_uvarint(s: &mut BitWriter, mut v: u64) {
    while v >= 0x80 {
        s.write_byte((v as u8) | 0x80);
        v >>= 7;
    }
    s.write_byte(v as u8);
}

fn put_varint(s: &mut BitWriter, v: i64) {
    put_uvarint(s, ((v << 1) ^ (v >> 63)) as u64);
}

/// Decodes an XOR chunk. A truncated or corrupt chunk ends the iteration
/// early; [`XorIter::is_corrupt`] tells whether that happened.
#[derive(Debug, Clone)]
pub struct XorIter<'a> {
    reader: BitReader<'a>,
    remaining: usize,
    read: usize,
    t: i64,
    t_delta: u64,
    v: u64,
    values: ValueState,
    corrupt: bool,
}

impl<'a> XorIter<'a> {
    /// Iterates the chunk in `data`.
    pub fn new(data: &'a [u8]) -> XorIter<'a> {
        XorIter {
            reader: BitReader::new(data.get(2..).unwrap_or_default()),
            remaining: super::header_count(data),
            read: 0,
            t: 0,
            t_delta: 0,
            v: 0,
            values: ValueState::default(),
            corrupt: data.len() < 2,
        }
    }

    /// Whether decoding stopped before the header's sample count.
    pub fn is_corrupt(&self) -> bool {
        self.corrupt
    }

    fn decode(&mut self) -> Option<Sample> {
        match self.read {
            0 => {
                let t = read_varint(&mut self.reader)?;
                self.v = self.reader.read_bits(64)?;
                self.t = t;
            }
            1 => {
                self.t_delta = read_uvarint(&mut self.reader)?;
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.v = read_value(&mut self.reader, &mut self.values, self.v)?;
            }
            _ => {
                let mut prefix = 0u8;
                for _ in 0..4 {
                    if !self.reader.read_bit()? {
                        break;
                    }
                    prefix += 1;
                }
                let dod = match prefix {
                    0 => 0,
                    1 => sign_extend(self.reader.read_bits(14)?, 14),
                    2 => sign_extend(self.reader.read_bits(17)?, 17),
                    3 => sign_extend(self.reader.read_bits(20)?, 20),
                    _ => self.reader.read_bits(64)? as i64,
                };
                self.t_delta = self.t_delta.wrapping_add(dod as u64);
                self.t = self.t.wrapping_add(self.t_delta as i64);
                self.v = read_value(&mut self.reader, &mut self.values, self.v)?;
            }
        }
        Some(Sample { t: self.t, v: f64::from_bits(self.v) })
    }
}

impl Iterator for XorIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.remaining == 0 || self.corrupt {
            return None;
        }
        match self.decode() {
            Some(sample) => {
                self.remaining -= 1;
                self.read += 1;
                Some(sample)
            }
            None => {
                self.corrupt = true;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

/// Reads an `nbits` two's-complement field whose range is
/// `-(2^(nbits-1) - 1) ..= 2^(nbits-1)`, as the writer's [`fits`] allows.
fn sign_extend(bits: u64, nbits: u32) -> i64 {
    let bits = bits as i64;
    if bits > 1 << (nbits - 1) { bits - (1 << nbits) } else { bits }
}

fn read_uvarint(r: &mut BitReader<'_>) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = r.read_byte()?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

fn read_varint(r: &mut BitReader<'_>) -> Option<i64> {
    let u = read_uvarint(r)?;
    Some(((u >> 1) as i64) ^ -((u & 1) as i64))
}
