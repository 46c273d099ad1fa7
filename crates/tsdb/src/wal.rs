//! The write-ahead log: every committed batch is written here before it is
//! acknowledged, so a killed process loses nothing it answered for.
//!
//! The log is a directory of numbered segment files. Each holds a sequence
//! of framed records (see `docs/format/wal.md`): a type byte, the payload
//! length and a CRC32C of the payload. A record is written with one `write`
//! call, which the page cache keeps across a crash of the process; `fsync`
//! runs when a segment is finished, on the configured interval and at close.
//! On open, a torn or corrupt tail is cut off at the last good record and
//! start-up continues.

mod record;

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tracing::{info, warn};

pub(crate) use record::{Record, RecordEncoder, decode_record};

use crate::{Error, Result};

/// Bytes of a record frame before the payload: type, length, CRC32C.
pub(crate) const FRAME_HEADER: usize = 9;

/// Segments are closed once they pass this size.
pub(crate) const DEFAULT_SEGMENT_SIZE: u64 = 128 << 20;

/// The open log, appending to its newest segment.
#[derive(Debug)]
pub(crate) struct Wal {
    dir: PathBuf,
    segment: u32,
    file: File,
    offset: u64,
    segment_size: u64,
    broken: bool,
    unsynced: bool,
    /// Test hook: fail every write as a full disk would.
    fail_writes: bool,
}

/// What a replay found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplayStats {
    pub records: u64,
    pub segments: u32,
    pub truncated_bytes: u64,
}

impl Wal {
    /// Reads every record of the log in `dir`, oldest first, cutting off a
    /// torn or corrupt tail, then opens a fresh segment for appending.
    pub(crate) fn open(dir: &Path, mut on_record: impl FnMut(Record<'_>)) -> Result<(Wal, ReplayStats)> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        let segments = list_segments(dir)?;
        let mut stats = ReplayStats::default();
        let mut corrupt_from: Option<usize> = None;
        for (i, &(number, ref path)) in segments.iter().enumerate() {
            if corrupt_from.is_some() {
                warn!(segment = number, "Removing WAL segment after a corrupt one");
                fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
                continue;
            }
            let data = fs::read(path).map_err(|e| Error::io("read", path, e))?;
            let mut pos = 0usize;
            while pos < data.len() {
                match decode_record(&data[pos..]) {
                    Ok((record, len)) => {
                        on_record(record);
                        stats.records += 1;
                        pos += len;
                    }
                    Err(reason) => {
                        warn!(segment = number, offset = pos, reason, "WAL tail is torn or corrupt, truncating");
                        let file = OpenOptions::new().write(true).open(path).map_err(|e| Error::io("open", path, e))?;
                        file.set_len(pos as u64).map_err(|e| Error::io("truncate", path, e))?;
                        file.sync_all().map_err(|e| Error::io("sync", path, e))?;
                        stats.truncated_bytes += (data.len() - pos) as u64;
                        corrupt_from = Some(i);
                        break;
                    }
                }
            }
            stats.segments += 1;
        }
        let next = segments.last().map_or(0, |(n, _)| n + 1);
        let wal = Wal::create_segment(dir, next)?;
        Ok((wal, stats))
    }

    fn create_segment(dir: &Path, segment: u32) -> Result<Wal> {
        let path = segment_path(dir, segment);
        let file =
            OpenOptions::new().create(true).append(true).open(&path).map_err(|e| Error::io("create", &path, e))?;
        sync_dir(dir)?;
        Ok(Wal {
            dir: dir.to_owned(),
            segment,
            file,
            offset: 0,
            segment_size: DEFAULT_SEGMENT_SIZE,
            broken: false,
            unsynced: false,
            fail_writes: false,
        })
    }

    /// Appends encoded records with one write. On failure the segment is cut
    /// back to where it was, so no half record stays behind.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if self.broken {
            return Err(Error::WalBroken);
        }
        if self.offset > 0 && self.offset + bytes.len() as u64 > self.segment_size {
            self.rotate()?;
        }
        let result =
            if self.fail_writes { Err(std::io::Error::from_raw_os_error(28)) } else { self.file.write_all(bytes) };
        if let Err(source) = result {
            let path = self.path();
            let repaired =
                self.file.set_len(self.offset).and_then(|()| self.file.seek(SeekFrom::Start(self.offset)).map(|_| ()));
            if repaired.is_err() {
                self.broken = true;
            }
            return Err(Error::io("write", path, source));
        }
        self.offset += bytes.len() as u64;
        self.unsynced = true;
        Ok(())
    }

    /// Finishes the current segment (synced) and starts the next one.
    /// Returns the number of the new segment.
    pub(crate) fn rotate(&mut self) -> Result<u32> {
        self.sync()?;
        let next = Wal::create_segment(&self.dir, self.segment + 1)?;
        let fail_writes = self.fail_writes;
        *self = next;
        self.fail_writes = fail_writes;
        Ok(self.segment)
    }

    /// Flushes written records to the disk.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if self.unsynced {
            self.file.sync_data().map_err(|e| Error::io("sync", self.path(), e))?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Removes every segment numbered below `segment`.
    pub(crate) fn remove_before(&self, segment: u32) -> Result<()> {
        for (number, path) in list_segments(&self.dir)? {
            if number < segment {
                fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            }
        }
        info!(before = segment, "WAL truncated");
        Ok(())
    }

    /// Total size of the log on disk.
    pub(crate) fn size(&self) -> u64 {
        list_segments(&self.dir)
            .map(|segments| segments.iter().filter_map(|(_, p)| p.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0)
    }

    #[cfg(test)]
    pub(crate) fn set_fail_writes(&mut self, fail: bool) {
        self.fail_writes = fail;
    }

    fn path(&self) -> PathBuf {
        segment_path(&self.dir, self.segment)
    }
}

fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}"))
}

fn list_segments(dir: &Path) -> Result<Vec<(u32, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        let name = entry.file_name();
        if let Some(number) = name.to_str().filter(|n| n.len() == 8).and_then(|n| n.parse::<u32>().ok()) {
            segments.push((number, entry.path()));
        }
    }
    segments.sort();
    Ok(segments)
}

/// Makes a file creation or removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("sync", dir, e))
}

#[cfg(test)]
mod tests;
