//! One series in the head: sealed chunks, the chunk being appended, and a
//! small buffer for out-of-order and overwritten samples.

use std::collections::BTreeMap;

use series::chunk::XorAppender;
use series::{Chunk, Sample};

/// Samples per head chunk before it is sealed. Sealed chunks are re-encoded
/// as packed chunks, about half the size of XOR for scraped series, which is
/// most of the head's memory.
pub(crate) const CHUNK_SAMPLES: usize = 240;

/// Out-of-order samples buffered before they are sealed into a chunk.
const OOO_SAMPLES: usize = 64;

/// What happened to an appended sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    /// Stored as a new sample.
    New,
    /// The same timestamp and value were stored already (a retry).
    Duplicate,
}

/// The samples of one head series.
#[derive(Debug, Default)]
pub(crate) struct SeriesData {
    /// Sealed chunks in write order (a later chunk wins on equal timestamps).
    sealed: Vec<Chunk>,
    /// The chunk taking in-order appends.
    open: Option<XorAppender>,
    /// Samples at or before the open chunk's last timestamp, newest write wins.
    ooo: BTreeMap<i64, f64>,

    min_t: i64,
    max_t: i64,
    num_samples: u32,
}

impl SeriesData {
    /// Appends a sample of any age.
    pub(crate) fn append(&mut self, t: i64, v: f64, block_range: i64) -> Appended {
        if self.num_samples == 0 {
            self.min_t = t;
            self.max_t = t;
        }
        match &mut self.open {
            Some(open) if t > open.last_t() => {
                let crosses_window = t.div_euclid(block_range) != open.first_t().div_euclid(block_range);
                if open.num_samples() >= CHUNK_SAMPLES || crosses_window {
                    self.seal_open();
                    self.start_chunk(t, v);
                } else {
                    open.append(t, v);
                }
            }
            Some(open)
                if t == open.last_t() && open.last_v().to_bits() == v.to_bits() && !self.ooo.contains_key(&t) =>
            {
                return Appended::Duplicate;
            }
            Some(_) => self.insert_ooo(t, v),
            None if self.sealed.iter().all(|c| c.max_t < t) => self.start_chunk(t, v),
            None => self.insert_ooo(t, v),
        }
        self.min_t = self.min_t.min(t);
        self.max_t = self.max_t.max(t);
        self.num_samples = self.num_samples.saturating_add(1);
        Appended::New
    }

    fn start_chunk(&mut self, t: i64, v: f64) {
        let mut open = XorAppender::new();
        open.append(t, v);
        self.open = Some(open);
    }

    fn seal_open(&mut self) {
        if let Some(open) = self.open.take().filter(|open| !open.is_empty()) {
            let samples: Vec<Sample> = series::chunk::XorIter::new(open.bytes()).collect();
            self.sealed.push(Chunk::packed(&samples));
        }
    }

    fn insert_ooo(&mut self, t: i64, v: f64) {
        self.ooo.insert(t, v);
        if self.ooo.len() >= OOO_SAMPLES {
            let samples: Vec<Sample> = self.ooo.iter().map(|(&t, &v)| Sample { t, v }).collect();
            self.ooo.clear();
            // Sealing the open chunk first keeps write order: the OOO chunk
            // must win over every in-order sample written before it.
            self.seal_open();
            self.sealed.push(Chunk::packed(&samples));
        }
    }

    /// Whether the series has samples in `[mint, maxt]`.
    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.num_samples > 0 && self.min_t <= maxt && self.max_t >= mint
    }

    /// A copy of the chunks overlapping `[mint, maxt]`, in write order.
    pub(crate) fn chunks(&self, mint: i64, maxt: i64) -> Vec<Chunk> {
        let mut chunks: Vec<Chunk> = self.sealed.iter().filter(|c| c.overlaps(mint, maxt)).cloned().collect();
        if let Some(chunk) = self.open.as_ref().and_then(XorAppender::to_chunk).filter(|c| c.overlaps(mint, maxt)) {
            chunks.push(chunk);
        }
        if !self.ooo.is_empty() {
            let samples: Vec<Sample> = self.ooo.range(mint..=maxt).map(|(&t, &v)| Sample { t, v }).collect();
            if !samples.is_empty() {
                chunks.push(Chunk::from_samples(&samples));
            }
        }
        chunks
    }

    /// Heap bytes held by chunk data, for the memory gauge.
    pub(crate) fn chunk_bytes(&self) -> usize {
        self.sealed.iter().map(|c| c.data.len()).sum::<usize>() + self.open.as_ref().map_or(0, XorAppender::size)
    }

    /// The number of chunks, counting the open one.
    pub(crate) fn num_chunks(&self) -> usize {
        self.sealed.len() + usize::from(self.open.is_some())
    }
}
