//! Durations in Prometheus's syntax (`"15s"`, `"1h30m"`, `"15d"`, `"1y"`),
//! as configuration files, rule files and query parameters write them.

use std::time::Duration;

/// Parses a Prometheus duration: one or more `<integer><unit>` terms with
/// units `ms`, `s`, `m`, `h`, `d`, `w`, `y` (365 days), largest first.
///
/// # Errors
///
/// A message saying what is wrong with `text`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ];
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let invalid =
        || format!("invalid duration {text:?}: expected a number and a unit, like \"15s\", \"2h\" or \"15d\"");
    let mut rest = text;
    let mut total_ms: u64 = 0;
    let mut last_rank = usize::MAX;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let rank = UNITS.iter().position(|(u, _)| *u == unit).ok_or_else(|| {
            format!("invalid duration {text:?}: unknown unit {unit:?}; units are y, w, d, h, m, s, ms")
        })?;
        if last_rank != usize::MAX && rank <= last_rank {
            return Err(format!("invalid duration {text:?}: units must go from largest to smallest"));
        }
        last_rank = rank;
        total_ms = number
            .checked_mul(UNITS[rank].1)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| format!("duration {text:?} is too large"))?;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_prometheus_syntax() {
        for (text, ms) in [
            ("15s", 15_000),
            ("1h30m", 5_400_000),
            ("15d", 1_296_000_000),
            ("1y", 31_536_000_000),
            ("250ms", 250),
            ("0", 0),
        ] {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for bad in ["", "15", "s", "1m1h", "1.5h", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
