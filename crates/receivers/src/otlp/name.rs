//! OTel metric and attribute names to Prometheus names.
//!
//! Follows Prometheus 3's default translation strategy,
//! `UnderscoreEscapingWithSuffixes` (its `otlptranslator` package): the
//! metric name is split into tokens at every character outside
//! `[a-zA-Z0-9:]` (so dots become underscores and runs of underscores
//! collapse), the unit's Prometheus word is appended unless a token already
//! says it (`s` → `seconds`, `By` → `bytes`, `By/s` → `bytes_per_second`;
//! annotations such as `{token}` add nothing), then `total` for monotonic
//! counters and `ratio` for gauges of unit `1`. Attribute names have every
//! character outside `[a-zA-Z0-9_]` replaced by `_`, runs kept, and get a
//! `key` prefix when they start with a digit or a single underscore.

/// How a metric is exposed, which decides its suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// A gauge: `_ratio` when the unit is `1`.
    Gauge,
    /// A monotonic sum: `_total`.
    MonotonicCounter,
    /// A sum that can go down: exposed as a gauge, with no type suffix.
    NonMonotonicCounter,
    /// A histogram; `_bucket`, `_sum` and `_count` are added per series.
    Histogram,
    /// A summary; `_sum` and `_count` are added per series.
    Summary,
}

/// The Prometheus metric name of an OTel metric, or `None` if it comes out
/// empty (no character of `[a-zA-Z0-9:]`, no unit and no type suffix).
pub fn metric_name(name: &str, unit: &str, metric_type: MetricType) -> Option<String> {
    let mut tokens: Vec<&str> = name.split(|c: char| !is_metric_char(c)).filter(|t| !t.is_empty()).collect();
    let (main_unit, per_unit) = unit_suffixes(unit);
    let main_unit = main_unit.filter(|u| !tokens.contains(&u.as_str()));
    let per_unit = per_unit.filter(|u| !tokens.contains(&u.as_str()));
    if let Some(unit) = &main_unit {
        tokens.push(unit);
    }
    if let Some(unit) = &per_unit {
        tokens.push(unit);
    }
    if metric_type == MetricType::MonotonicCounter {
        tokens.retain(|t| *t != "total");
        tokens.push("total");
    }
    if unit == "1" && metric_type == MetricType::Gauge {
        tokens.retain(|t| *t != "ratio");
        tokens.push("ratio");
    }
    let mut normalized = tokens.join("_");
    if normalized.starts_with(|c: char| c.is_ascii_digit()) {
        normalized.insert(0, '_');
    }
    Some(normalized).filter(|n| !n.is_empty())
}

/// The Prometheus label name of an attribute key, or `None` if the key is
/// empty or made only of underscores once sanitized.
pub fn label_name(key: &str) -> Option<String> {
    let mut name: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if name.bytes().all(|b| b == b'_') {
        return None;
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "key_");
    } else if name.starts_with('_') && !name.starts_with("__") {
        name.insert_str(0, "key");
    }
    Some(name)
}

fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

/// The unit's main and per-unit suffixes, `By/s` → (`bytes`, `per_second`),
/// already cleaned to metric-name characters.
fn unit_suffixes(unit: &str) -> (Option<String>, Option<String>) {
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main.trim(), Some(per.trim())),
        None => (unit.trim(), None),
    };
    let is_word = |u: &&str| !u.is_empty() && !u.contains(['{', '}']);
    let main = Some(main).filter(is_word).map(|u| clean_unit(main_unit_word(u)));
    let per = per.filter(is_word).map(|u| clean_unit(per_unit_word(u)));
    (main.filter(|u| !u.is_empty()), per.filter(|u| !u.is_empty()).map(|u| format!("per_{u}")))
}

/// Replaces characters outside `[a-zA-Z0-9:]` by `_`, collapses runs and trims
/// a leading one; a trailing one goes too, since it would double up on joining.
fn clean_unit(unit: &str) -> String {
    let mut cleaned = String::with_capacity(unit.len());
    for c in unit.chars() {
        let c = if is_metric_char(c) { c } else { '_' };
        if !(c == '_' && (cleaned.is_empty() || cleaned.ends_with('_'))) {
            cleaned.push(c);
        }
    }
    while cleaned.ends_with('_') {
        cleaned.pop();
    }
    cleaned
}

fn main_unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

#[cfg(test)]
mod tests;
