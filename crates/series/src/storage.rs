//! The storage traits: how samples go in and how series come out.

use crate::chunk::start::StartTimestamp;
use crate::{
    Chunk, ChunkEncoding, FloatHistogram, HistogramSample, LabelRef, Labels, Matcher, Result, Sample, SampleIter,
};

/// Writes samples in a batch that becomes visible and durable at [`commit`].
///
/// An appender validates nothing about names: callers (receivers, scrapers)
/// reject bad input before appending, so a commit only fails when the store
/// cannot write, and then nothing of the batch is acknowledged.
///
/// [`commit`]: Appender::commit
pub trait Appender: Send {
    /// Adds a sample for the series identified by `labels`, which must be
    /// sorted by name with unique names and non-empty values. Samples of any
    /// age are accepted; a repeated timestamp keeps the last value written.
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64);

    /// Adds a native-histogram sample, with the same rules as [`Appender::append`].
    /// Returns false when this appender cannot store histograms; the sample is then dropped.
    fn append_histogram(&mut self, labels: &[LabelRef<'_>], t: i64, h: &FloatHistogram) -> bool {
        let _ = (labels, t, h);
        false
    }

    /// Makes the batch durable (written to the write-ahead log) and visible.
    /// Returns the number of samples committed.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Unavailable`] when the log cannot be written; none of
    /// the batch is then stored.
    fn commit(&mut self) -> Result<usize>;

    /// Drops the batch.
    fn rollback(&mut self);
}

/// Something that hands out appenders: the store, or a test double.
pub trait Appendable: Send + Sync {
    /// A new, empty batch.
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// What a caller of [`Querier::select`] needs, so the store can skip work.
#[derive(Debug, Clone, Copy)]
pub struct SelectHints {
    /// Earliest timestamp wanted (inclusive), in milliseconds.
    pub mint: i64,
    /// Latest timestamp wanted (inclusive), in milliseconds.
    pub maxt: i64,
    /// Only the label sets are wanted (series and label APIs): chunks may be
    /// left out of the result.
    pub labels_only: bool,
}

impl SelectHints {
    /// Series with samples in `[mint, maxt]`, with their chunks.
    pub fn range(mint: i64, maxt: i64) -> SelectHints {
        SelectHints { mint, maxt, labels_only: false }
    }
}

/// One series as read from the store: its labels and its encoded chunks, in
/// the order of [`SampleIter`]'s precedence rule (oldest write first).
#[derive(Debug, Clone)]
pub struct Series {
    /// The series' identity.
    pub labels: Labels,
    /// Its chunks that overlap the selected range (empty for `labels_only`).
    pub chunks: Vec<Chunk>,
}

impl Series {
    /// Whether any of the series' chunks holds histogram samples.
    pub fn has_histograms(&self) -> bool {
        self.chunks.iter().any(Chunk::is_histogram)
    }

    /// The histogram samples within `[mint, maxt]`, in time order; where
    /// chunks overlap, the later chunk wins, as for floats. A corrupt chunk
    /// yields what decoded before the damage.
    pub fn decode_histograms(&self, mint: i64, maxt: i64) -> Vec<HistogramSample> {
        let mut out = Vec::new();
        let chunks = self.chunks.iter().filter(|c| c.is_histogram() && c.overlaps(mint, maxt));
        let mut sorted = true;
        for chunk in chunks {
            let before = out.len();
            let _ = crate::chunk::histogram::decode_into(&chunk.data, mint, maxt, &mut out);
            if before > 0 && out.len() > before && out[before].t <= out[before - 1].t {
                sorted = false;
            }
        }
        if !sorted {
            sort_later_wins(&mut out, |s| s.t);
        }
        out
    }

    /// Whether any of the series' chunks holds start timestamps.
    pub fn has_start_timestamps(&self) -> bool {
        self.chunks.iter().any(|c| c.encoding == ChunkEncoding::StartTimestamps)
    }

    /// The start timestamps of samples within `[mint, maxt]`, in time order;
    /// a sample without one is not listed. Where chunks overlap, the later
    /// chunk wins, as for samples. A corrupt chunk yields what decoded before the damage.
    pub fn decode_start_timestamps(&self, mint: i64, maxt: i64) -> Vec<StartTimestamp> {
        let mut out: Vec<StartTimestamp> = Vec::new();
        let chunks =
            self.chunks.iter().filter(|c| c.encoding == ChunkEncoding::StartTimestamps && c.overlaps(mint, maxt));
        for chunk in chunks {
            let _ = crate::chunk::start::decode_into(&chunk.data, mint, maxt, &mut out);
        }
        if out.windows(2).any(|w| w[1].t <= w[0].t) {
            sort_later_wins(&mut out, |s| s.t);
        }
        out
    }

    /// The samples within `[mint, maxt]`, decoded lazily.
    pub fn samples(&self, mint: i64, maxt: i64) -> SampleIter<'_> {
        SampleIter::new(&self.chunks, mint, maxt)
    }

    /// The samples within `[mint, maxt]`, decoded at once: the same samples
    /// as [`Series::samples`], faster when the chunks do not overlap (the
    /// usual case), because packed chunks then decode straight into the
    /// result and skip what lies outside the range.
    pub fn decode(&self, mint: i64, maxt: i64) -> Vec<Sample> {
        let mut chunks: Vec<&Chunk> =
            self.chunks.iter().filter(|c| c.overlaps(mint, maxt) && c.holds_floats()).collect();
        chunks.sort_by_key(|c| c.min_t);
        if chunks.windows(2).any(|w| w[1].min_t <= w[0].max_t) {
            return self.samples(mint, maxt).collect();
        }
        let mut out = Vec::with_capacity(chunks.iter().map(|c| c.num_samples()).sum());
        for chunk in chunks {
            match chunk.encoding {
                ChunkEncoding::Packed => {
                    // A corrupt chunk yields what decoded before the damage, as the iterator does.
                    let _ = crate::chunk::packed::decode_into(&chunk.data, mint, maxt, &mut out);
                }
                ChunkEncoding::Xor => out.extend(chunk.iter().filter(|s| s.t >= mint && s.t <= maxt)),
                ChunkEncoding::Histogram | ChunkEncoding::StartTimestamps => {}
            }
        }
        out
    }
}

/// Sorts what overlapping chunks decoded by time and keeps, of entries
/// with the same time, the last one: chunks are decoded oldest write first,
/// so the later write wins, as in [`SampleIter`]. The sort is stable.
fn sort_later_wins<T>(items: &mut Vec<T>, time: impl Fn(&T) -> i64) {
    items.sort_by_key(&time);
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        match kept.last_mut() {
            Some(last) if time(last) == time(&item) => *last = item,
            _ => kept.push(item),
        }
    }
    *items = kept;
}

/// Reads series from a fixed view of the store.
pub trait Querier: Send + Sync {
    /// The series that match every matcher and have samples in the range,
    /// sorted by labels. At least one matcher must not match the empty string
    /// (a selector must select something), as in PromQL.
    ///
    /// # Errors
    ///
    /// Fails when the store cannot read its data.
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<Series>>;

    /// The sorted label names of the matching series (all series if `matchers` is empty).
    ///
    /// # Errors
    ///
    /// Fails when the store cannot read its data.
    fn label_names(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// The sorted values of label `name` over the matching series.
    ///
    /// # Errors
    ///
    /// Fails when the store cannot read its data.
    fn label_values(&self, name: &str, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>>;
}

/// Something that hands out queriers.
pub trait Queryable: Send + Sync {
    /// A querier over everything stored now.
    ///
    /// # Errors
    ///
    /// Fails when the store cannot open its data.
    fn querier(&self) -> Result<Box<dyn Querier + '_>>;
}
