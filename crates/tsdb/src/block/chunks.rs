//! The chunks file of a block: encoded chunks, each framed and checksummed,
//! addressed by their byte offset.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use bytes::Bytes;
use series::{Chunk, ChunkEncoding};

use crate::{Error, Result};
use series::varint::{put_uvarint, uvarint};

/// Magic number at the start of a chunks file.
pub(crate) const MAGIC: [u8; 4] = *b"ISCK";
pub(crate) const VERSION: u8 = 1;
const HEADER_LEN: u64 = 8;

/// Writes chunks sequentially.
pub(crate) struct ChunkWriter {
    out: BufWriter<File>,
    offset: u64,
    scratch: Vec<u8>,
}

impl ChunkWriter {
    pub(crate) fn create(path: &Path) -> Result<ChunkWriter> {
        let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut header = [0u8; HEADER_LEN as usize];
        header[..4].copy_from_slice(&MAGIC);
        header[4] = VERSION;
        out.write_all(&header).map_err(|e| Error::io("write", path, e))?;
        Ok(ChunkWriter { out, offset: HEADER_LEN, scratch: Vec::new() })
    }

    /// Writes a chunk and returns its reference (offset in the file).
    pub(crate) fn write(&mut self, encoding: ChunkEncoding, data: &[u8]) -> std::io::Result<u64> {
        let offset = self.offset;
        self.scratch.clear();
        put_uvarint(&mut self.scratch, data.len() as u64);
        self.scratch.push(encoding as u8);
        let mut crc = crc32c::crc32c(&[encoding as u8]);
        crc = crc32c::crc32c_append(crc, data);
        self.out.write_all(&self.scratch)?;
        self.out.write_all(data)?;
        self.out.write_all(&crc.to_le_bytes())?;
        self.offset += (self.scratch.len() + data.len() + 4) as u64;
        Ok(offset)
    }

    pub(crate) fn finish(self) -> std::io::Result<u64> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(self.offset)
    }
}

/// Reads chunks from a memory-mapped chunks file.
#[derive(Debug, Clone)]
pub(crate) struct ChunkReader {
    data: Bytes,
}

impl ChunkReader {
    pub(crate) fn new(data: Bytes, path: &Path) -> Result<ChunkReader> {
        if data.len() < HEADER_LEN as usize || data[..4] != MAGIC || data[4] != VERSION {
            return Err(Error::CorruptBlock { path: path.to_owned(), reason: "bad chunks file header".into() });
        }
        Ok(ChunkReader { data })
    }

    /// The chunk at `offset`, checked against its CRC when `verify` is set.
    pub(crate) fn chunk(&self, offset: u64, min_t: i64, max_t: i64, verify: bool) -> Option<Chunk> {
        let start = usize::try_from(offset).ok()?;
        let mut p = self.data.get(start..)?;
        let before = p.len();
        let len = usize::try_from(uvarint(&mut p).ok()?).ok()?;
        let header = before - p.len();
        let encoding = ChunkEncoding::from_u8(*p.first()?)?;
        let data_start = start + header + 1;
        let data_end = data_start.checked_add(len)?;
        let crc_bytes = self.data.get(data_end..data_end + 4)?;
        if verify {
            let crc = crc32c::crc32c(&self.data[data_start - 1..data_end]);
            if crc.to_le_bytes() != crc_bytes {
                return None;
            }
        }
        Some(Chunk { min_t, max_t, encoding, data: self.data.slice(data_start..data_end) })
    }
}
