//! Test-only doubles shared by the crates' tests.
//!
//! [`MemStorage`] implements [`series::Appendable`] and [`series::Queryable`]
//! over a map in memory, so the receivers, the API and the query engine can
//! be tested without the embedded store. It holds floats and native
//! histograms and keeps the store's contract: a batch is visible only after
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
    Result, Sample, SelectHints, Series,
};

/// A stored value: a float or a native histogram.
#[derive(Debug, Clone)]
enum Stored {
    Float(f64),
    Histogram(Arc<FloatHistogram>),
}

/// The samples of one series, by time.
type SeriesSamples = BTreeMap<i64, Stored>;

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
            entry.insert(t, Stored::Float(v));
        }
    }

    /// Adds histogram samples directly, for setting up a query test.
    pub fn add_histograms(&self, labels: Labels, samples: &[(i64, FloatHistogram)]) {
        let mut inner = self.inner.lock();
        let entry = inner.entry(labels).or_default();
        for (t, h) in samples {
            entry.insert(*t, Stored::Histogram(Arc::new(h.clone())));
        }
    }

    /// The matching series with their float and histogram samples in the hinted range.
    fn matching(&self, hints: &SelectHints, matchers: &[Matcher]) -> Vec<(Labels, Vec<Sample>, Vec<HistogramSample>)> {
        let inner = self.inner.lock();
        inner
            .iter()
            .filter(|(labels, _)| matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or(""))))
            .map(|(labels, samples)| {
                let in_range = || samples.range(hints.mint..=hints.maxt);
                (labels.clone(), floats(in_range()), histograms(in_range()))
            })
            .filter(|(_, floats, histograms)| !floats.is_empty() || !histograms.is_empty())
            .collect()
    }
}

fn floats<'a>(samples: impl Iterator<Item = (&'a i64, &'a Stored)>) -> Vec<Sample> {
    samples
        .filter_map(|(&t, v)| match v {
            Stored::Float(v) => Some(Sample { t, v: *v }),
            Stored::Histogram(_) => None,
        })
        .collect()
}

fn histograms<'a>(samples: impl Iterator<Item = (&'a i64, &'a Stored)>) -> Vec<HistogramSample> {
    samples
        .filter_map(|(&t, v)| match v {
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
            inner.entry(labels).or_default().insert(t, v);
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
            .map(|(labels, floats, histograms)| {
                let mut chunks = Vec::new();
                if !hints.labels_only {
                    if !floats.is_empty() {
                        chunks.push(Chunk::from_samples(&floats));
                    }
                    if !histograms.is_empty() {
                        chunks.push(Chunk::from_histograms(&histograms));
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
            .flat_map(|(labels, ..)| labels.iter().map(|l| l.name.to_owned()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(&self, name: &str, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<String>> {
        let mut values: Vec<String> = self
            .matching(hints, matchers)
            .iter()
            .filter_map(|(labels, ..)| labels.get(name).map(str::to_owned))
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
