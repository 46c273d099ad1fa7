//! The index file of a block: symbol table, label pairs, series with their
//! chunk references, and postings per label pair. Layout in
//! `docs/format/index.md`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use series::{LabelRef, Labels};

use crate::postings::PostingsIndex;
use crate::{Error, Result};
use series::varint::{put_uvarint, put_varint, uvarint, varint};

/// Magic number at the start of an index file.
pub(crate) const MAGIC: [u8; 4] = *b"ISIX";
pub(crate) const VERSION: u8 = 1;
const HEADER_LEN: usize = 5;
/// Sections, in file order.
const SECTIONS: usize = 6;
/// Table of contents: section offsets, series count, base time, section CRCs, its own CRC.
const TOC_LEN: usize = SECTIONS * 8 + 8 + 8 + SECTIONS * 4 + 4;

/// Where a series' chunk lives and what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkMeta {
    pub min_t: i64,
    pub max_t: i64,
    pub offset: u64,
}

/// Writes an index. Series must be added in label order.
pub(crate) struct IndexWriter {
    path: PathBuf,
    buf: Vec<u8>,
    pair_ids: HashMap<(String, String), u32>,
    base_t: i64,
    series_offsets: Vec<u32>,
    postings: Vec<Vec<u32>>,
    offsets: Vec<u64>,
}

impl IndexWriter {
    /// Starts an index over `symbols` (sorted, unique) and label `pairs`
    /// (sorted by name then value, unique, every string a symbol). Chunk
    /// times are stored relative to `base_t`.
    pub(crate) fn new(path: &Path, symbols: &[&str], pairs: &[(&str, &str)], base_t: i64) -> IndexWriter {
        let mut buf = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(&MAGIC);
        buf.push(VERSION);
        let mut offsets = vec![buf.len() as u64];
        put_uvarint(&mut buf, symbols.len() as u64);
        for s in symbols {
            put_uvarint(&mut buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
        }
        let symbol_ids: HashMap<&str, u32> = symbols.iter().enumerate().map(|(i, s)| (*s, i as u32)).collect();
        offsets.push(buf.len() as u64);
        put_uvarint(&mut buf, pairs.len() as u64);
        for (name, value) in pairs {
            put_uvarint(&mut buf, u64::from(symbol_ids[name]));
            put_uvarint(&mut buf, u64::from(symbol_ids[value]));
        }
        offsets.push(buf.len() as u64);
        IndexWriter {
            path: path.to_owned(),
            buf,
            pair_ids: pairs
                .iter()
                .enumerate()
                .map(|(i, (n, v))| (((*n).to_owned(), (*v).to_owned()), i as u32))
                .collect(),
            base_t,
            series_offsets: Vec::new(),
            postings: vec![Vec::new(); pairs.len()],
            offsets,
        }
    }

    /// Adds the next series (in label order) and its chunks (in time order).
    pub(crate) fn add_series(&mut self, labels: &Labels, chunks: &[ChunkMeta]) -> Result<()> {
        let number = self.series_offsets.len() as u32;
        let offset = u32::try_from(self.buf.len())
            .map_err(|_| Error::io("write", &self.path, std::io::Error::other("index larger than 4 GiB")))?;
        self.series_offsets.push(offset);
        put_uvarint(&mut self.buf, labels.len() as u64);
        for label in labels {
            let id = self.pair_ids[&(label.name.to_owned(), label.value.to_owned())];
            put_uvarint(&mut self.buf, u64::from(id));
            self.postings[id as usize].push(number);
        }
        put_uvarint(&mut self.buf, chunks.len() as u64);
        let (mut prev_max, mut prev_offset) = (self.base_t, 0u64);
        for c in chunks {
            put_varint(&mut self.buf, c.min_t.wrapping_sub(prev_max));
            put_uvarint(&mut self.buf, c.offset - prev_offset);
            put_uvarint(&mut self.buf, (c.max_t.wrapping_sub(c.min_t)) as u64);
            prev_max = c.max_t;
            prev_offset = c.offset;
        }
        Ok(())
    }

    /// Writes the remaining sections and the table of contents; returns the file size.
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.offsets.push(self.buf.len() as u64);
        for offset in &self.series_offsets {
            self.buf.extend_from_slice(&offset.to_le_bytes());
        }
        self.offsets.push(self.buf.len() as u64);
        let mut list_offsets = Vec::with_capacity(self.postings.len());
        for list in &self.postings {
            list_offsets.push(self.buf.len() as u64);
            put_uvarint(&mut self.buf, list.len() as u64);
            let mut prev = 0u32;
            for &id in list {
                put_uvarint(&mut self.buf, u64::from(id - prev));
                prev = id;
            }
        }
        self.offsets.push(self.buf.len() as u64);
        let mut prev = 0u64;
        for offset in list_offsets {
            put_uvarint(&mut self.buf, offset - prev);
            prev = offset;
        }
        let toc_start = self.buf.len();
        for offset in &self.offsets {
            self.buf.extend_from_slice(&offset.to_le_bytes());
        }
        self.buf.extend_from_slice(&(self.series_offsets.len() as u64).to_le_bytes());
        self.buf.extend_from_slice(&self.base_t.to_le_bytes());
        for i in 0..SECTIONS {
            let end = if i + 1 < SECTIONS { self.offsets[i + 1] as usize } else { toc_start };
            let crc = crc32c::crc32c(&self.buf[self.offsets[i] as usize..end]);
            self.buf.extend_from_slice(&crc.to_le_bytes());
        }
        let toc_crc = crc32c::crc32c(&self.buf[toc_start..]);
        self.buf.extend_from_slice(&toc_crc.to_le_bytes());
        let write = || -> std::io::Result<()> {
            let mut out = BufWriter::new(File::create(&self.path)?);
            out.write_all(&self.buf)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        };
        write().map_err(|e| Error::io("write", &self.path, e))?;
        Ok(self.buf.len() as u64)
    }
}

/// Reads a memory-mapped index.
#[derive(Debug)]
pub(crate) struct IndexReader {
    data: Bytes,
    /// (start, len) of each symbol in `data`.
    symbols: Vec<(u32, u32)>,
    /// (name symbol, value symbol) of each pair.
    pairs: Vec<(u32, u32)>,
    series_table_off: usize,
    num_series: u32,
    base_t: i64,
    /// Postings list offset of each pair.
    postings_offsets: Vec<u64>,
    /// name → (value, pair id) sorted by value, for pairs with postings.
    by_name: HashMap<String, Vec<(String, u32)>>,
}

impl IndexReader {
    /// Opens and verifies an index.
    pub(crate) fn new(data: Bytes, path: &Path) -> Result<IndexReader> {
        let corrupt = |reason: &str| Error::CorruptBlock { path: path.to_owned(), reason: reason.to_owned() };
        if data.len() < HEADER_LEN + TOC_LEN || data[..4] != MAGIC || data[4] != VERSION {
            return Err(corrupt("bad index header"));
        }
        let toc_start = data.len() - TOC_LEN;
        let toc = &data[toc_start..];
        let toc_crc = u32::from_le_bytes(toc[TOC_LEN - 4..].try_into().expect("4 bytes"));
        if crc32c::crc32c(&toc[..TOC_LEN - 4]) != toc_crc {
            return Err(corrupt("index table of contents checksum mismatch"));
        }
        let u64_at = |i: usize| u64::from_le_bytes(toc[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let mut bounds: Vec<usize> = (0..SECTIONS).map(|i| u64_at(i) as usize).collect();
        bounds.push(toc_start);
        let num_series = u32::try_from(u64_at(SECTIONS)).map_err(|_| corrupt("series count too large"))?;
        let base_t = u64_at(SECTIONS + 1) as i64;
        let crc_base = (SECTIONS + 2) * 8;
        for i in 0..SECTIONS {
            let section = data.get(bounds[i]..bounds[i + 1]).ok_or_else(|| corrupt("section out of bounds"))?;
            let crc = u32::from_le_bytes(toc[crc_base + i * 4..crc_base + i * 4 + 4].try_into().expect("4 bytes"));
            if crc32c::crc32c(section) != crc {
                return Err(corrupt("index section checksum mismatch"));
            }
        }
        // Each cursor is a suffix of its section, so its absolute position is end - len.
        let mut p = &data[bounds[0]..bounds[1]];
        let n = uvarint(&mut p).map_err(corrupt)? as usize;
        let mut symbols = Vec::with_capacity(n.min(p.len()));
        for _ in 0..n {
            let len = uvarint(&mut p).map_err(corrupt)? as usize;
            let start = bounds[1] - p.len();
            let s = p.get(..len).ok_or_else(|| corrupt("symbol out of bounds"))?;
            std::str::from_utf8(s).map_err(|_| corrupt("symbol is not UTF-8"))?;
            symbols.push((start as u32, len as u32));
            p = &p[len..];
        }
        let mut p = &data[bounds[1]..bounds[2]];
        let n = uvarint(&mut p).map_err(corrupt)? as usize;
        let mut pairs = Vec::with_capacity(n.min(p.len()));
        for _ in 0..n {
            let name = uvarint(&mut p).map_err(corrupt)? as u32;
            let value = uvarint(&mut p).map_err(corrupt)? as u32;
            if name as usize >= symbols.len() || value as usize >= symbols.len() {
                return Err(corrupt("label pair names a missing symbol"));
            }
            pairs.push((name, value));
        }
        let mut p = &data[bounds[5]..bounds[6]];
        let mut postings_offsets = Vec::with_capacity(pairs.len());
        let mut offset = 0u64;
        for _ in 0..pairs.len() {
            offset += uvarint(&mut p).map_err(corrupt)?;
            postings_offsets.push(offset);
        }
        let mut reader = IndexReader {
            data: data.clone(),
            symbols,
            pairs,
            series_table_off: bounds[3],
            num_series,
            base_t,
            postings_offsets,
            by_name: HashMap::new(),
        };
        for (id, &(name, value)) in reader.pairs.iter().enumerate() {
            let mut list = data.get(reader.postings_offsets[id] as usize..).unwrap_or_default();
            if uvarint(&mut list).unwrap_or(0) == 0 {
                continue;
            }
            let (Some(name), Some(value)) = (reader.symbol(name), reader.symbol(value)) else {
                return Err(corrupt("label pair names a missing symbol"));
            };
            let (name, value) = (name.to_owned(), value.to_owned());
            reader.by_name.entry(name).or_default().push((value, id as u32));
        }
        Ok(reader)
    }

    fn symbol(&self, id: u32) -> Option<&str> {
        let &(start, len) = self.symbols.get(id as usize)?;
        std::str::from_utf8(&self.data[start as usize..(start + len) as usize]).ok()
    }

    pub(crate) fn num_series(&self) -> u32 {
        self.num_series
    }

    /// The labels and chunk metas of series `number`.
    pub(crate) fn series(&self, number: u32) -> Option<(Labels, Vec<ChunkMeta>)> {
        let at = self.series_table_off + number as usize * 4;
        let offset = u32::from_le_bytes(self.data.get(at..at + 4)?.try_into().ok()?) as usize;
        let mut p = self.data.get(offset..)?;
        let n = uvarint(&mut p).ok()? as usize;
        let mut refs: Vec<LabelRef<'_>> = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let &(name, value) = self.pairs.get(uvarint(&mut p).ok()? as usize)?;
            refs.push(LabelRef::new(self.symbol(name)?, self.symbol(value)?));
        }
        let labels = Labels::from_sorted(&refs);
        let n = uvarint(&mut p).ok()? as usize;
        let mut chunks = Vec::with_capacity(n.min(4096));
        let (mut prev_max, mut prev_offset) = (self.base_t, 0u64);
        for _ in 0..n {
            let min_t = prev_max.wrapping_add(varint(&mut p).ok()?);
            let offset = prev_offset.checked_add(uvarint(&mut p).ok()?)?;
            let max_t = min_t.wrapping_add(uvarint(&mut p).ok()? as i64);
            chunks.push(ChunkMeta { min_t, max_t, offset });
            prev_max = max_t;
            prev_offset = offset;
        }
        Some((labels, chunks))
    }

    fn read_postings(&self, pair: u32) -> Vec<u32> {
        let Some(mut p) = self.data.get(self.postings_offsets[pair as usize] as usize..) else { return Vec::new() };
        let Ok(count) = uvarint(&mut p) else { return Vec::new() };
        let mut out = Vec::with_capacity((count as usize).min(p.len()));
        let mut id = 0u32;
        for _ in 0..count {
            let Ok(delta) = uvarint(&mut p) else { break };
            id = id.wrapping_add(delta as u32);
            out.push(id);
        }
        out
    }
}

impl PostingsIndex for IndexReader {
    fn all_postings(&self) -> Vec<u32> {
        (0..self.num_series).collect()
    }

    fn postings(&self, name: &str, value: &str) -> Vec<u32> {
        let Some(values) = self.by_name.get(name) else { return Vec::new() };
        match values.binary_search_by(|(v, _)| v.as_str().cmp(value)) {
            Ok(i) => self.read_postings(values[i].1),
            Err(_) => Vec::new(),
        }
    }

    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        if let Some(values) = self.by_name.get(name) {
            values.iter().for_each(|(v, _)| f(v));
        }
    }

    fn for_each_name(&self, f: &mut dyn FnMut(&str)) {
        self.by_name.keys().for_each(|n| f(n));
    }
}
