//! Tests of the wire reader on hand-written bytes.

use super::*;

fn check_varint(bytes: &[u8], expect: Result<u64, &str>) {
    let mut reader = Reader::new(bytes);
    let got = reader.varint().map_err(|e| e.reason);
    assert_eq!(got, expect, "{bytes:02x?}");
    if expect.is_ok() {
        assert!(reader.is_empty(), "{bytes:02x?} not fully read");
    }
}

#[test]
fn varints_decode_up_to_64_bits() {
    check_varint(&[0x00], Ok(0));
    check_varint(&[0x7f], Ok(127));
    check_varint(&[0x80, 0x01], Ok(128));
    check_varint(&[0xac, 0x02], Ok(300));
    check_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], Ok(u64::MAX));
    check_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], Err("varint overflows 64 bits"));
    check_varint(&[0x80; 11], Err("varint overflows 64 bits"));
    check_varint(&[0x80, 0x80], Err("truncated varint"));
    check_varint(&[], Err("truncated varint"));
}

/// Skips every field of `bytes` and returns the tags seen, or the first error.
fn skip_all(bytes: &[u8]) -> Result<Vec<(u32, WireType)>, WireError> {
    let mut reader = Reader::new(bytes);
    let mut tags = Vec::new();
    while !reader.is_empty() {
        let (field, wire_type) = reader.tag()?;
        reader.skip(field, wire_type)?;
        tags.push((field, wire_type));
    }
    Ok(tags)
}

fn check_skip(bytes: &[u8], expect: Result<&[(u32, WireType)], (usize, &str)>) {
    let got = skip_all(bytes);
    match (got, expect) {
        (Ok(tags), Ok(expect)) => assert_eq!(tags, expect, "{bytes:02x?}"),
        (Err(error), Err((offset, reason))) => {
            assert_eq!((error.offset, error.reason), (offset, reason), "{bytes:02x?}")
        }
        (got, expect) => panic!("{bytes:02x?}: got {got:?}, expected {expect:?}"),
    }
}

#[test]
fn every_wire_type_is_skipped() {
    use WireType::*;
    check_skip(&[0x08, 0x96, 0x01], Ok(&[(1, Varint)]));
    check_skip(&[0x11, 1, 2, 3, 4, 5, 6, 7, 8], Ok(&[(2, Fixed64)]));
    check_skip(&[0x1a, 0x03, b'a', b'b', b'c'], Ok(&[(3, Len)]));
    check_skip(&[0x25, 1, 2, 3, 4], Ok(&[(4, Fixed32)]));
    // Group 5 holding a varint field and a nested group 6.
    check_skip(&[0x2b, 0x08, 0x01, 0x33, 0x34, 0x2c, 0x08, 0x00], Ok(&[(5, StartGroup), (1, Varint)]));
    // A large field number.
    check_skip(&[0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00], Ok(&[((1 << 29) - 1, Varint)]));
}

#[test]
fn malformed_fields_are_errors_with_offsets() {
    check_skip(&[0x08, 0x96, 0x01, 0x07], Err((3, "invalid wire type")));
    check_skip(&[0x00, 0x01], Err((0, "invalid field number")));
    check_skip(&[0x11, 1, 2, 3], Err((1, "truncated fixed-width field")));
    check_skip(&[0x1a, 0x05, b'a'], Err((1, "length-delimited field runs past its message")));
    check_skip(
        &[0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        Err((1, "length-delimited field runs past its message")),
    );
    check_skip(&[0x2b, 0x08, 0x01], Err((3, "unterminated group")));
    check_skip(&[0x2b, 0x34], Err((2, "mismatched end of group")));
    check_skip(&[0x2c], Err((1, "unexpected end of group")));
    let mut deep = vec![0x2b; MAX_GROUP_DEPTH + 1];
    deep.extend(vec![0x2c; MAX_GROUP_DEPTH + 1]);
    check_skip(&deep, Err((MAX_GROUP_DEPTH + 1, "groups nested too deeply")));
}

#[test]
fn embedded_messages_report_offsets_in_the_outer_buffer() {
    let bytes = [0x0a, 0x03, 0x12, 0x01, 0xff];
    let mut outer = Reader::new(&bytes);
    assert_eq!(outer.tag(), Ok((1, WireType::Len)));
    let mut inner = outer.message().expect("well-formed");
    assert!(outer.is_empty());
    assert_eq!(inner.tag(), Ok((2, WireType::Len)));
    assert_eq!(inner.str(), Err(WireError { offset: 3, reason: "string is not UTF-8" }));
}
