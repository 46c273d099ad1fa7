//! Decompression bombs: bodies a few megabytes long that decompress to a
//! gigabyte of zeros, built without compressing the gigabyte.

use std::io::Write as _;

/// A snappy block (remote write's format) that decompresses to `len`
/// zeros: the length, one literal zero, then copies of 64 bytes at offset 1,
/// three bytes each: about 21 times smaller than what it decompresses to,
/// the most snappy's format allows. The same bytes snappy's encoder writes
/// for a run of zeros, up to the split into 64 KiB blocks.
pub fn snappy_zeros(len: u32) -> Vec<u8> {
    let mut block = Vec::with_capacity(len as usize / 21 + 16);
    let mut varint = len;
    while varint >= 0x80 {
        block.push((varint as u8) | 0x80);
        varint >>= 7;
    }
    block.push(varint as u8);
    if len == 0 {
        return block;
    }
    // A literal of one byte: tag 0, length - 1 in the upper six bits.
    block.extend_from_slice(&[0x00, 0x00]);
    let rest = len - 1;
    // A copy with a two-byte offset: tag 2, length - 1 in the upper six bits.
    block.extend_from_slice(&[0xfe, 0x01, 0x00].repeat((rest / 64) as usize));
    let tail = rest % 64;
    if tail > 0 {
        block.extend_from_slice(&[((tail as u8 - 1) << 2) | 0x02, 0x01, 0x00]);
    }
    block
}

/// A snappy block whose header claims `claimed` bytes but that holds a
/// few: what a sender writes to make a receiver allocate from the header.
pub fn snappy_lying_header(claimed: u32) -> Vec<u8> {
    let mut block = snappy_zeros(claimed);
    block.truncate(16);
    block
}

/// A gzip stream (OTLP's `Content-Encoding: gzip`) that decompresses to
/// `mebibytes` MiB of zeros: one member of a MiB of zeros, repeated, as
/// `cat a.gz b.gz` makes and `gzip -d` reads. About a thousand times
/// smaller than what it decompresses to.
///
/// # Panics
///
/// Never: it writes to memory.
pub fn gzip_zeros(mebibytes: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0; 1 << 20]).expect("writing to a Vec cannot fail");
    let member = encoder.finish().expect("writing to a Vec cannot fail");
    member.repeat(mebibytes)
}

#[cfg(test)]
mod tests;
