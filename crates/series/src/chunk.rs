//! Chunks: compressed runs of samples of one series, and iteration over them.
//!
//! The store hands the query engine a series as a list of encoded chunks, not
//! as decoded samples, so selecting a million series copies no sample: each
//! chunk is decoded lazily while it is evaluated. Chunks of one series may
//! overlap in time (backfill, out-of-order writes, several blocks covering
//! the same range); they are listed from the oldest write to the newest, and
//! where two chunks hold the same timestamp the later one wins, which is the
//! store's "last write wins" rule.

mod bstream;
pub mod histogram;
pub mod packed;
pub mod start;
mod xor;

use bytes::Bytes;

pub use xor::{MAX_SAMPLES, XorAppender, XorIter};

use crate::{HistogramSample, Sample};

/// How a chunk's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ChunkEncoding {
    /// Gorilla compression: delta-of-delta timestamps and XOR-ed floats, as in
    /// Prometheus's XOR chunks (byte-compatible). Appendable: the head uses it.
    Xor = 1,
    /// Regular timestamps and scaled-integer values bit-packed (see [`packed`]);
    /// written once, for blocks.
    Packed = 2,
    /// Native-histogram samples (see [`histogram`]); holds no float samples.
    Histogram = 3,
    /// The start timestamps of a series' samples (see [`start`]); holds no samples.
    StartTimestamps = 4,
}

impl ChunkEncoding {
    /// The encoding from its on-disk byte.
    pub fn from_u8(byte: u8) -> Option<ChunkEncoding> {
        match byte {
            1 => Some(ChunkEncoding::Xor),
            2 => Some(ChunkEncoding::Packed),
            3 => Some(ChunkEncoding::Histogram),
            4 => Some(ChunkEncoding::StartTimestamps),
            _ => None,
        }
    }
}

/// An encoded chunk with its time range (both ends inclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Timestamp of the first sample.
    pub min_t: i64,
    /// Timestamp of the last sample.
    pub max_t: i64,
    /// The encoding of `data`.
    pub encoding: ChunkEncoding,
    /// The encoded samples.
    pub data: Bytes,
}

impl Chunk {
    /// A chunk holding `samples`, which must be sorted by strictly increasing
    /// timestamp and not empty.
    ///
    /// # Panics
    ///
    /// If `samples` is empty.
    pub fn from_samples(samples: &[Sample]) -> Chunk {
        let mut appender = XorAppender::new();
        for s in samples {
            appender.append(s.t, s.v);
        }
        appender.to_chunk().expect("chunk built from at least one sample")
    }

    /// A packed chunk holding `samples` (strictly increasing timestamps, not empty).
    ///
    /// # Panics
    ///
    /// If `samples` is empty or holds more than `u16::MAX` samples.
    pub fn packed(samples: &[Sample]) -> Chunk {
        Chunk {
            min_t: samples[0].t,
            max_t: samples[samples.len() - 1].t,
            encoding: ChunkEncoding::Packed,
            data: Bytes::from(packed::encode(samples).into_boxed_slice()),
        }
    }

    /// A histogram chunk holding `samples` (strictly increasing timestamps, not empty).
    ///
    /// # Panics
    ///
    /// If `samples` is empty or holds more than `u16::MAX` samples.
    pub fn from_histograms(samples: &[HistogramSample]) -> Chunk {
        Chunk {
            min_t: samples[0].t,
            max_t: samples[samples.len() - 1].t,
            encoding: ChunkEncoding::Histogram,
            data: Bytes::from(histogram::encode(samples).into_boxed_slice()),
        }
    }

    /// A chunk holding the start timestamps of some samples (strictly
    /// increasing sample times, not empty).
    ///
    /// # Panics
    ///
    /// If `samples` is empty or holds more than `u16::MAX` samples.
    pub fn from_start_timestamps(samples: &[start::StartTimestamp]) -> Chunk {
        Chunk {
            min_t: samples[0].t,
            max_t: samples[samples.len() - 1].t,
            encoding: ChunkEncoding::StartTimestamps,
            data: Bytes::from(start::encode(samples).into_boxed_slice()),
        }
    }

    /// Whether the chunk holds histogram samples rather than floats.
    pub fn is_histogram(&self) -> bool {
        self.encoding == ChunkEncoding::Histogram
    }

    /// Whether the chunk holds float samples (XOR or packed).
    pub fn holds_floats(&self) -> bool {
        matches!(self.encoding, ChunkEncoding::Xor | ChunkEncoding::Packed)
    }

    /// Iterates the float samples of this chunk (none for other chunks). A corrupt chunk yields what
    /// decodes before the damage (packed chunks: nothing).
    pub fn iter(&self) -> ChunkIter<'_> {
        match self.encoding {
            ChunkEncoding::Xor => ChunkIter::Xor(XorIter::new(&self.data)),
            ChunkEncoding::Packed => ChunkIter::Decoded(packed::decode(&self.data).unwrap_or_default().into_iter()),
            ChunkEncoding::Histogram | ChunkEncoding::StartTimestamps => ChunkIter::Decoded(Vec::new().into_iter()),
        }
    }

    /// The number of samples, read from the header.
    pub fn num_samples(&self) -> usize {
        header_count(&self.data)
    }

    /// Whether the chunk has samples in `[mint, maxt]`.
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.min_t <= maxt && self.max_t >= mint
    }
}

/// The number of samples a chunk holds, from the header every encoding
/// starts with: two bytes, big-endian (0 for data too short to have one).
pub(crate) fn header_count(data: &[u8]) -> usize {
    data.get(..2).map_or(0, |h| usize::from(u16::from_be_bytes([h[0], h[1]])))
}

/// Iterates the samples of one chunk.
#[derive(Debug)]
pub enum ChunkIter<'a> {
    /// Decoding an XOR chunk as it goes.
    Xor(XorIter<'a>),
    /// Samples decoded up front (packed chunks).
    Decoded(std::vec::IntoIter<Sample>),
}

impl Iterator for ChunkIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        match self {
            ChunkIter::Xor(it) => it.next(),
            ChunkIter::Decoded(it) => it.next(),
        }
    }
}

/// Iterates the float samples of a series' chunks in timestamp order, within
/// `[mint, maxt]`, resolving overlaps with "the later chunk wins".
#[derive(Debug)]
pub struct SampleIter<'a> {
    chunks: Vec<(usize, &'a Chunk)>,
    next_chunk: usize,
    current: Current<'a>,
    mint: i64,
    maxt: i64,
}

#[derive(Debug)]
enum Current<'a> {
    None,
    One(ChunkIter<'a>),
    Merged(std::vec::IntoIter<Sample>),
}

impl<'a> SampleIter<'a> {
    /// Samples of `chunks` (listed oldest write first) within `[mint, maxt]`.
    pub fn new(chunks: &'a [Chunk], mint: i64, maxt: i64) -> SampleIter<'a> {
        let mut order: Vec<(usize, &Chunk)> =
            chunks.iter().enumerate().filter(|(_, c)| c.overlaps(mint, maxt) && c.holds_floats()).collect();
        order.sort_by_key(|(precedence, c)| (c.min_t, *precedence));
        SampleIter { chunks: order, next_chunk: 0, current: Current::None, mint, maxt }
    }

    /// Opens the next group of chunks that overlap each other.
    fn open_next(&mut self) -> bool {
        let Some(&(_, first)) = self.chunks.get(self.next_chunk) else {
            return false;
        };
        let mut end = self.next_chunk + 1;
        let mut group_max = first.max_t;
        while let Some(&(_, c)) = self.chunks.get(end) {
            if c.min_t > group_max {
                break;
            }
            group_max = group_max.max(c.max_t);
            end += 1;
        }
        let group = &self.chunks[self.next_chunk..end];
        self.current = if group.len() == 1 {
            Current::One(first.iter())
        } else {
            let mut all: Vec<(i64, usize, f64)> = Vec::new();
            for &(precedence, chunk) in group {
                all.extend(chunk.iter().map(|s| (s.t, precedence, s.v)));
            }
            // Newest write first among equal timestamps, then keep the first.
            all.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            all.dedup_by_key(|s| s.0);
            Current::Merged(all.into_iter().map(|(t, _, v)| Sample { t, v }).collect::<Vec<_>>().into_iter())
        };
        self.next_chunk = end;
        true
    }
}

impl Iterator for SampleIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        loop {
            let next = match &mut self.current {
                Current::None => None,
                Current::One(it) => it.next(),
                Current::Merged(it) => it.next(),
            };
            match next {
                Some(s) if s.t < self.mint => continue,
                Some(s) if s.t > self.maxt => {
                    // Later groups start after this one ends, so they are past maxt too.
                    self.chunks.clear();
                    self.current = Current::None;
                    return None;
                }
                Some(s) => return Some(s),
                None => {
                    if !self.open_next() {
                        return None;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
