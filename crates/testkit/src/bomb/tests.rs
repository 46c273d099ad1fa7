//! The bombs decompress to what they say, with the real decoders.

use std::io::Read as _;

use super::*;

#[test]
fn snappy_zeros_is_valid_snappy_of_zeros() {
    for len in [0, 1, 2, 64, 65, 66, 1000, 1 << 20] {
        let block = snappy_zeros(len);
        let decoded = snap::raw::Decoder::new().decompress_vec(&block).expect("valid snappy");
        assert_eq!(decoded.len(), len as usize);
        assert!(decoded.iter().all(|&b| b == 0));
    }
    assert!(snappy_zeros(1 << 30).len() < 51 << 20);
    assert_eq!(snap::raw::decompress_len(&snappy_lying_header(u32::MAX)).expect("header"), u32::MAX as usize);
    assert!(snap::raw::Decoder::new().decompress_vec(&snappy_lying_header(1 << 20)).is_err());
}

#[test]
fn gzip_zeros_is_one_gzip_stream_of_zeros() {
    let bomb = gzip_zeros(4);
    assert!(bomb.len() < 8 << 10, "{} bytes", bomb.len());
    let mut decoded = Vec::new();
    flate2::read::MultiGzDecoder::new(&bomb[..]).read_to_end(&mut decoded).expect("valid gzip");
    assert_eq!(decoded.len(), 4 << 20);
    assert!(decoded.iter().all(|&b| b == 0));
}
