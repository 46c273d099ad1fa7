//! Tests of version selection and decompression.

use super::*;

fn check(content_type: &str, expect: Option<Version>) {
    assert_eq!(Version::from_content_type(content_type), expect, "{content_type:?}");
}

#[test]
fn content_type_selects_the_version() {
    check("application/x-protobuf", Some(Version::V1));
    check("application/x-protobuf;proto=prometheus.WriteRequest", Some(Version::V1));
    check("application/x-protobuf;proto=io.prometheus.write.v2.Request", Some(Version::V2));
    check("Application/X-Protobuf ; charset=utf-8; Proto=\"io.prometheus.write.v2.Request\"", Some(Version::V2));
    check("application/x-protobuf;proto=io.prometheus.write.v3.Request", None);
    check("application/x-protobuf;proto=", None);
    check("application/json", None);
    check("", None);
}

#[test]
fn decompress_checks_the_length_before_decompressing() {
    let data = vec![7u8; 1000];
    let body = snap::raw::Encoder::new().compress_vec(&data).expect("compressible");
    assert_eq!(decompress(&body, 1000).expect("within limit"), data);
    assert!(matches!(decompress(&body, 999), Err(Error::DecompressedTooLarge { decompressed_len: 1000, limit: 999 })));
    assert!(matches!(decompress(b"\xff\xff\xff\xff\xff\xff", 1000), Err(Error::Snappy { .. })));
    // The header promises 10 bytes, the data holds fewer.
    assert!(matches!(decompress(&[10, 0x08, b'a', b'b', b'c'], 1000), Err(Error::Snappy { .. })));
}

#[test]
fn compressed_limit_covers_snappy_expansion() {
    for n in [0, 1, 1000, 32 << 20] {
        assert!(max_compressed_bytes(n) >= snap::raw::max_compress_len(n), "{n}");
    }
    assert_eq!(max_compressed_bytes(usize::MAX), usize::MAX);
}

#[test]
fn config_defaults_and_rejects_unknown_keys() {
    let config: RemoteWriteConfig = serde_json::from_str("{}").expect("defaults");
    assert_eq!(config.max_decompressed_bytes, 32 << 20);
    let config: RemoteWriteConfig = serde_json::from_str(r#"{"max_decompressed_bytes": 10}"#).expect("valid");
    assert_eq!(config.max_decompressed_bytes, 10);
    assert!(serde_json::from_str::<RemoteWriteConfig>(r#"{"max_bytes": 10}"#).is_err());
}
