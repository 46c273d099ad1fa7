//! A zero-copy reader of the protobuf wire format.
//!
//! The receivers decode protobuf by hand rather than through generated
//! structs, so a request of a million labels costs no allocation per label:
//! strings come back as `&str` slices of the request buffer. The reader knows
//! only wire types; each decoder maps field numbers to meaning and hands
//! every field it does not know to [`Reader::skip`], which keeps decoders
//! forward compatible with fields added to the schemas later.

/// How a field's value is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    /// A base-128 varint.
    Varint,
    /// Eight little-endian bytes.
    Fixed64,
    /// A varint length, then that many bytes.
    Len,
    /// The start of a (deprecated) group.
    StartGroup,
    /// The end of a (deprecated) group.
    EndGroup,
    /// Four little-endian bytes.
    Fixed32,
}

/// Why bytes are not a valid protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at byte {offset}")]
pub struct WireError {
    /// Byte offset into the decoded buffer where the problem was found.
    pub offset: usize,
    /// What is wrong there.
    pub reason: &'static str,
}

/// Nested groups deeper than this are rejected, so hostile input cannot
/// make skipping unbounded work per byte.
const MAX_GROUP_DEPTH: usize = 64;

/// A cursor over one message's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the outermost buffer, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole top-level message.
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0, base: 0 }
    }

    /// Whether every byte has been read.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The current position in the outermost buffer.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// An error at the current position.
    #[cold]
    pub(crate) fn error(&self, reason: &'static str) -> WireError {
        WireError { offset: self.offset(), reason }
    }

    /// Reads a varint.
    #[inline]
    pub(crate) fn varint(&mut self) -> Result<u64, WireError> {
        match self.buf.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(u64::from(b))
            }
            _ => self.varint_slow(),
        }
    }

    fn varint_slow(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos + i) else {
                return Err(self.error("truncated varint"));
            };
            // The tenth byte holds only the top bit of a 64-bit value.
            if i == 9 && b > 1 {
                return Err(self.error("varint overflows 64 bits"));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.pos += i + 1;
                return Ok(value);
            }
        }
        Err(self.error("varint overflows 64 bits"))
    }

    /// Reads a field's tag: its number and wire type.
    #[inline]
    pub(crate) fn tag(&mut self) -> Result<(u32, WireType), WireError> {
        let start = self.pos;
        let key = self.varint()?;
        let wire_type = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            _ => {
                self.pos = start;
                return Err(self.error("invalid wire type"));
            }
        };
        let field = key >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            self.pos = start;
            return Err(self.error("invalid field number"));
        }
        Ok((field as u32, wire_type))
    }

    /// Reads eight little-endian bytes.
    #[inline]
    pub(crate) fn fixed64(&mut self) -> Result<u64, WireError> {
        let Some(bytes) = self.buf.get(self.pos..self.pos + 8) else {
            return Err(self.error("truncated fixed64"));
        };
        self.pos += 8;
        Ok(u64::from_le_bytes(bytes.try_into().expect("slice of eight bytes")))
    }

    /// Reads a length-delimited field's bytes.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let start = self.pos;
        let len = self.varint()?;
        let end = usize::try_from(len).ok().and_then(|len| self.pos.checked_add(len));
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(bytes) => {
                self.pos += bytes.len();
                Ok(bytes)
            }
            None => {
                Err(WireError { offset: self.base + start, reason: "length-delimited field runs past its message" })
            }
        }
    }

    /// Reads a length-delimited field as UTF-8 text.
    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'a str, WireError> {
        let start = self.pos;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| WireError { offset: self.base + start, reason: "string is not UTF-8" })
    }

    /// Reads a length-delimited field as an embedded message.
    #[inline]
    pub(crate) fn message(&mut self) -> Result<Reader<'a>, WireError> {
        let bytes = self.bytes()?;
        Ok(Reader { buf: bytes, pos: 0, base: self.base + self.pos - bytes.len() })
    }

    /// Skips the value of a field of type `wire_type` whose tag was just read.
    pub(crate) fn skip(&mut self, field: u32, wire_type: WireType) -> Result<(), WireError> {
        match wire_type {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.advance(8),
            WireType::Fixed32 => self.advance(4),
            WireType::Len => self.bytes().map(drop),
            WireType::StartGroup => self.skip_group(field),
            WireType::EndGroup => Err(self.error("unexpected end of group")),
        }
    }

    /// Skips a group started by field `field`, up to its matching end.
    fn skip_group(&mut self, field: u32) -> Result<(), WireError> {
        let mut open = vec![field];
        while let Some(&innermost) = open.last() {
            if self.is_empty() {
                return Err(self.error("unterminated group"));
            }
            match self.tag()? {
                (f, WireType::EndGroup) if f == innermost => {
                    open.pop();
                }
                (_, WireType::EndGroup) => return Err(self.error("mismatched end of group")),
                (f, WireType::StartGroup) => {
                    if open.len() >= MAX_GROUP_DEPTH {
                        return Err(self.error("groups nested too deeply"));
                    }
                    open.push(f);
                }
                (f, wire_type) => self.skip(f, wire_type)?,
            }
        }
        Ok(())
    }

    fn advance(&mut self, n: usize) -> Result<(), WireError> {
        if self.buf.len() - self.pos < n {
            return Err(self.error("truncated fixed-width field"));
        }
        self.pos += n;
        Ok(())
    }

    /// Checks that a field known to the decoder has the wire type the schema gives it.
    #[inline]
    pub(crate) fn expect(&self, actual: WireType, expected: WireType) -> Result<(), WireError> {
        if actual == expected { Ok(()) } else { Err(self.error("field has the wrong wire type")) }
    }
}

#[cfg(test)]
mod tests;
