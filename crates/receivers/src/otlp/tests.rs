//! Tests of encoding selection, limits, settings and error statuses.

use axum::http::HeaderValue;

use super::*;

fn check(content_type: &str, content_encoding: Option<&str>, expect: Result<(Encoding, bool), &str>) {
    let mut headers = HeaderMap::new();
    if !content_type.is_empty() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).expect("valid header"));
    }
    if let Some(encoding) = content_encoding {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_str(encoding).expect("valid header"));
    }
    let got = encoding_of(&headers).map_err(|error| error.to_string());
    assert_eq!(got, expect.map_err(str::to_owned), "{content_type:?} {content_encoding:?}");
}

#[test]
fn headers_select_the_encoding_and_compression() {
    check("application/x-protobuf", None, Ok((Encoding::Protobuf, false)));
    check("application/json", Some("gzip"), Ok((Encoding::Json, true)));
    check("Application/JSON; charset=utf-8", Some(" GZIP "), Ok((Encoding::Json, true)));
    check("application/x-protobuf", Some("identity"), Ok((Encoding::Protobuf, false)));
    check(
        "application/grpc",
        None,
        Err(r#"unsupported Content-Type "application/grpc": expected application/x-protobuf or application/json"#),
    );
    check("", None, Err(r#"unsupported Content-Type "": expected application/x-protobuf or application/json"#));
    check("application/json", Some("zstd"), Err(r#"unsupported Content-Encoding "zstd": expected gzip or none"#));
}

#[test]
fn gzip_bodies_may_exceed_the_limit_by_gzip_overhead_only() {
    assert_eq!(max_body_bytes(1000, false), 1000);
    assert_eq!(max_body_bytes(1 << 20, true), (1 << 20) + 1024 + 64);
    assert_eq!(max_body_bytes(usize::MAX, true), usize::MAX);
}

#[test]
fn config_defaults_and_rejects_unknown_keys() {
    let config: OtlpConfig = serde_json::from_str("{}").expect("defaults");
    assert_eq!(config, OtlpConfig { max_decompressed_bytes: 32 << 20, max_delta_series: 100_000 });
    let config: OtlpConfig = serde_json::from_str(r#"{"max_delta_series": 10}"#).expect("valid");
    assert_eq!(config.max_delta_series, 10);
    assert!(serde_json::from_str::<OtlpConfig>(r#"{"max_series": 10}"#).is_err());
}

#[test]
fn statuses_follow_otlp_http() {
    let check = |error: Error, status: StatusCode, code: i32| {
        assert_eq!((status_of(&error), grpc_code(status_of(&error))), (status, code), "{error}");
    };
    check(Error::UnsupportedOtlpMediaType { content_type: "x".into() }, StatusCode::UNSUPPORTED_MEDIA_TYPE, 3);
    check(Error::InflatedTooLarge { limit: 1 }, StatusCode::PAYLOAD_TOO_LARGE, 8);
    check(Error::BodyTooLarge { limit: 1 }, StatusCode::PAYLOAD_TOO_LARGE, 8);
    check(Error::Gzip { source: std::io::ErrorKind::InvalidData.into() }, StatusCode::BAD_REQUEST, 3);
    let unavailable =
        series::Error::Unavailable { reason: "WAL full".into(), source: std::io::ErrorKind::Other.into() };
    check(Error::Commit { source: unavailable }, StatusCode::SERVICE_UNAVAILABLE, 14);
}
