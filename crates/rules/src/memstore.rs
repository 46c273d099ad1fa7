//! A small in-memory store for rule unit tests and benchmarks.
//!
//! It keeps the store's contract (a batch is visible only after commit, a
//! repeated timestamp keeps the last value, samples of any age are accepted)
//! and indexes series by metric name, so a selector with a name reads only
//! that name's series.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use series::{
    Appendable, Appender, Chunk, LabelRef, Labels, MatchOp, Matcher, Querier, Queryable, Result, Sample, SelectHints,
    Series,
};

type SeriesMap = BTreeMap<Labels, SeriesData>;

/// One series' samples, and their encoding, built at the first read after a write.
#[derive(Debug, Default)]
struct SeriesData {
    samples: BTreeMap<i64, f64>,
    chunks: OnceLock<Vec<Chunk>>,
}

impl SeriesData {
    fn insert(&mut self, t: i64, v: f64) {
        self.samples.insert(t, v);
        self.chunks = OnceLock::new();
    }

    fn chunks(&self) -> Vec<Chunk> {
        self.chunks
            .get_or_init(|| {
                let samples: Vec<Sample> = self.samples.iter().map(|(&t, &v)| Sample { t, v }).collect();
                samples.chunks(usize::from(u16::MAX)).map(Chunk::packed).collect()
            })
            .clone()
    }
}

/// An in-memory store. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    by_name: Arc<RwLock<HashMap<String, SeriesMap>>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Adds samples to the series with `labels` at once, bypassing appenders.
    pub fn add(&self, labels: &Labels, samples: &[Sample]) {
        let name = labels.metric_name().unwrap_or_default().to_owned();
        let mut by_name = self.by_name.write();
        let series = by_name.entry(name).or_default().entry(labels.clone()).or_default();
        for sample in samples {
            series.insert(sample.t, sample.v);
        }
    }

    /// Every sample of the series with exactly `labels`, in time order.
    pub fn samples(&self, labels: &Labels) -> Vec<Sample> {
        let name = labels.metric_name().unwrap_or_default();
        self.by_name
            .read()
            .get(name)
            .and_then(|m| m.get(labels))
            .map_or_else(Vec::new, |m| m.samples.iter().map(|(&t, &v)| Sample { t, v }).collect())
    }

    /// Every series' labels, sorted.
    pub fn series(&self) -> Vec<Labels> {
        let mut out: Vec<Labels> = self.by_name.read().values().flat_map(|m| m.keys().cloned()).collect();
        out.sort();
        out
    }

    /// The number of series.
    pub fn num_series(&self) -> usize {
        self.by_name.read().values().map(BTreeMap::len).sum()
    }

    /// The matching series with samples in the range, with their chunks
    /// (all of them: readers cut them to the range) unless only labels are wanted.
    fn matching(&self, hints: &SelectHints, matchers: &[Matcher]) -> Vec<Series> {
        let by_name = self.by_name.read();
        let name = matchers.iter().find(|m| m.name == series::METRIC_NAME && m.op == MatchOp::Equal);
        let maps: Vec<&SeriesMap> = match name {
            Some(m) => by_name.get(&m.value).into_iter().collect(),
            None => by_name.values().collect(),
        };
        let mut out: Vec<Series> = maps
            .into_iter()
            .flat_map(|map| map.iter())
            .filter(|(labels, _)| matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or(""))))
            .filter(|(_, data)| data.samples.range(hints.mint..=hints.maxt).next().is_some())
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
    store: MemStore,
    pending: Vec<(Labels, i64, f64)>,
}

impl Appender for MemAppender {
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64) {
        self.pending.push((Labels::from_sorted(labels), t, v));
    }

    fn commit(&mut self) -> Result<usize> {
        let n = self.pending.len();
        let mut by_name = self.store.by_name.write();
        for (labels, t, v) in self.pending.drain(..) {
            let name = labels.metric_name().unwrap_or_default().to_owned();
            by_name.entry(name).or_default().entry(labels).or_default().insert(t, v);
        }
        Ok(n)
    }

    fn rollback(&mut self) {
        self.pending.clear();
    }
}

impl Appendable for MemStore {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(MemAppender { store: self.clone(), pending: Vec::new() })
    }
}

impl Querier for MemStore {
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

impl Queryable for MemStore {
    fn querier(&self) -> Result<Box<dyn Querier + '_>> {
        Ok(Box::new(self.clone()))
    }
}
