//! An in-memory store behind [`Appendable`] and [`Queryable`], for
//! `infersight test-rules`, tests and benchmarks.
//!
//! It keeps the embedded store's contract: a batch is visible only after
//! commit, a repeated timestamp keeps the last value, and samples of any
//! age are accepted. It holds floats, native histograms and samples' start
//! timestamps. Series are indexed by metric name, so a selector with a name
//! reads only that name's series, and each series' chunks are encoded once
//! after a write, at the first read.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::{
    Appendable, Appender, Chunk, Error, FloatHistogram, HistogramSample, LabelRef, Labels, MatchOp, Matcher, Querier,
    Queryable, Result, Sample, SelectHints, Series, StartTimestamp,
};

/// Most samples in one encoded chunk.
const CHUNK_SAMPLES: usize = u16::MAX as usize;

/// A stored value: a float or a native histogram.
#[derive(Debug, Clone)]
enum Value {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

/// One stored sample: its value, and its start timestamp if it has one.
#[derive(Debug, Clone)]
struct Entry {
    value: Value,
    start: Option<i64>,
}

/// One series' samples by time, and their chunks, built at the first read after a write.
#[derive(Debug, Default)]
struct SeriesData {
    samples: BTreeMap<i64, Entry>,
    chunks: OnceLock<Vec<Chunk>>,
}

impl SeriesData {
    fn insert(&mut self, t: i64, value: Value) {
        self.samples.insert(t, Entry { value, start: None });
        self.chunks = OnceLock::new();
    }

    fn has_samples_in(&self, mint: i64, maxt: i64) -> bool {
        self.samples.range(mint..=maxt).next().is_some()
    }

    fn floats(&self) -> Vec<Sample> {
        self.samples
            .iter()
            .filter_map(|(&t, e)| match e.value {
                Value::Float(v) => Some(Sample { t, v }),
                Value::Histogram(_) => None,
            })
            .collect()
    }

    fn histograms(&self) -> Vec<HistogramSample> {
        self.samples
            .iter()
            .filter_map(|(&t, e)| match &e.value {
                Value::Histogram(h) => Some(HistogramSample { t, h: Arc::clone(h) }),
                Value::Float(_) => None,
            })
            .collect()
    }

    /// Every sample, encoded: float chunks, histogram chunks, start-timestamp chunks.
    fn chunks(&self) -> Vec<Chunk> {
        self.chunks
            .get_or_init(|| {
                let starts: Vec<StartTimestamp> = self
                    .samples
                    .iter()
                    .filter_map(|(&t, e)| e.start.map(|start| StartTimestamp { t, start }))
                    .collect();
                let floats = self.floats();
                let histograms = self.histograms();
                floats
                    .chunks(CHUNK_SAMPLES)
                    .map(Chunk::packed)
                    .chain(histograms.chunks(CHUNK_SAMPLES).map(Chunk::from_histograms))
                    .chain(starts.chunks(CHUNK_SAMPLES).map(Chunk::from_start_timestamps))
                    .collect()
            })
            .clone()
    }
}

/// Series by metric name, then by labels.
type ByName = HashMap<String, BTreeMap<Labels, SeriesData>>;

/// An in-memory store. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    by_name: Arc<RwLock<ByName>>,
    /// When set, every commit fails as a full disk would.
    fail_commits: Arc<AtomicBool>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, ByName> {
        self.by_name.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, ByName> {
        self.by_name.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(by_name: &mut ByName, labels: Labels, t: i64, value: Value) {
        let name = labels.metric_name().unwrap_or_default().to_owned();
        by_name.entry(name).or_default().entry(labels).or_default().insert(t, value);
    }

    /// Makes every following commit fail with [`Error::Unavailable`] (or succeed again).
    pub fn set_fail_commits(&self, fail: bool) {
        self.fail_commits.store(fail, Ordering::Relaxed);
    }

    /// Adds float samples `(t, v)` at once, bypassing appenders.
    pub fn add(&self, labels: Labels, samples: &[(i64, f64)]) {
        let mut by_name = self.write();
        for &(t, v) in samples {
            Self::insert(&mut by_name, labels.clone(), t, Value::Float(v));
        }
    }

    /// Adds histogram samples at once, bypassing appenders.
    pub fn add_histograms(&self, labels: Labels, samples: &[(i64, FloatHistogram)]) {
        let mut by_name = self.write();
        for (t, h) in samples {
            Self::insert(&mut by_name, labels.clone(), *t, Value::Histogram(Arc::new(h.clone())));
        }
    }

    /// Gives stored samples of the series with exactly `labels` their start
    /// ("created") timestamps, as `(t, start)`; times without a sample are ignored.
    pub fn set_start_timestamps(&self, labels: &Labels, starts: &[(i64, i64)]) {
        let mut by_name = self.write();
        let name = labels.metric_name().unwrap_or_default();
        let Some(data) = by_name.get_mut(name).and_then(|series| series.get_mut(labels)) else {
            return;
        };
        for &(t, start) in starts {
            if let Some(entry) = data.samples.get_mut(&t) {
                entry.start = Some(start);
            }
        }
        data.chunks = OnceLock::new();
    }

    fn with_series<T: Default>(&self, labels: &Labels, f: impl FnOnce(&SeriesData) -> T) -> T {
        let name = labels.metric_name().unwrap_or_default();
        self.read().get(name).and_then(|series| series.get(labels)).map_or_else(T::default, f)
    }

    /// Every float sample of the series with exactly `labels`, in time order.
    pub fn samples(&self, labels: &Labels) -> Vec<Sample> {
        self.with_series(labels, SeriesData::floats)
    }

    /// Every histogram sample of the series with exactly `labels`, in time order.
    pub fn histograms(&self, labels: &Labels) -> Vec<HistogramSample> {
        self.with_series(labels, SeriesData::histograms)
    }

    /// Every series' labels, sorted.
    pub fn series(&self) -> Vec<Labels> {
        let mut out: Vec<Labels> = self.read().values().flat_map(|series| series.keys().cloned()).collect();
        out.sort();
        out
    }

    /// The number of series.
    pub fn num_series(&self) -> usize {
        self.read().values().map(BTreeMap::len).sum()
    }

    /// The number of samples stored.
    pub fn num_samples(&self) -> usize {
        self.read().values().flat_map(BTreeMap::values).map(|data| data.samples.len()).sum()
    }

    /// The matching series with samples in the range, sorted by labels, with
    /// all their chunks (readers cut them to the range) unless only labels
    /// are wanted.
    fn matching(&self, hints: &SelectHints, matchers: &[Matcher]) -> Vec<Series> {
        let by_name = self.read();
        let name = matchers.iter().find(|m| m.name == crate::METRIC_NAME && m.op == MatchOp::Equal);
        let maps: Vec<&BTreeMap<Labels, SeriesData>> = match name {
            Some(m) => by_name.get(&m.value).into_iter().collect(),
            None => by_name.values().collect(),
        };
        let mut out: Vec<Series> = maps
            .into_iter()
            .flat_map(|series| series.iter())
            .filter(|(labels, _)| matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or(""))))
            .filter(|(_, data)| data.has_samples_in(hints.mint, hints.maxt))
            .map(|(labels, data)| Series {
                labels: labels.clone(),
                chunks: if hints.labels_only { Vec::new() } else { data.chunks() },
            })
            .collect();
        if name.is_none() {
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
        }
        out
    }
}

struct MemAppender {
    storage: MemStorage,
    pending: Vec<(Labels, i64, Value)>,
}

impl Appender for MemAppender {
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64) {
        self.pending.push((Labels::from_sorted(labels), t, Value::Float(v)));
    }

    fn append_histogram(&mut self, labels: &[LabelRef<'_>], t: i64, h: &FloatHistogram) -> bool {
        self.pending.push((Labels::from_sorted(labels), t, Value::Histogram(Arc::new(h.clone()))));
        true
    }

    fn commit(&mut self) -> Result<usize> {
        if self.storage.fail_commits.load(Ordering::Relaxed) {
            self.pending.clear();
            return Err(Error::Unavailable {
                reason: "in-memory store set to fail".into(),
                source: std::io::Error::other("no space left on device"),
            });
        }
        let n = self.pending.len();
        let mut by_name = self.storage.write();
        for (labels, t, value) in self.pending.drain(..) {
            MemStorage::insert(&mut by_name, labels, t, value);
        }
        Ok(n)
    }

    fn rollback(&mut self) {
        self.pending.clear();
    }
}

impl Appendable for MemStorage {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender { storage: self.clone(), pending: Vec::new() })
    }
}

impl Querier for MemStorage {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<Series>> {
        Ok(self.matching(hints, matchers))
    }

    fn label_names(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>> {
        let hints = SelectHints { labels_only: true, ..*hints };
        let mut names: Vec<String> = self
            .matching(&hints, matchers)
            .iter()
            .flat_map(|series| series.labels.iter().map(|l| l.name.to_owned()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>> {
        let hints = SelectHints { labels_only: true, ..*hints };
        let mut values: Vec<String> = self
            .matching(&hints, matchers)
            .iter()
            .filter_map(|series| series.labels.get(name).map(str::to_owned))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}

impl Queryable for MemStorage {
    fn querier(&self) -> Result<Box<dyn Querier + '_>> {
        Ok(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests;
