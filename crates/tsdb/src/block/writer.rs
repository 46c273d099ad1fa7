//! Writing blocks from series: the one path for both head flushes and
//! compactions. Samples are decoded, merged (later writes win), split by
//! time window and re-encoded as packed chunks of up to [`BLOCK_CHUNK_SAMPLES`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use series::chunk::packed;
use series::{ChunkEncoding, Labels, Sample, Series};

use super::chunks::ChunkWriter;
use super::index::{ChunkMeta, IndexWriter};
use super::{BlockMeta, BlockStats, Compaction, dir_name};
use crate::wal::sync_dir;
use crate::{Error, Result};

/// Samples per chunk in a block: a 2 h window of 15 s scrapes fits in one.
pub(crate) const BLOCK_CHUNK_SAMPLES: usize = 480;

/// How the written samples are split into blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Partition {
    /// One block per aligned window of this many milliseconds.
    Windows(i64),
    /// Everything into one block.
    Single,
}

/// What the new blocks record about their origin.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub level: u32,
    pub sources: Vec<u64>,
}

struct Pending {
    tmp_dir: PathBuf,
    seq: u64,
    chunks: ChunkWriter,
    index: IndexWriter,
    stats: BlockStats,
    min_t: i64,
    max_t: i64,
}

/// Writes `series` (sorted by labels; chunks in write order) into new blocks
/// under `parent`; returns their directories. `next_seq` numbers each block.
pub(crate) fn write_blocks(
    parent: &Path,
    series: &[Series],
    partition: Partition,
    mut next_seq: impl FnMut() -> u64,
    origin: &Origin,
) -> Result<Vec<PathBuf>> {
    let pairs: BTreeSet<(&str, &str)> =
        series.iter().flat_map(|s| s.labels.iter().map(|l| (l.name, l.value))).collect();
    let symbols: BTreeSet<&str> = pairs.iter().flat_map(|&(n, v)| [n, v]).collect();
    let (pairs, symbols): (Vec<(&str, &str)>, Vec<&str>) = (pairs.into_iter().collect(), symbols.into_iter().collect());
    let series_min_t = series.iter().flat_map(|s| s.chunks.iter().map(|c| c.min_t)).min().unwrap_or(0);
    let mut pending: BTreeMap<i64, Pending> = BTreeMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    for s in series {
        samples.clear();
        samples.extend(s.samples(i64::MIN, i64::MAX));
        let mut rest = &samples[..];
        while let Some(first) = rest.first() {
            let (window, len) = match partition {
                Partition::Windows(range) => {
                    let window = first.t.div_euclid(range);
                    (window, rest.partition_point(|x| x.t.div_euclid(range) == window))
                }
                Partition::Single => (0, rest.len()),
            };
            let block = match pending.get_mut(&window) {
                Some(block) => block,
                None => {
                    let seq = next_seq();
                    let base_t = match partition {
                        Partition::Windows(range) => window.saturating_mul(range),
                        Partition::Single => series_min_t,
                    };
                    pending.entry(window).or_insert(Pending::create(parent, seq, &symbols, &pairs, base_t)?)
                }
            };
            block.add_series(&s.labels, &rest[..len])?;
            rest = &rest[len..];
        }
    }
    let mut dirs = Vec::with_capacity(pending.len());
    for block in pending.into_values() {
        dirs.push(block.finish(parent, origin)?);
    }
    if !dirs.is_empty() {
        sync_dir(parent)?;
    }
    Ok(dirs)
}

impl Pending {
    fn create(parent: &Path, seq: u64, symbols: &[&str], pairs: &[(&str, &str)], base_t: i64) -> Result<Pending> {
        let tmp_dir = parent.join(format!("{}.tmp", dir_name(seq)));
        if tmp_dir.exists() {
            fs::remove_dir_all(&tmp_dir).map_err(|e| Error::io("remove", &tmp_dir, e))?;
        }
        fs::create_dir_all(&tmp_dir).map_err(|e| Error::io("create", &tmp_dir, e))?;
        Ok(Pending {
            chunks: ChunkWriter::create(&tmp_dir.join("chunks"))?,
            index: IndexWriter::new(&tmp_dir.join("index"), symbols, pairs, base_t),
            tmp_dir,
            seq,
            stats: BlockStats::default(),
            min_t: i64::MAX,
            max_t: i64::MIN,
        })
    }

    fn add_series(&mut self, labels: &Labels, samples: &[Sample]) -> Result<()> {
        let mut metas = Vec::with_capacity(samples.len().div_ceil(BLOCK_CHUNK_SAMPLES));
        for part in samples.chunks(BLOCK_CHUNK_SAMPLES) {
            let data = packed::encode(part);
            let offset = self
                .chunks
                .write(ChunkEncoding::Packed, &data)
                .map_err(|e| Error::io("write", self.tmp_dir.join("chunks"), e))?;
            let (min_t, max_t) = (part[0].t, part[part.len() - 1].t);
            metas.push(ChunkMeta { min_t, max_t, offset });
            self.min_t = self.min_t.min(min_t);
            self.max_t = self.max_t.max(max_t);
        }
        self.index.add_series(labels, &metas)?;
        self.stats.num_series += 1;
        self.stats.num_samples += samples.len() as u64;
        self.stats.num_chunks += metas.len() as u64;
        Ok(())
    }

    fn finish(self, parent: &Path, origin: &Origin) -> Result<PathBuf> {
        self.chunks.finish().map_err(|e| Error::io("write", self.tmp_dir.join("chunks"), e))?;
        self.index.finish()?;
        let meta = BlockMeta {
            version: 1,
            seq: self.seq,
            min_t: self.min_t,
            max_t: self.max_t,
            stats: self.stats,
            compaction: Compaction {
                level: origin.level,
                sources: if origin.sources.is_empty() { vec![self.seq] } else { origin.sources.clone() },
            },
        };
        let meta_path = self.tmp_dir.join("meta.json");
        let json = serde_json::to_vec_pretty(&meta).expect("block meta serializes");
        fs::write(&meta_path, json).map_err(|e| Error::io("write", &meta_path, e))?;
        fs::File::open(&meta_path).and_then(|f| f.sync_all()).map_err(|e| Error::io("sync", &meta_path, e))?;
        sync_dir(&self.tmp_dir)?;
        let final_dir = parent.join(dir_name(self.seq));
        fs::rename(&self.tmp_dir, &final_dir).map_err(|e| Error::io("rename", &self.tmp_dir, e))?;
        Ok(final_dir)
    }
}
