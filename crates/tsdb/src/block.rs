//! Blocks: immutable, persisted slices of the store covering a time range,
//! each a directory with `meta.json`, a `chunks` file and an `index`.
//!
//! Blocks are written to `<id>.tmp` and renamed into place once complete,
//! so a crash never leaves half a block. Blocks may overlap in time (after
//! backfill or a flush of a partly persisted window); readers then merge
//! them, and a block with a higher `seq` holds the newer writes.

pub(crate) mod chunks;
pub(crate) mod index;
pub(crate) mod writer;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use series::{Matcher, SelectHints, Series};

use self::chunks::ChunkReader;
use self::index::IndexReader;
pub(crate) use self::writer::write_blocks;
use crate::postings::{self, PostingsIndex};
use crate::{Error, Result};

/// What `meta.json` says about a block.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockMeta {
    /// Format version of the block's files.
    pub version: u32,
    /// Write order of blocks: higher means newer writes.
    pub seq: u64,
    /// Timestamp of the earliest sample (inclusive).
    pub min_t: i64,
    /// Timestamp of the latest sample (inclusive).
    pub max_t: i64,
    pub stats: BlockStats,
    pub compaction: Compaction,
}

/// Counts recorded when the block was written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockStats {
    pub num_series: u64,
    pub num_samples: u64,
    pub num_chunks: u64,
}

/// How the block came to be.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Compaction {
    /// 1 for a block written from the head, one more than its sources' highest otherwise.
    pub level: u32,
    /// `seq` of the level-1 blocks whose data this block holds.
    pub sources: Vec<u64>,
}

/// An open block.
#[derive(Debug)]
pub(crate) struct Block {
    pub dir: PathBuf,
    pub meta: BlockMeta,
    pub size: u64,
    index: IndexReader,
    chunks: ChunkReader,
}

impl Block {
    /// Opens the block in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Block> {
        let meta_path = dir.join("meta.json");
        let meta_bytes = fs::read(&meta_path).map_err(|e| Error::io("read", &meta_path, e))?;
        let meta: BlockMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| Error::CorruptBlock { path: dir.to_owned(), reason: format!("meta.json: {e}") })?;
        let index_bytes = map(&dir.join("index"))?;
        let chunk_bytes = map(&dir.join("chunks"))?;
        let size = (meta_bytes.len() + index_bytes.len() + chunk_bytes.len()) as u64;
        let index = IndexReader::new(index_bytes, dir)?;
        let chunks = ChunkReader::new(chunk_bytes, dir)?;
        Ok(Block { dir: dir.to_owned(), meta, size, index, chunks })
    }

    /// The block's series matching `matchers` with samples in the hinted range.
    pub(crate) fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<Vec<Series>> {
        if self.meta.max_t < hints.mint || self.meta.min_t > hints.maxt {
            return Ok(Vec::new());
        }
        let ids = postings::for_matchers(&self.index, matchers);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (labels, metas) = self.index.series(id).ok_or_else(|| self.corrupt("unreadable series"))?;
            let mut chunks = Vec::new();
            let mut any = false;
            for meta in metas.iter().filter(|m| m.min_t <= hints.maxt && m.max_t >= hints.mint) {
                any = true;
                if hints.labels_only {
                    break;
                }
                let chunk = self
                    .chunks
                    .chunk(meta.offset, meta.min_t, meta.max_t, false)
                    .ok_or_else(|| self.corrupt("chunk reference out of bounds"))?;
                chunks.push(chunk);
            }
            if any {
                out.push(Series { labels, chunks });
            }
        }
        Ok(out)
    }

    /// Every series with all its chunks, verified against their checksums
    /// (for compaction).
    pub(crate) fn all_series(&self) -> Result<Vec<Series>> {
        let mut out = Vec::with_capacity(self.index.num_series() as usize);
        for id in 0..self.index.num_series() {
            let (labels, metas) = self.index.series(id).ok_or_else(|| self.corrupt("unreadable series"))?;
            let mut chunks = Vec::with_capacity(metas.len());
            for meta in metas {
                chunks.push(
                    self.chunks
                        .chunk(meta.offset, meta.min_t, meta.max_t, true)
                        .ok_or_else(|| self.corrupt("chunk checksum mismatch"))?,
                );
            }
            out.push(Series { labels, chunks });
        }
        Ok(out)
    }

    /// Label names, or the values of label `name`, over the whole block
    /// (when no matcher narrows the question).
    pub(crate) fn label_names_or_values(&self, name: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        match name {
            None => self.index.for_each_name(&mut |n| out.push(n.to_owned())),
            Some(name) => self.index.for_each_value(name, &mut |v| out.push(v.to_owned())),
        }
        out
    }

    fn corrupt(&self, reason: &str) -> Error {
        Error::CorruptBlock { path: self.dir.clone(), reason: reason.to_owned() }
    }
}

/// Maps a file into memory.
fn map(path: &Path) -> Result<Bytes> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    if file.metadata().map_err(|e| Error::io("stat", path, e))?.len() == 0 {
        return Ok(Bytes::new());
    }
    // SAFETY: block files are immutable once renamed into place and are only
    // removed (never truncated or rewritten) while mapped, which keeps the
    // mapping valid on the platforms we support.
    #[allow(unsafe_code)]
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io("map", path, e))?;
    Ok(Bytes::from_owner(mmap))
}

/// The directory name of block `seq`.
pub(crate) fn dir_name(seq: u64) -> String {
    format!("b-{seq:012}")
}

/// Whether a directory entry is a block (as named by [`dir_name`]).
pub(crate) fn parse_dir_name(name: &str) -> Option<u64> {
    name.strip_prefix("b-").filter(|s| s.len() == 12).and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests;
