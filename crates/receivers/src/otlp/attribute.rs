//! OTel attributes as Prometheus labels: names sanitized, values as text.

use base64::Engine as _;

use super::name::label_name;
use super::proto::{AnyValue, KeyValue, any_value};

/// Attributes as labels, sorted by name: names sanitized, values as text.
/// Attributes whose names collide once sanitized have their values joined
/// by `;` in the order of their original keys, as Prometheus does.
pub(crate) fn attribute_labels(attributes: &[KeyValue]) -> Vec<(String, String)> {
    let mut labels: Vec<(String, &str, String)> = attributes
        .iter()
        .filter_map(|kv| Some((label_name(&kv.key)?, kv.key.as_str(), attribute_value(kv.value.as_ref()))))
        .collect();
    labels.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut merged: Vec<(String, String)> = Vec::with_capacity(labels.len());
    for (name, _, value) in labels {
        match merged.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(';');
                joined.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    merged
}

/// An attribute value as a label value, as OpenTelemetry's `AsString` writes
/// it: text as is, lists and maps as JSON, bytes in base64.
pub(crate) fn attribute_value(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(f)) => format_attribute_double(*f),
        Some(any_value::Value::BytesValue(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Some(value @ (any_value::Value::ArrayValue(_) | any_value::Value::KvlistValue(_))) => {
            json_value(Some(value)).to_string()
        }
    }
}

fn json_value(value: Option<&any_value::Value>) -> serde_json::Value {
    match value {
        None => serde_json::Value::Null,
        Some(any_value::Value::StringValue(s)) => s.clone().into(),
        Some(any_value::Value::BoolValue(b)) => (*b).into(),
        Some(any_value::Value::IntValue(i)) => (*i).into(),
        Some(any_value::Value::DoubleValue(f)) => (*f).into(),
        Some(any_value::Value::BytesValue(bytes)) => base64::engine::general_purpose::STANDARD.encode(bytes).into(),
        Some(any_value::Value::ArrayValue(array)) => {
            array.values.iter().map(|v| json_value(v.value.as_ref())).collect::<Vec<_>>().into()
        }
        Some(any_value::Value::KvlistValue(list)) => list
            .values
            .iter()
            .map(|kv| (kv.key.clone(), json_value(kv.value.as_ref().and_then(|v| v.value.as_ref()))))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

/// A float attribute as OpenTelemetry writes it: like a JavaScript number,
/// plain decimal between 1e-6 and 1e21, exponent notation outside.
fn format_attribute_double(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return f.to_string();
    }
    let mut text = format!("{f:e}");
    if let Some(at) = text.find('e')
        && !text[at + 1..].starts_with('-')
    {
        text.insert(at + 1, '+');
    }
    text
}

#[cfg(test)]
mod tests;
