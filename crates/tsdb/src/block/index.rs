//! The index file of a block: symbol table, series with their chunk
//! references, and postings per label pair. Layout in `docs/format/index.md`.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use series::{LabelRef, Labels};

use crate::postings::PostingsIndex;
use crate::varint::{put_uvarint, put_varint, uvarint, varint};
use crate::{Error, Result};

/// Magic number at the start of an index file.
pub(crate) const MAGIC: [u8; 4] = *b"ISIX";
pub(crate) const VERSION: u8 = 1;
const HEADER_LEN: usize = 5;
/// Table of contents: six u64 offsets/counts, five section CRCs, its own CRC.
const TOC_LEN: usize = 6 * 8 + 5 * 4 + 4;

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
    symbols: HashMap<String, u32>,
    series_offsets: Vec<u64>,
    postings: BTreeMap<(u32, u32), Vec<u32>>,
    symbols_off: u64,
    series_off: u64,
    crcs: Vec<u32>,
}

impl IndexWriter {
    /// Starts an index whose symbol table is `symbols` (sorted, unique).
    pub(crate) fn new(path: &Path, symbols: &[&str]) -> IndexWriter {
        let mut buf = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(&MAGIC);
        buf.push(VERSION);
        let symbols_off = buf.len() as u64;
        put_uvarint(&mut buf, symbols.len() as u64);
        for s in symbols {
            put_uvarint(&mut buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
        }
        let crcs = vec![crc32c::crc32c(&buf[symbols_off as usize..])];
        let series_off = buf.len() as u64;
        IndexWriter {
            path: path.to_owned(),
            buf,
            symbols: symbols.iter().enumerate().map(|(i, s)| ((*s).to_owned(), i as u32)).collect(),
            series_offsets: Vec::new(),
            postings: BTreeMap::new(),
            symbols_off,
            series_off,
            crcs,
        }
    }

    /// Adds the next series (in label order) and its chunks (in time order).
    pub(crate) fn add_series(&mut self, labels: &Labels, chunks: &[ChunkMeta]) {
        let number = self.series_offsets.len() as u32;
        self.series_offsets.push(self.buf.len() as u64);
        put_uvarint(&mut self.buf, labels.len() as u64);
        for label in labels {
            let name = self.symbols[label.name];
            let value = self.symbols[label.value];
            put_uvarint(&mut self.buf, u64::from(name));
            put_uvarint(&mut self.buf, u64::from(value));
            self.postings.entry((name, value)).or_default().push(number);
        }
        put_uvarint(&mut self.buf, chunks.len() as u64);
        let (mut prev_max, mut prev_offset) = (0i64, 0u64);
        for (i, c) in chunks.iter().enumerate() {
            if i == 0 {
                put_varint(&mut self.buf, c.min_t);
                put_uvarint(&mut self.buf, c.offset);
            } else {
                put_varint(&mut self.buf, c.min_t.wrapping_sub(prev_max));
                put_uvarint(&mut self.buf, c.offset - prev_offset);
            }
            put_uvarint(&mut self.buf, (c.max_t.wrapping_sub(c.min_t)) as u64);
            prev_max = c.max_t;
            prev_offset = c.offset;
        }
    }

    /// Writes the remaining sections and the table of contents; returns the file size.
    pub(crate) fn finish(mut self) -> Result<u64> {
        let section = |buf: &Vec<u8>, start: u64| crc32c::crc32c(&buf[start as usize..]);
        self.crcs.push(section(&self.buf, self.series_off));
        let series_table_off = self.buf.len() as u64;
        for offset in &self.series_offsets {
            self.buf.extend_from_slice(&offset.to_le_bytes());
        }
        self.crcs.push(section(&self.buf, series_table_off));
        let postings_off = self.buf.len() as u64;
        let mut table = Vec::with_capacity(self.postings.len());
        for (&(name, value), list) in &self.postings {
            table.push((name, value, self.buf.len() as u64));
            put_uvarint(&mut self.buf, list.len() as u64);
            let mut prev = 0u32;
            for (i, &id) in list.iter().enumerate() {
                put_uvarint(&mut self.buf, u64::from(if i == 0 { id } else { id - prev }));
                prev = id;
            }
        }
        self.crcs.push(section(&self.buf, postings_off));
        let postings_table_off = self.buf.len() as u64;
        put_uvarint(&mut self.buf, table.len() as u64);
        for (name, value, offset) in table {
            put_uvarint(&mut self.buf, u64::from(name));
            put_uvarint(&mut self.buf, u64::from(value));
            put_uvarint(&mut self.buf, offset);
        }
        self.crcs.push(section(&self.buf, postings_table_off));
        let toc_start = self.buf.len();
        for v in [
            self.symbols_off,
            self.series_off,
            series_table_off,
            postings_off,
            postings_table_off,
            self.series_offsets.len() as u64,
        ] {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        for crc in &self.crcs {
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
    series_table_off: usize,
    num_series: u32,
    /// name → sorted (value, postings offset).
    postings: HashMap<String, Vec<(String, u64)>>,
}

impl IndexReader {
    /// Opens and verifies an index.
    pub(crate) fn new(data: Bytes, path: &Path) -> Result<IndexReader> {
        let corrupt = |reason: &str| Error::CorruptBlock { path: path.to_owned(), reason: reason.to_owned() };
        if data.len() < HEADER_LEN + TOC_LEN || data[..4] != MAGIC || data[4] != VERSION {
            return Err(corrupt("bad index header"));
        }
        let toc = &data[data.len() - TOC_LEN..];
        let toc_crc = u32::from_le_bytes(toc[TOC_LEN - 4..].try_into().expect("4 bytes"));
        if crc32c::crc32c(&toc[..TOC_LEN - 4]) != toc_crc {
            return Err(corrupt("index table of contents checksum mismatch"));
        }
        let u64_at = |i: usize| u64::from_le_bytes(toc[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let crc_at = |i: usize| u32::from_le_bytes(toc[48 + i * 4..52 + i * 4].try_into().expect("4 bytes"));
        let offsets: Vec<usize> = (0..5).map(|i| u64_at(i) as usize).collect();
        let num_series = u32::try_from(u64_at(5)).map_err(|_| corrupt("series count too large"))?;
        let end = data.len() - TOC_LEN;
        for i in 0..5 {
            let section_end = if i < 4 { offsets[i + 1] } else { end };
            let section = data.get(offsets[i]..section_end).ok_or_else(|| corrupt("section out of bounds"))?;
            if crc32c::crc32c(section) != crc_at(i) {
                return Err(corrupt("index section checksum mismatch"));
            }
        }
        // `p` is always a suffix of the symbols section, which ends at offsets[1].
        let mut p = data.get(offsets[0]..offsets[1]).ok_or_else(|| corrupt("symbols out of bounds"))?;
        let n = uvarint(&mut p).map_err(corrupt)? as usize;
        let mut symbols = Vec::with_capacity(n.min(p.len()));
        for _ in 0..n {
            let len = uvarint(&mut p).map_err(corrupt)? as usize;
            let start = offsets[1] - p.len();
            let s = p.get(..len).ok_or_else(|| corrupt("symbol out of bounds"))?;
            std::str::from_utf8(s).map_err(|_| corrupt("symbol is not UTF-8"))?;
            symbols.push((start as u32, len as u32));
            p = &p[len..];
        }
        let mut reader = IndexReader {
            data: data.clone(),
            symbols,
            series_table_off: offsets[2],
            num_series,
            postings: HashMap::new(),
        };
        let mut p = &data[offsets[4]..end];
        let n = uvarint(&mut p).map_err(corrupt)?;
        for _ in 0..n {
            let name = uvarint(&mut p).map_err(corrupt)? as u32;
            let value = uvarint(&mut p).map_err(corrupt)? as u32;
            let offset = uvarint(&mut p).map_err(corrupt)?;
            let (Some(name), Some(value)) = (reader.symbol(name), reader.symbol(value)) else {
                return Err(corrupt("postings table names a missing symbol"));
            };
            let (name, value) = (name.to_owned(), value.to_owned());
            reader.postings.entry(name).or_default().push((value, offset));
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
    pub(crate) fn series(&self, number: u32, with_chunks: bool) -> Option<(Labels, Vec<ChunkMeta>)> {
        let at = self.series_table_off + number as usize * 8;
        let offset = u64::from_le_bytes(self.data.get(at..at + 8)?.try_into().ok()?) as usize;
        let mut p = self.data.get(offset..)?;
        let n = uvarint(&mut p).ok()? as usize;
        let mut refs: Vec<LabelRef<'_>> = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let name = self.symbol(uvarint(&mut p).ok()? as u32)?;
            let value = self.symbol(uvarint(&mut p).ok()? as u32)?;
            refs.push(LabelRef::new(name, value));
        }
        let labels = Labels::from_sorted(&refs);
        let mut chunks = Vec::new();
        let n = uvarint(&mut p).ok()? as usize;
        if with_chunks || n > 0 {
            chunks.reserve(n.min(4096));
            let (mut prev_max, mut prev_offset) = (0i64, 0u64);
            for i in 0..n {
                let (min_t, offset) = if i == 0 {
                    (varint(&mut p).ok()?, uvarint(&mut p).ok()?)
                } else {
                    (prev_max.wrapping_add(varint(&mut p).ok()?), prev_offset + uvarint(&mut p).ok()?)
                };
                let max_t = min_t.wrapping_add(uvarint(&mut p).ok()? as i64);
                chunks.push(ChunkMeta { min_t, max_t, offset });
                prev_max = max_t;
                prev_offset = offset;
            }
        }
        Some((labels, chunks))
    }

    fn read_postings(&self, offset: u64) -> Vec<u32> {
        let Some(mut p) = self.data.get(offset as usize..) else { return Vec::new() };
        let Ok(count) = uvarint(&mut p) else { return Vec::new() };
        let mut out = Vec::with_capacity((count as usize).min(p.len()));
        let mut id = 0u32;
        for i in 0..count {
            let Ok(delta) = uvarint(&mut p) else { break };
            id = if i == 0 { delta as u32 } else { id.wrapping_add(delta as u32) };
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
        let Some(values) = self.postings.get(name) else { return Vec::new() };
        match values.binary_search_by(|(v, _)| v.as_str().cmp(value)) {
            Ok(i) => self.read_postings(values[i].1),
            Err(_) => Vec::new(),
        }
    }

    fn for_each_value(&self, name: &str, f: &mut dyn FnMut(&str)) {
        if let Some(values) = self.postings.get(name) {
            values.iter().for_each(|(v, _)| f(v));
        }
    }
}
