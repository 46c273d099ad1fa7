//! Tests of the OTLP/JSON mapping's numbers and oneofs.

use super::*;

#[derive(Debug, Deserialize)]
struct Numbers {
    #[serde(deserialize_with = "number")]
    unsigned: u64,
    #[serde(deserialize_with = "number")]
    signed: i64,
    #[serde(deserialize_with = "numbers")]
    floats: Vec<f64>,
}

fn check(json: &str, expect: &str) {
    let got = match serde_json::from_str::<Numbers>(json) {
        Ok(n) => format!("{} {} {:?}", n.unsigned, n.signed, n.floats),
        // Positions are serde_json's business; the message is ours.
        Err(error) => error.to_string().split(" at line").next().unwrap_or_default().to_owned(),
    };
    assert_eq!(got, expect, "{json}");
}

#[test]
fn sixty_four_bit_numbers_are_read_from_strings_or_numbers() {
    check(r#"{"unsigned": "18446744073709551615", "signed": "-5", "floats": []}"#, "18446744073709551615 -5 []");
    check(
        r#"{"unsigned": 17, "signed": -9223372036854775808, "floats": [1, "2.5", 3e2]}"#,
        "17 -9223372036854775808 [1.0, 2.5, 300.0]",
    );
    check(r#"{"unsigned": 1e3, "signed": 2.0, "floats": ["NaN", "Infinity", "-Infinity"]}"#, "1000 2 [NaN, inf, -inf]");
}

#[test]
fn malformed_numbers_are_errors() {
    check(
        r#"{"unsigned": -1, "signed": 0, "floats": []}"#,
        "invalid value: integer `-1`, expected an unsigned 64-bit integer, as a number or a string",
    );
    check(
        r#"{"unsigned": "x", "signed": 0, "floats": []}"#,
        "invalid value: string \"x\", expected an unsigned 64-bit integer, as a number or a string",
    );
    check(
        r#"{"unsigned": 1.5, "signed": 0, "floats": []}"#,
        "invalid value: floating point `1.5`, expected an unsigned 64-bit integer, as a number or a string",
    );
    check(
        r#"{"unsigned": 1, "signed": 0, "floats": ["inf"]}"#,
        "invalid value: string \"inf\", expected a number, or \"NaN\", \"Infinity\" or \"-Infinity\"",
    );
    check(
        r#"{"unsigned": true, "signed": 0, "floats": []}"#,
        "invalid type: boolean `true`, expected an unsigned 64-bit integer, as a number or a string",
    );
}

#[test]
fn oneofs_take_the_field_that_is_present() {
    let value: proto::AnyValue = serde_json::from_str(r#"{"intValue": "42"}"#).expect("valid");
    assert_eq!(value.value, Some(any_value::Value::IntValue(42)));
    let value: proto::AnyValue = serde_json::from_str(r#"{"bytesValue": "aGk="}"#).expect("valid");
    assert_eq!(value.value, Some(any_value::Value::BytesValue(b"hi".to_vec())));
    let value: proto::AnyValue = serde_json::from_str(r#"{}"#).expect("valid");
    assert_eq!(value.value, None);
    assert!(serde_json::from_str::<proto::AnyValue>(r#"{"bytesValue": "not base64!"}"#).is_err());

    let point: proto::NumberDataPoint =
        serde_json::from_str(r#"{"timeUnixNano": "1000000", "asInt": "7", "flags": 1}"#).expect("valid");
    assert_eq!(
        (point.time_unix_nano, point.value, point.flags),
        (1_000_000, Some(number_data_point::Value::AsInt(7)), 1)
    );

    let metric: proto::Metric =
        serde_json::from_str(r#"{"name": "up", "unit": "1", "gauge": {"dataPoints": [{"asDouble": 1}]}, "extra": 5}"#)
            .expect("unknown fields are ignored");
    assert!(matches!(metric.data, Some(metric::Data::Gauge(ref gauge)) if gauge.data_points.len() == 1));
}
