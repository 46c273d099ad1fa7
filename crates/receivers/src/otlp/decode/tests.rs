//! Tests of the body decoders on valid, broken and oversized input.

use std::io::Write as _;

use prost::Message as _;

use super::*;
use crate::otlp::proto::{Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn request() -> ExportMetricsServiceRequest {
    let point = NumberDataPoint {
        time_unix_nano: 1_700_000_000_000_000_000,
        value: Some(number_data_point::Value::AsDouble(0.5)),
        ..Default::default()
    };
    let metric = Metric {
        name: "up".into(),
        data: Some(metric::Data::Gauge(Gauge { data_points: vec![point] })),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: None,
            scope_metrics: vec![ScopeMetrics { scope: None, metrics: vec![metric] }],
        }],
    }
}

#[test]
fn protobuf_and_json_decode_to_the_same_request() {
    let from_protobuf = decode_protobuf(&request().encode_to_vec()).expect("valid protobuf");
    let from_json = decode_json(
        br#"{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "up", "gauge": {"dataPoints": [
            {"timeUnixNano": "1700000000000000000", "asDouble": 0.5}
        ]}}]}]}]}"#,
    )
    .expect("valid JSON");
    assert_eq!(from_protobuf, request());
    assert_eq!(from_json, request());
    assert_eq!(decode_protobuf(b"").expect("empty is a valid message"), ExportMetricsServiceRequest::default());
    assert_eq!(decode_json(b"{}").expect("valid"), ExportMetricsServiceRequest::default());
}

#[test]
fn broken_bodies_are_errors() {
    let protobuf = request().encode_to_vec();
    assert!(matches!(decode_protobuf(&protobuf[..protobuf.len() - 1]), Err(Error::OtlpProtobuf { .. })));
    assert!(matches!(decode_protobuf(b"\x0a\x05{}"), Err(Error::OtlpProtobuf { .. })));
    assert!(matches!(decode_json(b"{\"resourceMetrics\": 5}"), Err(Error::OtlpJson { .. })));
    assert!(matches!(decode_json(&protobuf), Err(Error::OtlpJson { .. })));
    let message = decode_json(
        br#"{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"histogram": {"dataPoints": [{"count": "x"}]}}]}]}]}"#,
    )
    .map_err(|e| std::error::Error::source(&e).map(ToString::to_string))
    .expect_err("bad count");
    assert_eq!(
        message.as_deref(),
        Some(
            "invalid value: string \"x\", expected an unsigned 64-bit integer, as a number or a string at line 1 column 95"
        )
    );
}

#[test]
fn deeply_nested_attributes_are_refused_not_overflowed() {
    let depth = 10_000;
    let json = format!(
        r#"{{"resourceMetrics": [{{"resource": {{"attributes": [{{"key": "k", "value": {}{}}}]}}}}]}}"#,
        r#"{"arrayValue": {"values": ["#.repeat(depth),
        "]}}".repeat(depth)
    );
    assert!(matches!(decode_json(json.as_bytes()), Err(Error::OtlpJson { .. })));
    // The same nesting in protobuf: AnyValue.array_value (5) / ArrayValue.values (1), inside out.
    let mut value = Vec::new();
    for _ in 0..depth {
        let mut array = vec![0x0a];
        prost::encoding::encode_varint(value.len() as u64, &mut array);
        array.extend_from_slice(&value);
        value = vec![0x2a];
        prost::encoding::encode_varint(array.len() as u64, &mut value);
        value.extend_from_slice(&array);
    }
    let mut key_value = vec![0x0a, 0x01, b'k', 0x12];
    prost::encoding::encode_varint(value.len() as u64, &mut key_value);
    key_value.extend_from_slice(&value);
    assert!(matches!(decode_protobuf(&key_value), Err(Error::OtlpProtobuf { .. })));
}

#[test]
fn gunzip_bounds_its_output() {
    let data = vec![b'x'; 1000];
    let body = gzip(&data);
    assert_eq!(gunzip(&body, 1000).expect("within limit"), data);
    assert!(matches!(gunzip(&body, 999), Err(Error::InflatedTooLarge { limit: 999 })));
    assert!(matches!(gunzip(b"not gzip", 1000), Err(Error::Gzip { .. })));
    assert!(matches!(gunzip(&body[..body.len() / 2], 1000), Err(Error::Gzip { .. })));
    // Concatenated members are one stream, as gzip(1) writes them.
    let mut two = gzip(b"ab");
    two.extend(gzip(b"cd"));
    assert_eq!(gunzip(&two, 10).expect("valid"), b"abcd");
}

/// A gzip bomb: `members` gzip members of a MiB of zeros each, one stream
/// to gzip(1) and to the decoder.
fn zeros_bomb(members: usize) -> Vec<u8> {
    let member = gzip(&vec![0; 1 << 20]);
    member.repeat(members)
}

#[test]
fn issue_20_a_gzip_bomb_is_refused_within_its_limit() {
    let bomb = zeros_bomb(64);
    assert!(bomb.len() < 128 << 10, "64 MiB of zeros in {} bytes", bomb.len());
    let limit = 3 << 20;
    assert!(matches!(gunzip(&bomb, limit), Err(Error::InflatedTooLarge { limit: 3145728 })));
    // The buffer never grows past the limit: what is inflated within it is kept in no more.
    let inflated =
        inflate(flate2::read::MultiGzDecoder::new(&zeros_bomb(3)[..]), bomb.len(), limit).expect("at the limit");
    assert_eq!(inflated.len(), limit);
    assert!(inflated.capacity() <= limit + 1, "capacity {}", inflated.capacity());
    let small = inflate(&b"abc"[..], 3, 10).expect("small");
    assert_eq!((small.as_slice(), small.capacity()), (&b"abc"[..], 11));
}
