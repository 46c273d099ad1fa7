//! Test-only doubles shared by the crates' tests.
//!
//! [`MemStorage`] implements [`series::Appendable`] and [`series::Queryable`]
//! over a map in memory, so the receivers, the API and the query engine can
//! be tested without the embedded store. It holds floats and native
//! histograms (and samples' start timestamps) and keeps the store's contract: a batch is visible only after
//! commit, a repeated timestamp keeps the last value, and samples of any age
//! are accepted.
//!
//! [`upstream::FakeUpstream`] is an OpenAI-compatible server with
//! deterministic answers and knobs for pace and failures, for the gateway.
#![warn(missing_docs)]

pub mod upstream;

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use series::{
    Appendable, Appender, Chunk, Error, FloatHistogram, HistogramSample, LabelRef, Labels, Matcher, Querier, Queryable,
    Result, Sample, SelectHints, Series, StartTimestamp,
};

/// A stored value: a float or a native histogram.
#[derive(Debug, Clone)]
enum Stored {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

/// One stored sample: its value, and its start timestamp if it has one.
#[derive(Debug, Clone)]
struct Entry {
    value: Stored,
    start: Option<i64>,
}

impl From<Stored> for Entry {
    fn from(value: Stored) -> Entry {
        Entry { value, start: None }
    }
}

/// The samples of one series, by time.
type SeriesSamples = BTreeMap<i64, Entry>;

/// An in-memory store for tests.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    inner: Arc<Mutex<BTreeMap<Labels, SeriesSamples>>>,
    /// When set, every commit fails as a full disk would.
    fail_commits: Arc<Mutex<bool>>,
}

impl MemStorage {
    /// An empty store.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// Makes every following commit fail with [`Error::Unavailable`] (or succeed again).
    pub fn set_fail_commits(&self, fail: bool) {
        *self.fail_commits.lock() = fail;
    }

    /// Every float sample of the series with exactly `labels`, in time order.
    pub fn samples(&self, labels: &Labels) -> Vec<Sample> {
        self.inner.lock().get(labels).map_or_else(Vec::new, |m| floats(m.iter()))
    }

    /// Every histogram sample of the series with exactly `labels`, in time order.
    pub fn histograms(&self, labels: &Labels) -> Vec<HistogramSample> {
        self.inner.lock().get(labels).map_or_else(Vec::new, |m| histograms(m.iter()))
    }

    /// Every series' labels.
    pub fn series(&self) -> Vec<Labels> {
        self.inner.lock().keys().cloned().collect()
    }

    /// The number of samples stored.
    pub fn num_samples(&self) -> usize {
        self.inner.lock().values().map(BTreeMap::len).sum()
    }

    /// Adds samples directly, for setting up a query test.
    pub fn add(&self, labels: Labels, samples: &[(i64, f64)]) {
        let mut inner = self.inner.lock();
        let entry = inner.entry(labels).or_default();
        for &(t, v) in samples {
            entry.insert(t, Stored::Float(v).into());
        }
    }

    /// Adds histogram samples directly, for setting up a query test.
    pub fn add_histograms(&self, labels: Labels, samples: &[(i64, FloatHistogram)]) {
        let mut inner = self.inner.lock();
        let entry = inner.entry(labels).or_default();
        for (t, h) in samples {
            entry.insert(*t, Stored::Histogram(Arc::new(h.clone())).into());
        }
    }

    /// Gives stored samples of the series with exactly `labels` their start
    /// ("created") timestamps, as `(t, start)`; times without a sample are ignored.
    pub fn set_start_timestamps(&self, labels: &Labels, starts: &[(i64, i64)]) {
        let mut inner = self.inner.lock();
        let Some(samples) = inner.get_mut(labels) else {
            return;
        };
        for &(t, start) in starts {
            if let Some(entry) = samples.get_mut(&t) {
                entry.start = Some(start);
            }
        }
    }

    /// The matching series with their samples in the hinted range.
    fn matching(&self, hints: &SelectHints, matchers: &[Matcher]) -> Vec<(Labels, Selected)> {
        let inner = self.inner.lock();
        inner
            .iter()
            .filter(|(labels, _)| matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or(""))))
            .map(|(labels, samples)| {
                let in_range = || samples.range(hints.mint..=hints.maxt);
                let selected = Selected {
                    floats: floats(in_range()),
                    histograms: histograms(in_range()),
                    starts: in_range().filter_map(|(&t, e)| e.start.map(|start| StartTimestamp { t, start })).collect(),
                };
                (labels.clone(), selected)
            })
            .filter(|(_, selected)| !selected.floats.is_empty() || !selected.histograms.is_empty())
            .collect()
    }
}

/// One series' samples in a selected range.
struct Selected {
    floats: Vec<Sample>,
    histograms: Vec<HistogramSample>,
    starts: Vec<StartTimestamp>,
}

fn floats<'a>(samples: impl Iterator<Item = (&'a i64, &'a Entry)>) -> Vec<Sample> {
    samples
        .filter_map(|(&t, e)| match &e.value {
            Stored::Float(v) => Some(Sample { t, v: *v }),
            Stored::Histogram(_) => None,
        })
        .collect()
}

fn histograms<'a>(samples: impl Iterator<Item = (&'a i64, &'a Entry)>) -> Vec<HistogramSample> {
    samples
        .filter_map(|(&t, e)| match &e.value {
            Stored::Histogram(h) => Some(HistogramSample { t, h: Arc::clone(h) }),
            Stored::Float(_) => None,
        })
        .collect()
}

struct MemAppender {
    storage: MemStorage,
    pending: Vec<(Labels, i64, Stored)>,
}

impl Appender for MemAppender {
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64) {
        self.pending.push((Labels::from_sorted(labels), t, Stored::Float(v)));
    }

    fn append_histogram(&mut self, labels: &[LabelRef<'_>], t: i64, h: &FloatHistogram) -> bool {
        self.pending.push((Labels::from_sorted(labels), t, Stored::Histogram(Arc::new(h.clone()))));
        true
    }

    fn commit(&mut self) -> Result<usize> {
        if *self.storage.fail_commits.lock() {
            self.pending.clear();
            return Err(Error::Unavailable {
                reason: "test store set to fail".into(),
                source: std::io::Error::other("no space left on device"),
            });
        }
        let n = self.pending.len();
        let mut inner = self.storage.inner.lock();
        for (labels, t, v) in self.pending.drain(..) {
            inner.entry(labels).or_default().insert(t, v.into());
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
        Ok(self
            .matching(hints, matchers)
            .into_iter()
            .map(|(labels, selected)| {
                let mut chunks = Vec::new();
                if !hints.labels_only {
                    if !selected.floats.is_empty() {
                        chunks.push(Chunk::from_samples(&selected.floats));
                    }
                    if !selected.histograms.is_empty() {
                        chunks.push(Chunk::from_histograms(&selected.histograms));
                    }
                    if !selected.starts.is_empty() {
                        chunks.push(Chunk::from_start_timestamps(&selected.starts));
                    }
                }
                Series { labels, chunks }
            })
            .collect())
    }

    fn label_names(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .matching(hints, matchers)
            .iter()
            .flat_map(|(labels, _)| labels.iter().map(|l| l.name.to_owned()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut values: Vec<String> = self
            .matching(hints, matchers)
            .iter()
            .filter_map(|(labels, _)| labels.get(name).map(str::to_owned))
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
