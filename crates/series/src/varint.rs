//! LEB128 varints, unsigned and zig-zag signed, as in protobuf and Go's
//! encoding/binary: the integers of every encoding the store and the
//! chunks use.

/// Appends `v` as an unsigned varint.
pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Appends `v` as a zig-zag signed varint.
pub fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Reads an unsigned varint from the front of `p` and advances it.
///
/// # Errors
///
/// When the varint is cut short or longer than 10 bytes.
pub fn uvarint(p: &mut &[u8]) -> Result<u64, &'static str> {
    let mut v = 0u64;
    for i in 0..10 {
        let &b = p.get(i).ok_or("varint cut short")?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *p = &p[i + 1..];
            return Ok(v);
        }
    }
    Err("varint too long")
}

/// Reads a zig-zag signed varint from the front of `p` and advances it.
///
/// # Errors
///
/// When the varint is cut short or longer than 10 bytes.
pub fn varint(p: &mut &[u8]) -> Result<i64, &'static str> {
    let u = uvarint(p)?;
    Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
}
