//! The parts of the OTLP/JSON mapping that serde's derive cannot express.
//!
//! Protobuf's JSON mapping writes 64-bit integers as decimal strings (numbers
//! are accepted too), floats as numbers or `"NaN"`, `"Infinity"`,
//! `"-Infinity"`, and a `oneof` as whichever of its fields is present. The
//! [`number`] family of functions reads the former; the flat mirrors below
//! read the latter and convert into the prost messages of [`proto`].

use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::proto::{self, any_value, metric, number_data_point};

/// A number that OTLP/JSON may write as a JSON number or a string.
pub(crate) trait JsonNumber: Sized {
    const EXPECTED: &'static str;
    fn from_u64(v: u64) -> Option<Self>;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_f64(v: f64) -> Option<Self>;
    fn from_text(v: &str) -> Option<Self>;
}

impl JsonNumber for u64 {
    const EXPECTED: &'static str = "an unsigned 64-bit integer, as a number or a string";
    fn from_u64(v: u64) -> Option<Self> {
        Some(v)
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok()
    }
    fn from_f64(v: f64) -> Option<Self> {
        // serde_json reads `1e3` and `5.0` as floats; integral ones are fine.
        (v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v)).then_some(v as u64)
    }
    fn from_text(v: &str) -> Option<Self> {
        v.parse().ok()
    }
}

impl JsonNumber for i64 {
    const EXPECTED: &'static str = "a 64-bit integer, as a number or a string";
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_f64(v: f64) -> Option<Self> {
        (v.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v))
            .then_some(v as i64)
    }
    fn from_text(v: &str) -> Option<Self> {
        v.parse().ok()
    }
}

impl JsonNumber for f64 {
    const EXPECTED: &'static str = "a number, or \"NaN\", \"Infinity\" or \"-Infinity\"";
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
    fn from_text(v: &str) -> Option<Self> {
        match v {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            // Rust would also read "inf" and "nan", which the mapping does not allow.
            _ if v.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') => None,
            _ => v.parse().ok(),
        }
    }
}

/// A [`JsonNumber`] read from either spelling.
struct Lenient<T>(T);

impl<'de, T: JsonNumber> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LenientVisitor<T>(PhantomData<T>);

        impl<T: JsonNumber> LenientVisitor<T> {
            fn check<E: de::Error>(value: Option<T>, unexpected: de::Unexpected<'_>) -> Result<Lenient<T>, E> {
                value.map(Lenient).ok_or_else(|| E::invalid_value(unexpected, &T::EXPECTED))
            }
        }

        impl<T: JsonNumber> Visitor<'_> for LenientVisitor<T> {
            type Value = Lenient<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient<T>, E> {
                Self::check(T::from_u64(v), de::Unexpected::Unsigned(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient<T>, E> {
                Self::check(T::from_i64(v), de::Unexpected::Signed(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lenient<T>, E> {
                Self::check(T::from_f64(v), de::Unexpected::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient<T>, E> {
                Self::check(T::from_text(v), de::Unexpected::Str(v))
            }
        }

        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

/// Reads a number written as a number or a string.
pub(crate) fn number<'de, D: Deserializer<'de>, T: JsonNumber>(deserializer: D) -> Result<T, D::Error> {
    Lenient::deserialize(deserializer).map(|n| n.0)
}

/// Reads an optional number (`null` or absent means none).
pub(crate) fn optional_number<'de, D: Deserializer<'de>, T: JsonNumber>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<Lenient<T>>::deserialize(deserializer).map(|n| n.map(|n| n.0))
}

/// Reads an array of numbers, each written as a number or a string.
pub(crate) fn numbers<'de, D: Deserializer<'de>, T: JsonNumber>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Vec::<Lenient<T>>::deserialize(deserializer).map(|v| v.into_iter().map(|n| n.0).collect())
}

/// [`proto::Metric`] as OTLP/JSON writes it: the `data` oneof flattened.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Metric {
    name: String,
    description: String,
    unit: String,
    gauge: Option<proto::Gauge>,
    sum: Option<proto::Sum>,
    histogram: Option<proto::Histogram>,
    exponential_histogram: Option<proto::ExponentialHistogram>,
    summary: Option<proto::Summary>,
}

impl From<Metric> for proto::Metric {
    fn from(json: Metric) -> Self {
        // A valid message sets one; if a sender sets several, the first wins.
        let data = json
            .gauge
            .map(metric::Data::Gauge)
            .or(json.sum.map(metric::Data::Sum))
            .or(json.histogram.map(metric::Data::Histogram))
            .or(json.exponential_histogram.map(metric::Data::ExponentialHistogram))
            .or(json.summary.map(metric::Data::Summary));
        proto::Metric { name: json.name, description: json.description, unit: json.unit, data }
    }
}

/// [`proto::NumberDataPoint`] as OTLP/JSON writes it: `asDouble` or `asInt`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NumberDataPoint {
    attributes: Vec<proto::KeyValue>,
    #[serde(deserialize_with = "number")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "number")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "optional_number")]
    as_double: Option<f64>,
    #[serde(deserialize_with = "optional_number")]
    as_int: Option<i64>,
    flags: u32,
}

impl From<NumberDataPoint> for proto::NumberDataPoint {
    fn from(json: NumberDataPoint) -> Self {
        let value =
            json.as_double.map(number_data_point::Value::AsDouble).or(json.as_int.map(number_data_point::Value::AsInt));
        proto::NumberDataPoint {
            attributes: json.attributes,
            start_time_unix_nano: json.start_time_unix_nano,
            time_unix_nano: json.time_unix_nano,
            value,
            flags: json.flags,
        }
    }
}

/// [`proto::AnyValue`] as OTLP/JSON writes it: one of its typed fields.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct AnyValue {
    string_value: Option<String>,
    bool_value: Option<bool>,
    #[serde(deserialize_with = "optional_number")]
    int_value: Option<i64>,
    #[serde(deserialize_with = "optional_number")]
    double_value: Option<f64>,
    array_value: Option<proto::ArrayValue>,
    kvlist_value: Option<proto::KeyValueList>,
    #[serde(deserialize_with = "base64_bytes")]
    bytes_value: Option<Vec<u8>>,
}

impl From<AnyValue> for proto::AnyValue {
    fn from(json: AnyValue) -> Self {
        let value = json
            .string_value
            .map(any_value::Value::StringValue)
            .or(json.bool_value.map(any_value::Value::BoolValue))
            .or(json.int_value.map(any_value::Value::IntValue))
            .or(json.double_value.map(any_value::Value::DoubleValue))
            .or(json.array_value.map(any_value::Value::ArrayValue))
            .or(json.kvlist_value.map(any_value::Value::KvlistValue))
            .or(json.bytes_value.map(any_value::Value::BytesValue));
        proto::AnyValue { value }
    }
}

/// Reads `bytes`, which the JSON mapping writes in standard base64.
fn base64_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else { return Ok(None) };
    base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map(Some)
        .map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&text), &"base64"))
}

#[cfg(test)]
mod tests;
