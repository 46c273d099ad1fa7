//! The store's self-metrics.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters and gauges of the store, registered under `infersight_tsdb_*`.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    pub(crate) samples_appended: Counter,
    pub(crate) samples_duplicate: Counter,
    pub(crate) commit_failures: Counter,
    pub(crate) wal_bytes: Counter,
    pub(crate) wal_fsyncs: Counter,
    pub(crate) wal_truncated_bytes: Counter,
    pub(crate) head_series: Gauge,
    pub(crate) head_samples: Gauge,
    pub(crate) head_chunks: Gauge,
    pub(crate) head_chunk_bytes: Gauge,
    pub(crate) flushes: Counter,
    pub(crate) compactions: Family<[(&'static str, &'static str); 1], Counter>,
    pub(crate) blocks: Gauge,
    pub(crate) blocks_bytes: Gauge,
    pub(crate) block_samples: Gauge,
    pub(crate) wal_bytes_on_disk: Gauge,
    pub(crate) retention_deletions: Family<[(&'static str, &'static str); 1], Counter>,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics::default();
        let r = registry.sub_registry_with_prefix("infersight_tsdb");
        r.register("samples_appended", "Samples committed to the store", m.samples_appended.clone());
        r.register(
            "samples_duplicate",
            "Samples re-sent with a timestamp and value already stored (accepted, not stored again)",
            m.samples_duplicate.clone(),
        );
        r.register(
            "commit_failures",
            "Batches refused because the WAL could not be written",
            m.commit_failures.clone(),
        );
        r.register("wal_written_bytes", "Bytes written to the write-ahead log", m.wal_bytes.clone());
        r.register("wal_fsyncs", "fsync calls on the write-ahead log", m.wal_fsyncs.clone());
        r.register(
            "wal_truncated_bytes",
            "Bytes of torn or corrupt WAL tail cut off at start-up",
            m.wal_truncated_bytes.clone(),
        );
        r.register("head_series", "Series in the in-memory head", m.head_series.clone());
        r.register("head_samples", "Samples in the in-memory head", m.head_samples.clone());
        r.register("head_chunks", "Chunks in the in-memory head", m.head_chunks.clone());
        r.register("head_chunk_bytes", "Bytes of compressed chunk data in the head", m.head_chunk_bytes.clone());
        r.register("head_flushes", "Flushes of the head into blocks", m.flushes.clone());
        r.register("compactions", "Block compactions, by kind (overlap, level)", m.compactions.clone());
        r.register("blocks", "Persisted blocks", m.blocks.clone());
        r.register("blocks_bytes", "Bytes of persisted blocks", m.blocks_bytes.clone());
        r.register("block_samples", "Samples in persisted blocks", m.block_samples.clone());
        r.register("wal_bytes", "Bytes of write-ahead log on disk", m.wal_bytes_on_disk.clone());
        r.register(
            "retention_deleted_blocks",
            "Blocks deleted by retention, by reason (time, size)",
            m.retention_deletions.clone(),
        );
        m
    }
}
