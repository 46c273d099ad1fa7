//! Start timestamps in test scripts: a `name{…}@st <items>` line gives, per
//! sample of the series line that follows it, the sample's start timestamp
//! as an offset from the sample's own time (FORMAT.md §3).

use series::{Labels, LabelsBuilder, METRIC_NAME};

use super::syntax::{parse_duration, parse_series};

/// The suffix that marks a line of start-timestamp offsets.
const MARKER: &str = "@st";

/// A start-timestamp line: the series it is for, and per position of its
/// series line an offset from the sample's time (in milliseconds) or a gap.
pub(super) type Offsets = (Labels, Vec<Option<i64>>);

/// Reads a start-timestamp line; `None` when the line is a series line.
pub(super) fn parse_line(line: &str) -> Result<Option<Offsets>, String> {
    let (labels, rest) = parse_series(line)?;
    let named_marker = labels.get(METRIC_NAME).and_then(|name| name.strip_suffix(MARKER)).map(str::to_owned);
    let (labels, items) = match (named_marker, rest.strip_prefix(MARKER)) {
        (Some(name), _) => {
            let mut builder: LabelsBuilder = labels.to_builder();
            builder.set(METRIC_NAME, &name);
            (builder.build(), rest)
        }
        (None, Some(items)) => (labels, items),
        (None, None) => return Ok(None),
    };
    let mut offsets = Vec::new();
    for item in items.split_whitespace() {
        expand(item, &mut offsets)?;
    }
    Ok(Some((labels, offsets)))
}

/// Expands one item: `_`, `_xN`, `<dur>`, `<dur>xN` (N+1 copies) or
/// `<dur>±<dur>xN` (N+1 offsets, each one step further).
fn expand(item: &str, out: &mut Vec<Option<i64>>) -> Result<(), String> {
    let (base, repeat) = match item.rsplit_once('x') {
        Some((base, n)) => (base, Some(n.parse::<usize>().map_err(|_| format!("bad repeat in {item:?}"))?)),
        None => (item, None),
    };
    if base == "_" {
        out.extend(std::iter::repeat_n(None, repeat.unwrap_or(1)));
        return Ok(());
    }
    // An operator after the first character separates the start from the step.
    let split = base.char_indices().skip(1).find(|&(_, c)| c == '+' || c == '-').map(|(i, _)| i);
    let (first, step) = match split {
        Some(i) => {
            let step = signed_duration(&base[i + 1..])?;
            (signed_duration(&base[..i])?, if &base[i..=i] == "-" { -step } else { step })
        }
        None => (signed_duration(base)?, 0),
    };
    let mut offset = first;
    out.push(Some(offset));
    for _ in 0..repeat.unwrap_or(0) {
        offset += step;
        out.push(Some(offset));
    }
    Ok(())
}

/// A duration with an optional sign.
fn signed_duration(s: &str) -> Result<i64, String> {
    parse_duration(s.strip_prefix('+').unwrap_or(s))
}
