//! Native histograms in test scripts: the `{{…}}` notation, histogram
//! sequences, `load_with_nhcb`'s conversion of classic histograms, and
//! comparing expected with returned histograms.

use std::collections::BTreeMap;
use std::sync::Arc;

use series::histogram::CUSTOM_BUCKETS_SCHEMA;
use series::{Bucket, CounterResetHint, FloatHistogram, Labels};

use super::compare::almost_equal;
use super::syntax::parse_number;

/// One value of a series line: a float or a histogram (with whether its
/// counter-reset hint was written, so that only a written hint is compared).
#[derive(Debug, Clone)]
pub(super) enum Point {
    Float(f64),
    Histogram(Box<FloatHistogram>, bool),
}

/// Splits a values list on whitespace, keeping each `{{…}}` (and what is
/// glued to it, as in `{{A}}+{{B}}x3`) in one item.
pub(super) fn items(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let mut end = 0;
        while end < rest.len() {
            let tail = &rest[end..];
            if tail.starts_with("{{") {
                end += tail.find("}}").map_or(tail.len(), |i| i + 2);
            } else if tail.starts_with(char::is_whitespace) {
                break;
            } else {
                end += tail.chars().next().map_or(1, char::len_utf8);
            }
        }
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    out
}

/// Expands an item starting with `{{`: one histogram, `{{A}}xN`, `{{A}}+{{B}}xN` or `{{A}}-{{B}}xN`.
pub(super) fn expand(item: &str) -> Result<Vec<Point>, String> {
    let first_end = item.find("}}").ok_or_else(|| format!("unterminated histogram {item:?}"))? + 2;
    let (first, hint_stated) = parse(&item[2..first_end - 2])?;
    let rest = &item[first_end..];
    if rest.is_empty() {
        return Ok(vec![Point::Histogram(Box::new(first), hint_stated)]);
    }
    if let Some(times) = rest.strip_prefix('x') {
        let n: usize = times.parse().map_err(|_| format!("bad repetition in {item:?}"))?;
        return Ok(vec![Point::Histogram(Box::new(first), hint_stated); n + 1]);
    }
    let sign = rest.chars().next().ok_or("empty")?;
    let increment = rest[1..].strip_prefix("{{").ok_or_else(|| format!("bad histogram sequence {item:?}"))?;
    let end = increment.find("}}").ok_or_else(|| format!("unterminated histogram {item:?}"))?;
    let (step, _) = parse(&increment[..end])?;
    let n: usize = increment[end + 2..]
        .strip_prefix('x')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("bad histogram sequence {item:?}"))?;
    let mut out = Vec::with_capacity(n + 1);
    let mut current = first;
    for _ in 0..=n {
        out.push(Point::Histogram(Box::new(current.clone()), hint_stated));
        let combined = if sign == '-' { current.sub(&step) } else { current.add(&step) };
        combined.map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Parses the inside of `{{…}}`; also says whether the counter-reset hint was given.
fn parse(s: &str) -> Result<(FloatHistogram, bool), String> {
    let mut h = FloatHistogram::default();
    let (mut offset, mut n_offset) = (0i32, 0i32);
    let (mut buckets, mut n_buckets): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut hint_stated = false;
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once(':').ok_or_else(|| format!("bad histogram field in {s:?}"))?;
        let (value, after) = if let Some(list) = after.strip_prefix('[') {
            let end = list.find(']').ok_or_else(|| format!("unterminated list in {s:?}"))?;
            (&list[..end], &list[end + 1..])
        } else {
            after.split_once(char::is_whitespace).unwrap_or((after, ""))
        };
        rest = after.trim_start();
        let number = || parse_number(value).ok_or_else(|| format!("bad number {value:?}"));
        let list = || value.split_whitespace().map(|v| parse_number(v).ok_or_else(|| format!("bad number {v:?}")));
        match key.trim() {
            "schema" => h.schema = value.parse().map_err(|_| format!("bad schema {value:?}"))?,
            "sum" => h.sum = number()?,
            "count" => h.count = number()?,
            "z_bucket" => h.zero_count = number()?,
            "z_bucket_w" => h.zero_threshold = number()?,
            "offset" => offset = value.parse().map_err(|_| format!("bad offset {value:?}"))?,
            "n_offset" => n_offset = value.parse().map_err(|_| format!("bad offset {value:?}"))?,
            "buckets" => buckets = list().collect::<Result<_, _>>()?,
            "n_buckets" => n_buckets = list().collect::<Result<_, _>>()?,
            "custom_values" => h.custom_values = Arc::from(list().collect::<Result<Vec<f64>, _>>()?),
            "counter_reset_hint" => {
                hint_stated = true;
                h.counter_reset_hint = match value {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::Reset,
                    "not_reset" => CounterResetHint::NotReset,
                    "gauge" => CounterResetHint::Gauge,
                    other => return Err(format!("bad counter_reset_hint {other:?}")),
                }
            }
            other => return Err(format!("unknown histogram field {other:?}")),
        }
    }
    let at = |start: i32, counts: Vec<f64>| -> Vec<Bucket> {
        counts.into_iter().enumerate().map(|(i, count)| Bucket { index: start + i as i32, count }).collect()
    };
    h.positive = at(offset, buckets);
    h.negative = at(n_offset, n_buckets);
    Ok((h, hint_stated))
}

/// Whether `got` matches `expected` within the test tolerance; buckets are
/// compared after dropping empty ones, so layouts that differ only in empty
/// buckets or in how spans are split compare equal.
pub(super) fn matches(expected: &FloatHistogram, hint_stated: bool, got: &FloatHistogram) -> bool {
    let buckets_match = |a: &[Bucket], b: &[Bucket]| {
        let a: Vec<&Bucket> = a.iter().filter(|x| x.count != 0.0).collect();
        let b: Vec<&Bucket> = b.iter().filter(|x| x.count != 0.0).collect();
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.index == y.index && almost_equal(x.count, y.count))
    };
    expected.schema == got.schema
        && almost_equal(expected.count, got.count)
        && almost_equal(expected.sum, got.sum)
        && (!expected.uses_custom_buckets() || expected.custom_values == got.custom_values)
        && expected.zero_threshold == got.zero_threshold
        && almost_equal(expected.zero_count, got.zero_count)
        && buckets_match(&expected.positive, &got.positive)
        && buckets_match(&expected.negative, &got.negative)
        && (!hint_stated || expected.counter_reset_hint == got.counter_reset_hint)
}

/// `load_with_nhcb`: each classic histogram of the block (`X_bucket` with
/// `le`, `X_count`, `X_sum`) also as a series `X` of histograms with custom
/// bounds, one per timestamp where its buckets have samples.
pub(super) fn classic_to_nhcb(block: &[(Labels, Vec<(i64, f64)>)]) -> Vec<(Labels, Vec<(i64, FloatHistogram)>)> {
    #[derive(Default)]
    struct Classic {
        /// Per timestamp: (upper bound, cumulative count).
        buckets: BTreeMap<i64, Vec<(f64, f64)>>,
        count: BTreeMap<i64, f64>,
        sum: BTreeMap<i64, f64>,
    }
    let mut classics: BTreeMap<Labels, Classic> = BTreeMap::new();
    for (labels, samples) in block {
        let Some(name) = labels.get("__name__") else {
            continue;
        };
        let (base, kind) = if let Some(base) = name.strip_suffix("_bucket") {
            (base, 0)
        } else if let Some(base) = name.strip_suffix("_count") {
            (base, 1)
        } else if let Some(base) = name.strip_suffix("_sum") {
            (base, 2)
        } else {
            continue;
        };
        let mut builder = labels.to_builder();
        builder.set("__name__", base);
        builder.remove("le");
        let key = builder.build();
        if kind == 0 {
            let Some(le) = labels.get("le").and_then(parse_number) else {
                continue;
            };
            let classic = classics.entry(key).or_default();
            for &(t, v) in samples {
                classic.buckets.entry(t).or_default().push((le, v));
            }
        } else {
            let classic = classics.entry(key).or_default();
            let into = if kind == 1 { &mut classic.count } else { &mut classic.sum };
            into.extend(samples.iter().copied());
        }
    }
    let mut out = Vec::new();
    for (labels, classic) in classics {
        let mut histograms = Vec::new();
        for (t, mut buckets) in classic.buckets {
            if buckets.iter().any(|(_, v)| series::is_stale_nan(*v)) {
                continue;
            }
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            let bounds: Vec<f64> = buckets.iter().map(|b| b.0).filter(|b| b.is_finite()).collect();
            let mut previous = 0.0;
            let mut positive = Vec::with_capacity(buckets.len());
            for (i, &(_, cumulative)) in buckets.iter().enumerate() {
                positive.push(Bucket { index: i as i32, count: cumulative - previous });
                previous = cumulative;
            }
            let h = FloatHistogram {
                schema: CUSTOM_BUCKETS_SCHEMA,
                count: classic.count.get(&t).copied().unwrap_or(previous),
                sum: classic.sum.get(&t).copied().unwrap_or(0.0),
                positive,
                custom_values: Arc::from(bounds),
                ..FloatHistogram::default()
            };
            histograms.push((t, h));
        }
        if !histograms.is_empty() {
            out.push((labels, histograms));
        }
    }
    out
}

/// The counter-reset hints Prometheus's store gives histograms it reads
/// back: a sample after another of the series says `not_reset`, or `reset`
/// where it detects one; the first sample and gauges keep theirs.
pub(super) fn with_stored_hints(mut histograms: Vec<(i64, FloatHistogram)>) -> Vec<(i64, FloatHistogram)> {
    for i in 1..histograms.len() {
        if histograms[i].1.counter_reset_hint != CounterResetHint::Unknown {
            continue;
        }
        let reset = histograms[i].1.detect_reset(&histograms[i - 1].1);
        histograms[i].1.counter_reset_hint = if reset { CounterResetHint::Reset } else { CounterResetHint::NotReset };
    }
    histograms
}
