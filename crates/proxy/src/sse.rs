//! Server-sent events, scanned incrementally as a stream's chunks arrive.
//!
//! The [`Scanner`] sees every event of a `text/event-stream` body however the
//! transport cut it into chunks, without keeping the body: it holds only the
//! line that a chunk boundary split (its tail) and, when an event spans
//! chunks, that event's data. An event whose data line and terminating blank
//! line arrive in one chunk (the usual case) is handed out as a slice of that
//! chunk, uncopied.
//!
//! It follows the WHATWG rules that matter for OpenAI-style streams: lines end
//! with `\n` or `\r\n`, a blank line dispatches the event, lines starting with
//! `:` are comments, several `data:` lines join with `\n`, and one space after
//! the colon is dropped. A lone `\r` as a line ending is not recognised (no
//! OpenAI-compatible server sends one). An event left unterminated when the
//! stream ends is not dispatched, as the specification says.

use memchr::memchr_iter;

/// The longest line kept across chunks; a longer line is dropped whole and
/// counted by [`Scanner::n_overlong_lines`], so an upstream cannot make the
/// gateway buffer without bound.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// One dispatched event: its data and where it lay in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event's data: its `data:` fields' values joined with `\n`.
    pub data: &'a [u8],
    /// Offset in the stream of the event's first byte.
    pub start: u64,
    /// Offset in the stream just past the blank line that ended it.
    pub end: u64,
}

/// An incremental SSE scanner: feed it chunks in order, and it calls back
/// once per complete event.
#[derive(Debug, Default)]
pub struct Scanner {
    /// The start of a line whose end has not arrived yet.
    tail: Vec<u8>,
    /// Whether the line in `tail` grew past [`MAX_LINE_BYTES`] and is being dropped.
    tail_overlong: bool,
    /// The current event's data, once it cannot be borrowed from the chunk.
    data: Vec<u8>,
    /// The current event's only data line so far, as a range of the chunk
    /// being fed; valid only during [`Scanner::feed`].
    borrowed: Option<(usize, usize)>,
    /// Number of data lines in the current event.
    n_data_lines: usize,
    /// Offset of the current event's first byte.
    event_start: u64,
    /// Offset of the next chunk's first byte.
    offset: u64,
    n_overlong_lines: u64,
}

/// Where a line's bytes are: in the chunk being fed, or in the tail.
#[derive(Clone, Copy)]
enum Source {
    Chunk { start: usize },
    Tail,
}

impl Scanner {
    /// A scanner at the start of a stream.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Scans the next chunk of the stream, calling `on_event` for each event
    /// it completes.
    pub fn feed(&mut self, chunk: &[u8], mut on_event: impl FnMut(Event<'_>)) {
        let base = self.offset;
        let mut pos = 0;
        let mut newlines = memchr_iter(b'\n', chunk);
        if !self.tail.is_empty() || self.tail_overlong {
            match newlines.next() {
                None => {
                    self.extend_tail(chunk);
                    self.offset += chunk.len() as u64;
                    return;
                }
                Some(newline) => {
                    self.extend_tail(&chunk[..newline]);
                    let tail = std::mem::take(&mut self.tail);
                    if !std::mem::take(&mut self.tail_overlong) {
                        self.line(chunk, &tail, Source::Tail, base + newline as u64 + 1, &mut on_event);
                    }
                    // Keep the allocation for the next split line.
                    self.tail = tail;
                    self.tail.clear();
                    pos = newline + 1;
                }
            }
        }
        for newline in newlines {
            let line = &chunk[pos..newline];
            self.line(chunk, line, Source::Chunk { start: pos }, base + newline as u64 + 1, &mut on_event);
            pos = newline + 1;
        }
        self.extend_tail(&chunk[pos..]);
        // The chunk goes away: an event still open keeps its own copy of its data.
        if let Some((start, end)) = self.borrowed.take() {
            self.data.clear();
            self.data.extend_from_slice(&chunk[start..end]);
        }
        self.offset += chunk.len() as u64;
    }

    /// Offset of the first byte of the event not yet complete: every byte
    /// before it belongs to dispatched events, comments or blank lines.
    /// Equals [`Scanner::offset`] when the stream is between events.
    pub fn pending_start(&self) -> u64 {
        self.event_start
    }

    /// Number of bytes fed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of lines dropped for being longer than [`MAX_LINE_BYTES`].
    pub fn n_overlong_lines(&self) -> u64 {
        self.n_overlong_lines
    }

    fn extend_tail(&mut self, bytes: &[u8]) {
        if self.tail_overlong || bytes.is_empty() {
            return;
        }
        if self.tail.len() + bytes.len() > MAX_LINE_BYTES {
            self.tail.clear();
            self.tail_overlong = true;
            self.n_overlong_lines += 1;
            return;
        }
        self.tail.extend_from_slice(bytes);
    }

    /// Handles one line (without its `\n`); `line_end` is the offset past the `\n`.
    fn line(&mut self, chunk: &[u8], line: &[u8], source: Source, line_end: u64, on_event: &mut impl FnMut(Event<'_>)) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if self.n_data_lines > 0 {
                let data = match self.borrowed.take() {
                    Some((start, end)) => &chunk[start..end],
                    None => &self.data[..],
                };
                on_event(Event { data, start: self.event_start, end: line_end });
            }
            self.n_data_lines = 0;
            self.borrowed = None;
            self.data.clear();
            self.event_start = line_end;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if field != b"data" {
            return;
        }
        match source {
            Source::Chunk { start } if self.n_data_lines == 0 => {
                // `value` is a suffix of `line`, which starts at `start` in the chunk.
                let value_start = start + (line.len() - value.len());
                self.borrowed = Some((value_start, value_start + value.len()));
            }
            _ => {
                if let Some((start, end)) = self.borrowed.take() {
                    self.data.clear();
                    self.data.extend_from_slice(&chunk[start..end]);
                }
                if self.n_data_lines > 0 {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
            }
        }
        self.n_data_lines += 1;
    }
}

#[cfg(test)]
mod tests;
