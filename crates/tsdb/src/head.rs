//! The head: recent samples in memory, in compressed chunks, indexed by
//! label postings, until a flush writes them into blocks.
//!
//! Series are found by the xxh3 hash of their canonical label bytes in one
//! of 64 lock stripes, so concurrent writers rarely wait on each other.
//! Each series has its own lock for its chunks. A head is never emptied in
//! place: a flush swaps in a fresh head and writes the old one out.

mod data;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use series::{Labels, Matcher, SelectHints, Series};

pub(crate) use self::data::{Appended, SeriesData};
use crate::postings::{self, PostingsIndex};

const STRIPES: usize = 64;

/// A series in the head.
#[derive(Debug)]
pub(crate) struct MemSeries {
    pub(crate) labels: Labels,
    /// The series' reference in the write-ahead log; unique across heads.
    pub(crate) series_ref: u64,
    /// Whether the series record is in the log.
    pub(crate) logged: AtomicBool,
    pub(crate) data: Mutex<SeriesData>,
}

/// Hashes are xxh3 already: pass them through.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed");
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashIndex = HashMap<u64, Slot, BuildHasherDefault<IdentityHasher>>;

/// The series under one hash; more than one only on a hash collision.
enum Slot {
    One(Arc<MemSeries>),
    Many(Vec<Arc<MemSeries>>),
}

/// The in-memory part of the store.
pub(crate) struct Head {
    block_range: i64,
    stripes: Box<[Mutex<HashIndex>]>,
    series: RwLock<Vec<Arc<MemSeries>>>,
    postings: RwLock<MemPostings>,
    min_t: AtomicI64,
    max_t: AtomicI64,
    num_samples: AtomicU64,
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head").field("series", &self.num_series()).finish_non_exhaustive()
    }
}

impl Head {
    pub(crate) fn new(block_range: i64) -> Head {
        Head {
            block_range,
            stripes: (0..STRIPES).map(|_| Mutex::new(HashIndex::default())).collect(),
            series: RwLock::new(Vec::new()),
            postings: RwLock::new(MemPostings::default()),
            min_t: AtomicI64::new(i64::MAX),
            max_t: AtomicI64::new(i64::MIN),
            num_samples: AtomicU64::new(0),
        }
    }

    /// The series with canonical label bytes `labels` (hashing to `hash`),
    /// created with `new_ref()` if missing.
    pub(crate) fn get_or_create(&self, hash: u64, labels: &[u8], new_ref: impl FnOnce() -> u64) -> Arc<MemSeries> {
        let mut stripe = self.stripes[hash as usize % STRIPES].lock();
        match stripe.get_mut(&hash) {
            Some(Slot::One(s)) if s.labels.as_bytes() == labels => return Arc::clone(s),
            Some(Slot::Many(list)) => {
                if let Some(s) = list.iter().find(|s| s.labels.as_bytes() == labels) {
                    return Arc::clone(s);
                }
            }
            _ => {}
        }
        let labels = Labels::from_encoded(labels).expect("appenders pass canonical label bytes");
        let series = self.insert(labels, new_ref());
        match stripe.remove(&hash) {
            None => stripe.insert(hash, Slot::One(Arc::clone(&series))),
            Some(Slot::One(other)) => stripe.insert(hash, Slot::Many(vec![other, Arc::clone(&series)])),
            Some(Slot::Many(mut list)) => {
                list.push(Arc::clone(&series));
                stripe.insert(hash, Slot::Many(list))
            }
        };
        series
    }

    fn insert(&self, labels: Labels, series_ref: u64) -> Arc<MemSeries> {
        let series = Arc::new(MemSeries {
            labels,
            series_ref,
            logged: AtomicBool::new(false),
            data: Mutex::new(SeriesData::default()),
        });
        let mut all = self.series.write();
        let id = u32::try_from(all.len()).expect("fewer than 4 billion series in the head");
        self.postings.write().add(id, &series.labels);
        all.push(Arc::clone(&series));
        series
    }

    /// Appends to a series of this head. The caller reports what it
    /// appended with [`Head::record_appends`], once per batch, so writers on
    /// different cores do not contend on the head's counters per sample.
    pub(crate) fn append(&self, series: &MemSeries, t: i64, v: f64) -> Appended {
        series.data.lock().append(t, v, self.block_range)
    }

    /// Accounts for `n` new samples spanning `[min_t, max_t]`.
    pub(crate) fn record_appends(&self, n: u64, min_t: i64, max_t: i64) {
        if n > 0 {
            self.min_t.fetch_min(min_t, Ordering::Relaxed);
            self.max_t.fetch_max(max_t, Ordering::Relaxed);
            self.num_samples.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn num_series(&self) -> usize {
        self.series.read().len()
    }

    pub(crate) fn num_samples(&self) -> u64 {
        self.num_samples.load(Ordering::Relaxed)
    }

    /// The time range of the head's samples, if it has any.
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let (min, max) = (self.min_t.load(Ordering::Relaxed), self.max_t.load(Ordering::Relaxed));
        (min <= max).then_some((min, max))
    }

    /// (chunks, chunk bytes) over all series, for the gauges.
    pub(crate) fn chunk_stats(&self) -> (usize, usize) {
        let all = self.series.read();
        all.iter().fold((0, 0), |(n, bytes), s| {
            let data = s.data.lock();
            (n + data.num_chunks(), bytes + data.chunk_bytes())
        })
    }

    /// Label names, or the values of label `name`, over the whole head
    /// (when no matcher narrows the question).
    pub(crate) fn label_names_or_values(&self, name: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let postings = self.postings.read();
        match name {
            None => postings.for_each_name(&mut |n| out.push(n.to_owned())),
            Some(name) => postings.for_each_value(name, &mut |v| out.push(v.to_owned())),
        }
        out
    }

    /// The head's series matching `matchers` with samples in the hinted range.
    pub(crate) fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Vec<Series> {
        let ids = postings::for_matchers(&*self.postings.read(), matchers);
        let all = self.series.read();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let series = &all[id as usize];
            let data = series.data.lock();
            if !data.overlaps(hints.mint, hints.maxt) {
                continue;
            }
            let chunks = if hints.labels_only { Vec::new() } else { data.chunks(hints.mint, hints.maxt) };
            out.push(Series { labels: series.labels.clone(), chunks });
        }
        out
    }
}

/// Postings of the head: label name → value → series ids (ascending).
#[derive(Debug, Default)]
struct MemPostings {
    by_label: HashMap<String, HashMap<String, Vec<u32>>>,
    count: u32,
}

impl MemPostings {
    fn add(&mut self, id: u32, labels: &Labels) {
        for label in labels {
            let values = match self.by_label.get_mut(label.name) {
                Some(values) => values,
                None => self.by_label.entry(label.name.to_owned()).or_default(),
            };
            match values.get_mut(label.value) {
                Some(ids) => ids.push(id),
                None => {
                    values.insert(label.value.to_owned(), vec![id]);
                }
            }
        }
        self.count = id + 1;
    }
}

impl PostingsIndex for MemPostings {
    fn all_postings(&self) -> Vec<u32> {
        (0..self.count).collect()
    }

    fn postings(&self, name: &str, value: &str) -> Vec<u32> {
        self.by_label.get(name).and_then(|values| values.get(value)).cloned().unwrap_or_default()
    }

    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        if let Some(values) = self.by_label.get(name) {
            values.keys().for_each(|v| f(v));
        }
    }

    fn for_each_name(&self, f: &mut dyn FnMut(&str)) {
        self.by_label.keys().for_each(|n| f(n));
    }
}

#[cfg(test)]
mod tests;
