//! Backfill: a simulated fleet's history written into the store the way
//! the live paths would have written it.
//!
//! The simulator runs on simulated time, as fast as it computes, and hands
//! each scrape page and each exchange to [`BackfillSink`]: pages go through
//! the scrape jobs' labelling, exchanges through the gateway's metrics and
//! the quality pipeline, and those metrics are stored as the self-scrape
//! would have read them. Its test also evaluates the rules on the same
//! simulated time, so alerts fire (and are sent) as they would have live.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use collectors::exposition::Format;
use collectors::scrape::{Replay, ScrapeJob};
use prometheus_client::registry::Registry;

use crate::serve::Stores;

/// Writes what the backfill produces as the live path would have: pages
/// through the scrape jobs' labelling, exchanges through the gateway's
/// metrics and the quality pipeline, and those metrics as the self-scrape
/// would have read them.
pub(crate) struct BackfillSink {
    db: Arc<tsdb::Db>,
    engines: BTreeMap<String, Replay>,
    gpus: BTreeMap<String, (Replay, i64)>,
    pipeline: pipeline::Pipeline,
    gateway: proxy::Metrics,
    /// Upstream (replica) name → its `host:port`, the `server_address` label.
    addresses: BTreeMap<String, String>,
    registry: Registry,
    self_scrape: Option<Replay>,
    last_self_scrape: i64,
    /// When the drift test last ran, in simulated time.
    last_drift: i64,
    drift_interval_ms: i64,
    /// Exchanges waiting to be scored, a scrape interval's worth at most.
    pending: Vec<inference::Exchange>,
    threads: usize,
}

impl BackfillSink {
    pub(crate) fn new(
        fleet: &sim::Fleet,
        jobs: &[ScrapeJob],
        listen: SocketAddr,
        stores: Stores,
        quality: pipeline::Config,
    ) -> BackfillSink {
        let job = |name: &str| jobs.iter().find(|j| j.job_name == name).cloned();
        let mut engines = BTreeMap::new();
        let mut gpus = BTreeMap::new();
        let mut addresses = BTreeMap::new();
        for replica in fleet.replicas() {
            addresses.insert(replica.name.clone(), replica.instance.clone());
            // The target labels of the demo's file_sd groups (demo.rs), so history and live series are the same series.
            let labels = BTreeMap::from([
                ("availability_zone".to_owned(), replica.zone.clone()),
                ("replica".to_owned(), replica.name.clone()),
            ]);
            if let Some(job) = job(replica.engine.as_str()) {
                engines.insert(replica.name.clone(), Replay::new(job, &replica.instance, &labels));
            }
            if let Some(job) = job("dcgm") {
                gpus.entry(replica.dcgm_instance.clone())
                    .or_insert_with(|| (Replay::new(job, &replica.dcgm_instance, &labels), i64::MIN));
            }
        }
        let drift_interval_ms = i64::try_from(quality.drift.interval.as_millis()).unwrap_or(i64::MAX);
        let mut registry = Registry::default();
        let pipeline = pipeline::Pipeline::new(quality, stores.records, pipeline::Metrics::new(&mut registry));
        let gateway = proxy::Metrics::new(&mut registry);
        let self_scrape = job("infersight").map(|job| Replay::new(job, &listen.to_string(), &BTreeMap::new()));
        BackfillSink {
            db: stores.db,
            engines,
            gpus,
            pipeline,
            gateway,
            addresses,
            registry,
            self_scrape,
            last_self_scrape: i64::MIN,
            last_drift: i64::MIN,
            drift_interval_ms,
            pending: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// Scores and keeps the pending exchanges, on every core.
    fn flush_exchanges(&mut self) {
        self.pipeline.process_all(&self.pending, self.threads);
        self.pending.clear();
    }

    /// The gateway's and the pipeline's metrics as a self-scrape at `t_ms` reads them.
    fn scrape_self(&mut self, t_ms: i64) {
        self.flush_exchanges();
        if self.last_drift == i64::MIN {
            self.last_drift = t_ms;
        } else if t_ms - self.last_drift >= self.drift_interval_ms {
            self.pipeline.run_drift(t_ms);
            self.last_drift = t_ms;
        }
        let Some(replay) = &mut self.self_scrape else { return };
        let mut page = String::new();
        if prometheus_client::encoding::text::encode(&mut page, &self.registry).is_ok() {
            let _ = replay.page(&*self.db, Some(&page), Format::Text, t_ms);
        }
        self.last_self_scrape = t_ms;
    }

    /// Marks the backfilled self-metrics stale: the live server's own
    /// counters start again from zero.
    pub(crate) fn finish(&mut self) {
        self.flush_exchanges();
        if let Some(replay) = &mut self.self_scrape {
            let _ = replay.page(&*self.db, None, Format::Text, self.last_self_scrape + 1);
        }
    }
}

impl sim::Sink for BackfillSink {
    fn scrape(&mut self, scrape: sim::Scrape<'_>) {
        let t = scrape.t_ms;
        if let Some(replay) = self.engines.get_mut(&scrape.replica.name) {
            let _ = replay.page(&*self.db, scrape.engine_page, Format::Text, t);
        }
        if let Some((replay, last)) = self.gpus.get_mut(&scrape.replica.dcgm_instance)
            && *last < t
        {
            let _ = replay.page(&*self.db, Some(scrape.dcgm_page), Format::Text, t);
            *last = t;
        }
        if self.last_self_scrape < t {
            self.scrape_self(t);
        }
    }

    fn exchange(&mut self, exchange: inference::Exchange) {
        let labels = proxy::ExchangeLabels {
            request_model: &exchange.request_model,
            response_model: exchange.response_model.as_deref().unwrap_or_default(),
            server_address: self.addresses.get(&exchange.upstream).map_or("", String::as_str),
            client: "",
        };
        let chunks = exchange.timings.ttft.map_or(0, |_| u64::from(exchange.timings.gaps.count) + 1);
        self.gateway.observe(&exchange, &labels, chunks);
        self.pending.push(exchange);
    }
}

#[cfg(test)]
mod tests;
