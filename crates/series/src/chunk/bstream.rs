//! Bit streams: the writer and reader under the XOR chunk encoding.

/// Appends bits, most significant first, to a byte vector.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    pub(crate) bytes: Vec<u8>,
    /// Bits still free in the last byte (0 when it is full or there is none).
    free: u8,
}

impl BitWriter {
    pub(crate) fn with_bytes(bytes: Vec<u8>) -> BitWriter {
        BitWriter { bytes, free: 0 }
    }

    pub(crate) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        if bit {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << (self.free - 1);
        }
        self.free -= 1;
    }

    pub(crate) fn write_byte(&mut self, byte: u8) {
        if self.free == 0 {
            self.bytes.push(byte);
            return;
        }
        let last = self.bytes.len() - 1;
        self.bytes[last] |= byte >> (8 - self.free);
        self.bytes.push(byte << self.free);
    }

    /// Writes the low `nbits` bits of `value`.
    pub(crate) fn write_bits(&mut self, value: u64, mut nbits: u32) {
        debug_assert!(nbits <= 64);
        if nbits == 0 {
            return;
        }
        let mut v = value << (64 - nbits);
        while nbits >= 8 {
            self.write_byte((v >> 56) as u8);
            v <<= 8;
            nbits -= 8;
        }
        while nbits > 0 {
            self.write_bit(v >> 63 == 1);
            v <<= 1;
            nbits -= 1;
        }
    }
}

/// Reads bits, most significant first, from a byte slice.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position of the next bit.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> BitReader<'a> {
        BitReader { bytes, pos: 0 }
    }

    pub(crate) fn read_bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let bit = (byte >> (7 - (self.pos % 8))) & 1 == 1;
        self.pos += 1;
        Some(bit)
    }

    /// Reads `nbits` (1..=64) bits as the low bits of a u64.
    pub(crate) fn read_bits(&mut self, nbits: u32) -> Option<u64> {
        debug_assert!((1..=64).contains(&nbits));
        if self.pos + nbits as usize > self.bytes.len() * 8 {
            return None;
        }
        let index = self.pos / 8;
        let offset = (self.pos % 8) as u32;
        let mut word = [0u8; 8];
        let available = (self.bytes.len() - index).min(8);
        word[..available].copy_from_slice(&self.bytes[index..index + available]);
        let w = u64::from_be_bytes(word) << offset;
        let in_word = 64 - offset;
        let value = if nbits <= in_word {
            w >> (64 - nbits)
        } else {
            let extra = nbits - in_word;
            let next = u64::from(self.bytes[index + 8]);
            (w >> (64 - nbits)) | (next >> (8 - extra))
        };
        self.pos += nbits as usize;
        Some(value)
    }

    pub(crate) fn read_byte(&mut self) -> Option<u8> {
        self.read_bits(8).map(|b| b as u8)
    }
}
