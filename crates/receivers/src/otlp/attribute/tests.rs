//! Tests of attribute names and values as labels.

use super::*;

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(value) }) }
}

fn text(key: &str, value: &str) -> KeyValue {
    attribute(key, any_value::Value::StringValue(value.to_owned()))
}

#[test]
fn values_are_written_as_opentelemetry_writes_them() {
    let check = |value: any_value::Value, expect: &str| {
        assert_eq!(attribute_value(Some(&AnyValue { value: Some(value.clone()) })), expect, "{value:?}");
    };
    check(any_value::Value::StringValue("gpt-4o".into()), "gpt-4o");
    check(any_value::Value::BoolValue(false), "false");
    check(any_value::Value::IntValue(-42), "-42");
    check(any_value::Value::DoubleValue(0.25), "0.25");
    check(any_value::Value::DoubleValue(1e21), "1e+21");
    check(any_value::Value::DoubleValue(1e-7), "1e-7");
    check(any_value::Value::DoubleValue(123.0), "123");
    check(any_value::Value::DoubleValue(f64::NAN), "NaN");
    check(any_value::Value::DoubleValue(f64::NEG_INFINITY), "-Inf");
    check(any_value::Value::BytesValue(vec![0, 255]), "AP8=");
    let list = super::super::proto::ArrayValue {
        values: vec![
            AnyValue { value: Some(any_value::Value::IntValue(1)) },
            AnyValue { value: None },
            AnyValue { value: Some(any_value::Value::BytesValue(b"hi".to_vec())) },
        ],
    };
    check(any_value::Value::ArrayValue(list), r#"[1,null,"aGk="]"#);
    assert_eq!(attribute_value(None), "");
    assert_eq!(attribute_value(Some(&AnyValue { value: None })), "");
}

#[test]
fn labels_are_sorted_and_colliding_names_joined_in_key_order() {
    let labels = attribute_labels(&[
        text("service.version", "1.2"),
        text("a_b", "underscore"),
        text("a.b", "dot"),
        text("a-b", "dash"),
        text("", "no name"),
        text("...", "no name either"),
    ]);
    let expect = [("a_b", "dash;dot;underscore"), ("service_version", "1.2")];
    assert_eq!(labels, expect.map(|(n, v)| (n.to_owned(), v.to_owned())));
}
