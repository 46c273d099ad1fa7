//! The store as a whole: opening a data directory, flushing the head into
//! blocks, compaction, retention, and the gauges that describe it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use series::Series;
use tracing::{debug, info, warn};

use crate::block::writer::{Origin, Partition};
use crate::block::{self, Block, write_blocks};
use crate::compact;
use crate::head::{Appended, Head};
use crate::lock::DirLock;
use crate::wal::{Record, Wal};
use crate::{Error, Metrics, Result};

/// How the store keeps and lays out data.
#[derive(Debug, Clone)]
pub struct Options {
    /// Blocks whose newest sample is older than this (by the wall clock) are deleted.
    pub retention: Duration,
    /// When blocks and WAL together exceed this many bytes, the oldest blocks are deleted.
    pub retention_size: Option<u64>,
    /// The time window of a block written from the head.
    pub block_range: Duration,
    /// Flush the head once it holds this many samples, whatever their span.
    pub max_head_samples: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            retention: Duration::from_secs(15 * 24 * 3600),
            retention_size: None,
            block_range: Duration::from_secs(2 * 3600),
            max_head_samples: 200_000_000,
        }
    }
}

/// A summary of what the store holds, for status pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Series in the head.
    pub head_series: u64,
    /// Samples in the head.
    pub head_samples: u64,
    /// Oldest and newest head timestamp.
    pub head_time_range: Option<(i64, i64)>,
    /// Chunks in the head.
    pub head_chunks: u64,
    /// Persisted blocks.
    pub blocks: u64,
    /// Samples in persisted blocks.
    pub block_samples: u64,
    /// Bytes of persisted blocks.
    pub blocks_bytes: u64,
    /// Bytes of write-ahead log.
    pub wal_bytes: u64,
}

/// A head being written into blocks, still visible to queries.
#[derive(Debug, Clone)]
pub(crate) struct Frozen {
    pub head: Arc<Head>,
    /// The first WAL segment that holds nothing of this head.
    pub wal_segment: u32,
}

#[derive(Debug)]
pub(crate) struct State {
    pub head: Arc<Head>,
    pub frozen: Vec<Frozen>,
    /// Sorted by `seq`, oldest writes first.
    pub blocks: Vec<Arc<Block>>,
}

/// An open store.
#[derive(Debug)]
pub struct Db {
    pub(crate) dir: PathBuf,
    pub(crate) options: Options,
    _lock: DirLock,
    pub(crate) wal: Mutex<Wal>,
    pub(crate) state: RwLock<State>,
    pub(crate) next_ref: AtomicU64,
    next_seq: AtomicU64,
    maintenance: Mutex<()>,
    pub(crate) metrics: Metrics,
}

impl Db {
    /// Opens (or creates) the store in `dir`: takes the directory lock,
    /// opens the blocks and replays the write-ahead log into the head.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`] if another process has the directory open; I/O and
    /// corruption errors of blocks. A torn WAL tail is repaired, not an error.
    pub fn open(dir: &Path, options: Options, metrics: Metrics) -> Result<Db> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let lock = DirLock::acquire(dir)?;
        let blocks = open_blocks(dir)?;
        let next_seq = blocks.iter().map(|b| b.meta.seq + 1).max().unwrap_or(1);
        let block_range = range_ms(options.block_range);
        let head = Head::new(block_range);
        let started = Instant::now();
        let mut by_ref: HashMap<u64, Arc<crate::head::MemSeries>> = HashMap::new();
        let mut max_ref = 0u64;
        let mut unknown_refs = 0u64;
        let (wal, replay) = Wal::open(&dir.join("wal"), |record| match record {
            Record::Series { series_ref, labels } => {
                max_ref = max_ref.max(series_ref);
                let hash = hash_labels(labels);
                let series = head.get_or_create(hash, labels, || series_ref);
                series.logged.store(true, Ordering::Relaxed);
                by_ref.insert(series_ref, series);
            }
            Record::Samples(samples) => {
                let (mut n, mut min_t, mut max_t) = (0, i64::MAX, i64::MIN);
                for (series_ref, t, v) in samples {
                    match by_ref.get(&series_ref) {
                        Some(series) => {
                            if head.append(series, t, v) == Appended::New {
                                n += 1;
                                min_t = min_t.min(t);
                                max_t = max_t.max(t);
                            }
                        }
                        None => unknown_refs += 1,
                    }
                }
                head.record_appends(n, min_t, max_t);
            }
        })?;
        if unknown_refs > 0 {
            warn!(samples = unknown_refs, "WAL samples for unknown series skipped");
        }
        metrics.wal_truncated_bytes.inc_by(replay.truncated_bytes);
        info!(
            dir = %dir.display(),
            blocks = blocks.len(),
            wal_segments = replay.segments,
            wal_records = replay.records,
            head_series = head.num_series(),
            head_samples = head.num_samples(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Store opened"
        );
        let db = Db {
            dir: dir.to_owned(),
            options,
            _lock: lock,
            wal: Mutex::new(wal),
            state: RwLock::new(State { head: Arc::new(head), frozen: Vec::new(), blocks }),
            next_ref: AtomicU64::new(max_ref + 1),
            next_seq: AtomicU64::new(next_seq),
            maintenance: Mutex::new(()),
            metrics,
        };
        db.update_gauges();
        Ok(db)
    }

    /// Writes everything in the head into blocks, truncates the WAL and
    /// merges blocks that share a compaction window (a force merge); returns
    /// when the data is on disk. Appends go on meanwhile, into a fresh head.
    ///
    /// # Errors
    ///
    /// I/O errors writing blocks; the data then stays in the WAL and in a
    /// frozen head that the next flush retries.
    pub fn flush(&self) -> Result<()> {
        let _maintenance = self.maintenance.lock();
        self.swap_head()?;
        self.persist_frozen()?;
        self.compact(true)?;
        self.update_gauges();
        Ok(())
    }

    /// Periodic upkeep: flushes the head once it spans 1.5 block ranges (or
    /// holds too many samples), compacts, applies retention and refreshes
    /// the gauges. `now_ms` is the wall clock, for time-based retention.
    ///
    /// # Errors
    ///
    /// I/O errors of the flush, compaction or deletion.
    pub fn maintain(&self, now_ms: i64) -> Result<()> {
        let _maintenance = self.maintenance.lock();
        let head = Arc::clone(&self.state.read().head);
        let span = head.time_range().map_or(0, |(min, max)| max.saturating_sub(min));
        if span > range_ms(self.options.block_range) * 3 / 2 || head.num_samples() > self.options.max_head_samples {
            self.swap_head()?;
        }
        self.persist_frozen()?;
        self.compact(false)?;
        self.apply_retention(now_ms)?;
        self.update_gauges();
        Ok(())
    }

    /// Syncs the WAL to disk.
    ///
    /// # Errors
    ///
    /// When `fsync` fails.
    pub fn sync_wal(&self) -> Result<()> {
        self.wal.lock().sync()?;
        self.metrics.wal_fsyncs.inc();
        Ok(())
    }

    /// What the store holds now.
    pub fn stats(&self) -> Stats {
        let state = self.state.read();
        let heads = std::iter::once(&state.head).chain(state.frozen.iter().map(|f| &f.head));
        let mut stats = Stats::default();
        for head in heads {
            stats.head_series += head.num_series() as u64;
            stats.head_samples += head.num_samples();
            stats.head_chunks += head.chunk_stats().0 as u64;
            stats.head_time_range = match (stats.head_time_range, head.time_range()) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (a, b) => a.or(b),
            };
        }
        stats.blocks = state.blocks.len() as u64;
        stats.block_samples = state.blocks.iter().map(|b| b.meta.stats.num_samples).sum();
        stats.blocks_bytes = state.blocks.iter().map(|b| b.size).sum();
        drop(state);
        stats.wal_bytes = self.wal.lock().size();
        stats
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Syncs the WAL and releases the directory.
    ///
    /// # Errors
    ///
    /// When the final `fsync` fails.
    pub fn close(self) -> Result<()> {
        self.sync_wal()
    }

    /// Replaces the head with an empty one and starts a new WAL segment.
    fn swap_head(&self) -> Result<()> {
        let mut state = self.state.write();
        if state.head.num_series() == 0 {
            return Ok(());
        }
        let wal_segment = self.wal.lock().rotate()?;
        let fresh = Arc::new(Head::new(range_ms(self.options.block_range)));
        let old = std::mem::replace(&mut state.head, fresh);
        state.frozen.push(Frozen { head: old, wal_segment });
        self.metrics.flushes.inc();
        Ok(())
    }

    /// Writes frozen heads into blocks, oldest first, and drops their WAL.
    fn persist_frozen(&self) -> Result<()> {
        loop {
            let Some(frozen) = self.state.read().frozen.first().cloned() else { return Ok(()) };
            let started = Instant::now();
            let mut series: Vec<Series> = frozen
                .head
                .select(&series::SelectHints::range(i64::MIN, i64::MAX), &[])
                .into_iter()
                .filter(|s| !s.chunks.is_empty())
                .collect();
            series.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
            let range = range_ms(self.options.block_range);
            let origin = Origin { level: 1, sources: Vec::new() };
            let dirs = write_blocks(&self.dir, &series, Partition::Windows(range), || self.allocate_seq(), &origin)?;
            let blocks = dirs.iter().map(|d| Block::open(d).map(Arc::new)).collect::<Result<Vec<_>>>()?;
            {
                let mut state = self.state.write();
                state.blocks.extend(blocks);
                state.blocks.sort_by_key(|b| b.meta.seq);
                state.frozen.remove(0);
            }
            self.wal.lock().remove_before(frozen.wal_segment)?;
            info!(
                series = series.len(),
                samples = frozen.head.num_samples(),
                blocks = dirs.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Head flushed to blocks"
            );
        }
    }

    /// Runs compactions until the plan is empty.
    fn compact(&self, force: bool) -> Result<()> {
        let range = range_ms(self.options.block_range);
        let ranges = compact::ranges(range, range_ms(self.options.retention));
        loop {
            let (plan, newest) = {
                let state = self.state.read();
                let infos: Vec<compact::BlockInfo> =
                    state.blocks.iter().map(|b| compact::BlockInfo::of(&b.meta)).collect();
                let newest = infos.iter().map(|b| b.max_t).chain(state.head.time_range().map(|r| r.1)).max();
                (compact::plan(&infos, &ranges, newest.unwrap_or(i64::MIN), force), newest)
            };
            let Some(plan) = plan else { return Ok(()) };
            debug!(?plan, ?newest, "Compaction planned");
            self.run_compaction(&plan)?;
        }
    }

    fn run_compaction(&self, plan: &compact::Plan) -> Result<()> {
        let started = Instant::now();
        let sources: Vec<Arc<Block>> = {
            let state = self.state.read();
            state.blocks.iter().filter(|b| plan.seqs.contains(&b.meta.seq)).cloned().collect()
        };
        let mut series: Vec<Series> = Vec::new();
        for block in &sources {
            series.extend(block.all_series()?);
        }
        // Stable: for one series, chunks stay in block order (older writes first).
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        let series = coalesce(series);
        let origin = Origin {
            level: sources.iter().map(|b| b.meta.compaction.level).max().unwrap_or(1) + 1,
            sources: sources.iter().flat_map(|b| b.meta.compaction.sources.iter().copied()).collect(),
        };
        let dirs = write_blocks(&self.dir, &series, Partition::Single, || self.allocate_seq(), &origin)?;
        let new_blocks = dirs.iter().map(|d| Block::open(d).map(Arc::new)).collect::<Result<Vec<_>>>()?;
        {
            let mut state = self.state.write();
            state.blocks.retain(|b| !plan.seqs.contains(&b.meta.seq));
            state.blocks.extend(new_blocks);
            state.blocks.sort_by_key(|b| b.meta.seq);
        }
        for block in &sources {
            delete_block_dir(&block.dir)?;
        }
        self.metrics.compactions.get_or_create(&[("kind", plan.kind)]).inc();
        info!(
            kind = plan.kind,
            sources = sources.len(),
            series = series.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Blocks compacted"
        );
        Ok(())
    }

    fn apply_retention(&self, now_ms: i64) -> Result<()> {
        let cutoff = now_ms.saturating_sub(range_ms(self.options.retention));
        let mut doomed: Vec<(Arc<Block>, &'static str)> = {
            let state = self.state.read();
            state.blocks.iter().filter(|b| b.meta.max_t < cutoff).map(|b| (Arc::clone(b), "time")).collect()
        };
        if let Some(max_bytes) = self.options.retention_size {
            let state = self.state.read();
            let mut total: u64 = state.blocks.iter().map(|b| b.size).sum::<u64>() + self.wal.lock().size();
            total -= doomed.iter().map(|(b, _)| b.size).sum::<u64>();
            let mut by_age: Vec<&Arc<Block>> =
                state.blocks.iter().filter(|b| !doomed.iter().any(|(d, _)| Arc::ptr_eq(d, b))).collect();
            by_age.sort_by_key(|b| b.meta.max_t);
            for block in by_age {
                if total <= max_bytes {
                    break;
                }
                total -= block.size;
                doomed.push((Arc::clone(block), "size"));
            }
        }
        if doomed.is_empty() {
            return Ok(());
        }
        {
            let mut state = self.state.write();
            state.blocks.retain(|b| !doomed.iter().any(|(d, _)| Arc::ptr_eq(d, b)));
        }
        for (block, reason) in doomed {
            delete_block_dir(&block.dir)?;
            self.metrics.retention_deletions.get_or_create(&[("reason", reason)]).inc();
            info!(block = %block.dir.display(), reason, max_t = block.meta.max_t, "Block deleted by retention");
        }
        Ok(())
    }

    fn allocate_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    fn update_gauges(&self) {
        let stats = self.stats();
        let state = self.state.read();
        let (chunks, chunk_bytes) = state.head.chunk_stats();
        drop(state);
        let m = &self.metrics;
        m.head_series.set(stats.head_series as i64);
        m.head_samples.set(stats.head_samples as i64);
        m.head_chunks.set(chunks as i64);
        m.head_chunk_bytes.set(chunk_bytes as i64);
        m.blocks.set(stats.blocks as i64);
        m.blocks_bytes.set(stats.blocks_bytes as i64);
        m.block_samples.set(stats.block_samples as i64);
        m.wal_bytes_on_disk.set(stats.wal_bytes as i64);
    }
}

/// Joins adjacent entries with equal labels, keeping chunk order.
pub(crate) fn coalesce(sorted: Vec<Series>) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::with_capacity(sorted.len());
    for s in sorted {
        match out.last_mut() {
            Some(last) if last.labels == s.labels => last.chunks.extend(s.chunks),
            _ => out.push(s),
        }
    }
    out
}

fn open_blocks(dir: &Path) -> Result<Vec<Arc<Block>>> {
    let mut blocks = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") || name.ends_with(".deleted") {
            warn!(dir = %path.display(), "Removing leftover of an interrupted block write");
            fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
        } else if block::parse_dir_name(&name).is_some() {
            blocks.push(Arc::new(Block::open(&path)?));
        }
    }
    blocks.sort_by_key(|b| b.meta.seq);
    Ok(blocks)
}

fn delete_block_dir(dir: &Path) -> Result<()> {
    let doomed = dir.with_extension("deleted");
    fs::rename(dir, &doomed).map_err(|e| Error::io("rename", dir, e))?;
    fs::remove_dir_all(&doomed).map_err(|e| Error::io("remove", &doomed, e))
}

pub(crate) fn range_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Label bytes hashed the way the head hashes them.
pub(crate) fn hash_labels(labels: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(labels)
}

#[cfg(test)]
mod tests;
