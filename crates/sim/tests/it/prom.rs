//! A small reader and checker of Prometheus text format 0.0.4, strict where the format is.

use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One sample line.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A family: its `# TYPE` name and kind, and its samples.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

impl Family {
    /// Sorted label-name lists of its samples (the `le` label included).
    pub fn label_sets(&self) -> BTreeSet<Vec<String>> {
        self.samples
            .iter()
            .map(|s| {
                let mut names: Vec<String> = s.labels.iter().map(|(k, _)| k.clone()).collect();
                names.sort();
                names
            })
            .collect()
    }

    /// Distinct `le` values in first-seen order.
    pub fn buckets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.samples {
            if let Some(le) = s.label("le")
                && !out.iter().any(|b| b == le)
            {
                out.push(le.to_owned());
            }
        }
        out
    }
}

/// Parses a page, checking the text format's rules; `Err` lists every violation.
pub fn parse(page: &str) -> Result<Vec<Family>, Vec<String>> {
    let mut problems = Vec::new();
    let mut families: Vec<Family> = Vec::new();
    let mut seen_types = HashSet::new();
    let mut pending_help: Option<String> = None;
    let mut series = HashSet::new();
    for (n, line) in page.lines().enumerate() {
        let n = n + 1;
        if line.is_empty() {
            problems.push(format!("line {n}: empty line"));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default().to_owned();
            pending_help = Some(name);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap_or_default().to_owned();
            let kind = parts.next().unwrap_or_default().to_owned();
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind.as_str()) {
                problems.push(format!("line {n}: bad type {kind:?}"));
            }
            if !valid_metric_name(&name) {
                problems.push(format!("line {n}: bad metric name {name:?}"));
            }
            if pending_help.as_deref() != Some(name.as_str()) {
                problems.push(format!("line {n}: TYPE {name} without HELP right before it"));
            }
            if !seen_types.insert(name.clone()) {
                problems.push(format!("line {n}: second TYPE for {name}"));
            }
            pending_help = None;
            families.push(Family { name, kind, samples: Vec::new() });
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let sample = match parse_sample(line) {
            Ok(sample) => sample,
            Err(err) => {
                problems.push(format!("line {n}: {err}: {line}"));
                continue;
            }
        };
        let Some(family) = families.last_mut() else {
            problems.push(format!("line {n}: sample before any TYPE"));
            continue;
        };
        let allowed: Vec<String> = match family.kind.as_str() {
            "histogram" => ["_bucket", "_sum", "_count"].iter().map(|s| format!("{}{s}", family.name)).collect(),
            "summary" => ["", "_sum", "_count"].iter().map(|s| format!("{}{s}", family.name)).collect(),
            _ => vec![family.name.clone()],
        };
        if !allowed.contains(&sample.name) {
            problems.push(format!("line {n}: sample {} does not belong to family {}", sample.name, family.name));
        }
        let mut label_names = HashSet::new();
        for (k, _) in &sample.labels {
            if !valid_label_name(k) || !label_names.insert(k.clone()) {
                problems.push(format!("line {n}: bad or repeated label name {k:?}"));
            }
        }
        let key = format!("{}{:?}", sample.name, sample.labels);
        if !series.insert(key) {
            problems.push(format!("line {n}: duplicate series"));
        }
        family.samples.push(sample);
    }
    for family in families.iter().filter(|f| f.kind == "histogram") {
        check_histogram(family, &mut problems);
    }
    if problems.is_empty() { Ok(families) } else { Err(problems) }
}

/// Buckets `(le, cumulative count)` and `_count` of one label set.
type Series = (Vec<(f64, f64)>, Option<f64>);

fn check_histogram(family: &Family, problems: &mut Vec<String>) {
    let mut groups: BTreeMap<Vec<(String, String)>, Series> = BTreeMap::new();
    for s in &family.samples {
        let key: Vec<(String, String)> = s.labels.iter().filter(|(k, _)| k != "le").cloned().collect();
        let entry = groups.entry(key).or_default();
        if s.name.ends_with("_bucket") {
            let le = s.label("le").map(parse_value).and_then(Result::ok);
            match le {
                Some(le) => entry.0.push((le, s.value)),
                None => problems.push(format!("{}: bucket without a valid le", family.name)),
            }
        } else if s.name.ends_with("_count") {
            entry.1 = Some(s.value);
        }
    }
    for (labels, (buckets, count)) in groups {
        let increasing = buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        let inf = buckets.last().filter(|(le, _)| le.is_infinite()).map(|(_, v)| *v);
        if !increasing || inf.is_none() || inf != count {
            problems.push(format!("{} {labels:?}: buckets not cumulative or +Inf != _count", family.name));
        }
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (name_end, rest) = match line.find(['{', ' ']) {
        Some(i) => (i, &line[i..]),
        None => return Err("no value".into()),
    };
    let name = line[..name_end].to_owned();
    if !valid_metric_name(&name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = Vec::new();
    let mut rest = rest;
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let mut label_name = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '}' if label_name.is_empty() => {
                    end = Some(i + 1);
                    break;
                }
                '=' => {
                    if chars.next().map(|(_, c)| c) != Some('"') {
                        return Err("label value not quoted".into());
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next() {
                            Some((_, '\\')) => match chars.next() {
                                Some((_, 'n')) => value.push('\n'),
                                Some((_, '\\')) => value.push('\\'),
                                Some((_, '"')) => value.push('"'),
                                _ => return Err("bad escape".into()),
                            },
                            Some((_, '"')) => break,
                            Some((_, '\n')) | None => return Err("unterminated label value".into()),
                            Some((_, c)) => value.push(c),
                        }
                    }
                    labels.push((std::mem::take(&mut label_name), value));
                    match chars.next() {
                        Some((_, ',')) => {}
                        Some((i, '}')) => {
                            end = Some(i + 1);
                            break;
                        }
                        _ => return Err("expected , or } after a label".into()),
                    }
                }
                c => label_name.push(c),
            }
        }
        let end = end.ok_or("unterminated label set")?;
        rest = &body[end..];
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let mut parts = rest.split(' ');
    let value = parse_value(parts.next().unwrap_or_default())?;
    if let Some(ts) = parts.next()
        && ts.parse::<i64>().is_err()
    {
        return Err("bad timestamp".into());
    }
    if parts.next().is_some() {
        return Err("trailing text".into());
    }
    Ok(Sample { name, labels, value })
}

pub fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text.parse::<f64>().map_err(|_| format!("bad value {text:?}")),
    }
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// The value of the first sample named `name` whose labels include `labels`.
pub fn value(families: &[Family], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    families
        .iter()
        .flat_map(|f| &f.samples)
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(v)))
        .map(|s| s.value)
}

/// Sum of all samples named `name`.
pub fn sum(families: &[Family], name: &str) -> f64 {
    families.iter().flat_map(|f| &f.samples).filter(|s| s.name == name).map(|s| s.value).sum()
}

#[test]
fn the_checker_rejects_broken_pages() {
    assert!(parse("# HELP a x\n# TYPE a gauge\na 1\n").is_ok());
    assert!(parse("# TYPE a gauge\na 1\n").is_err(), "TYPE without HELP");
    assert!(parse("# HELP a x\n# TYPE a gauge\nb 1\n").is_err(), "foreign sample");
    assert!(parse("# HELP a x\n# TYPE a gauge\na{x=\"1} 1\n").is_err(), "unterminated value");
    let bad_hist =
        "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 2.0\nh_bucket{le=\"+Inf\"} 1.0\nh_count 1.0\nh_sum 1.0\n";
    assert!(parse(bad_hist).is_err(), "non-cumulative histogram");
}
