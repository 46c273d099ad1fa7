//! The script language's own syntax: durations, numbers, value sequences, series and quoted strings.

use series::{Labels, STALE_NAN};

use super::histogram::{self, Point};

/// A Prometheus duration (`1h30m`, `0`, `-5m`) in milliseconds.
pub(super) fn parse_duration(s: &str) -> Result<i64, String> {
    let (negative, unsigned) = s.strip_prefix('-').map_or((false, s), |rest| (true, rest));
    let ms = i64::try_from(series::parse_duration(unsigned)?.as_millis()).map_err(|_| format!("{s:?} is too long"))?;
    Ok(if negative { -ms } else { ms })
}

/// A sample value: decimal, hex, `Inf`, `NaN`, with sign.
pub(super) fn parse_number(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (negative, body) = match lower.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    let v = match body {
        "inf" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if body.starts_with("0x") => i64::from_str_radix(&body[2..], 16).ok()? as f64,
        _ if body.starts_with(|c: char| c.is_ascii_digit() || c == '.') && !body.contains("inf") => {
            body.parse().ok()?
        }
        _ => return None,
    };
    Some(if negative { -v } else { v })
}

/// Expands a series' value items; `None` is a position without a sample.
pub(super) fn parse_values(s: &str) -> Result<Vec<Option<Point>>, String> {
    let mut out = Vec::new();
    for item in histogram::items(s) {
        if item == "_" {
            out.push(None);
            continue;
        }
        if item == "stale" {
            out.push(Some(Point::Float(STALE_NAN)));
            continue;
        }
        if item.starts_with("{{") {
            out.extend(histogram::expand(item)?.into_iter().map(Some));
            continue;
        }
        // `0x59` is 0 repeated, not hex: repetition wins.
        let repetition = item.rsplit_once('x').and_then(|(head, times)| Some((head, times.parse::<usize>().ok()?)));
        let Some((head, times)) = repetition else {
            out.push(Some(Point::Float(parse_number(item).ok_or_else(|| format!("bad value {item:?}"))?)));
            continue;
        };
        if head == "_" {
            out.extend(std::iter::repeat_n(None, times));
            continue;
        }
        if let Some(v) = parse_number(head) {
            out.extend(std::iter::repeat_n(Some(Point::Float(v)), times + 1));
            continue;
        }
        let mut parsed = None;
        for (i, c) in head.char_indices().skip(1) {
            if (c == '+' || c == '-')
                && !head[..i].ends_with(['e', 'E'])
                && let (Some(a), Some(b)) = (parse_number(&head[..i]), parse_number(&head[i + 1..]))
            {
                parsed = Some((a, if c == '-' { -b } else { b }));
                break;
            }
        }
        let (mut v, step) = parsed.ok_or_else(|| format!("bad value {item:?}"))?;
        for _ in 0..=times {
            out.push(Some(Point::Float(v)));
            v += step;
        }
    }
    Ok(out)
}

/// Splits `metric{l="v"} rest` into labels and the rest.
pub(super) fn parse_series(line: &str) -> Result<(Labels, &str), String> {
    let line = line.trim();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace()).unwrap_or(line.len());
    let name = &line[..name_end];
    if !name.is_empty() {
        pairs.push(("__name__".to_owned(), name.to_owned()));
    }
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut s = inner.trim_start();
        loop {
            s = s.trim_start();
            if let Some(after) = s.strip_prefix('}') {
                rest = after;
                break;
            }
            let (label, after) = if s.starts_with(['"', '\'', '`']) {
                let (quoted, after) = take_quoted(s)?;
                (quoted, after)
            } else {
                let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(s.len());
                (s[..end].to_owned(), &s[end..])
            };
            let after = after.trim_start();
            if let Some(after) = after.strip_prefix('=') {
                let (value, after) = take_quoted(after.trim_start())?;
                pairs.push((label, value));
                s = after;
            } else {
                // A quoted string alone is the metric name.
                pairs.push(("__name__".to_owned(), label));
                s = after;
            }
            s = s.trim_start();
            s = s.strip_prefix(',').unwrap_or(s);
        }
    }
    Ok((Labels::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))), rest.trim()))
}

/// Reads a quoted PromQL string from the start of `s`; returns it and what follows.
pub(super) fn take_quoted(s: &str) -> Result<(String, &str), String> {
    let quote = s.chars().next().ok_or("expected a string")?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok((out, &s[i + 1..]));
        }
        if c == '\\' && quote != '`' {
            let (_, e) = chars.next().ok_or("unterminated escape")?;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                'x' => {
                    let hex: String = (0..2).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                    let byte = u8::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    out.push(char::from(byte));
                }
                'u' => {
                    let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                    let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    out.push(char::from_u32(code).ok_or("bad \\u escape")?);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        } else {
            out.push(c);
        }
    }
    Err(format!("unterminated string in {s:?}"))
}

pub(super) fn unquote(s: &str) -> Result<String, String> {
    take_quoted(s).map(|(v, _)| v)
}
