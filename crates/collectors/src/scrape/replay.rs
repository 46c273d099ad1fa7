//! Replaying pages a scrape would have fetched: history written at the times it happened.
//!
//! A simulator backfilling hours of a fleet, or an import of saved pages,
//! hands each page in with its time; the page goes through exactly what a
//! live scrape does (parsing, the job's and the preset's labels and
//! relabelling, limits, stale markers, the `up` and report series), so the
//! history is indistinguishable from what a scrape would have stored.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use series::Appendable;

use super::target::{SeriesCache, Target, store, store_failure};
use crate::exposition::Format;
use crate::scrape::{ScrapeError, ScrapeJob, ScrapeMetrics};

/// One target of `job` fed with pages instead of fetching them.
#[derive(Debug)]
pub struct Replay {
    target: Target,
    cache: SeriesCache,
    metrics: ScrapeMetrics,
}

impl Replay {
    /// A target of `job` at `address` (`host:port`, its `instance`), with
    /// the labels its discovery would give it (as a file_sd group's).
    pub fn new(job: ScrapeJob, address: &str, labels: &BTreeMap<String, String>) -> Replay {
        let target = Target::new(Arc::new(job), address, labels);
        // Replayed pages are not live scrapes: their counters go nowhere.
        let metrics = ScrapeMetrics::new(&mut Registry::default());
        Replay { target, cache: SeriesCache::default(), metrics }
    }

    /// Stores `page` as scraped at `t_ms`, or a failed scrape when it is
    /// `None` (`up` = 0 and stale markers for the previous page's series).
    ///
    /// # Errors
    ///
    /// Why the page was not stored (it does not parse, breaks a limit, or
    /// the store refused it); the failure was recorded as a live scrape's
    /// would be.
    pub fn page(
        &mut self,
        storage: &dyn Appendable,
        page: Option<&str>,
        format: Format,
        t_ms: i64,
    ) -> Result<(), ScrapeError> {
        let ingested = match page {
            Some(page) => self.cache.ingest(page, format, t_ms, &self.target),
            None => Err(ScrapeError::Replayed),
        };
        let result = ingested.and_then(|ingested| {
            store(&self.target, storage, &self.metrics, &mut self.cache, ingested, t_ms, Duration::ZERO)
        });
        if result.is_err() {
            store_failure(&self.target, storage, &self.metrics, &mut self.cache, t_ms, Duration::ZERO);
        }
        result
    }
}
