//! Writing Prometheus text format 0.0.4 the way the engines' client libraries do, number formats included.

use std::fmt::Write as _;

use crate::families::Family;
use crate::histogram::Histogram;

/// A page of text exposition being written.
#[derive(Debug, Default)]
pub(crate) struct Page {
    out: String,
}

impl Page {
    pub(crate) fn with_capacity(bytes: usize) -> Page {
        Page { out: String::with_capacity(bytes) }
    }

    pub(crate) fn into_string(self) -> String {
        self.out
    }

    /// `# HELP` and `# TYPE` lines of the family named `name` in `families`.
    ///
    /// # Panics
    ///
    /// When `name` is not in `families`: the renderers only name families of
    /// their own table, which a test checks.
    pub(crate) fn header(&mut self, families: &[Family], name: &str) {
        let family = families.iter().find(|f| f.name == name).expect("renderers name only known families");
        let _ = writeln!(self.out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(self.out, "# TYPE {} {}", family.name, family.kind);
    }

    /// One sample in prometheus_client's style: labels sorted by name, values as Go floats.
    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            if labels.windows(2).all(|w| w[0].0 <= w[1].0) {
                self.labels(labels.iter());
            } else {
                let mut sorted: Vec<&(&str, &str)> = labels.iter().collect();
                sorted.sort_by_key(|(label, _)| *label);
                self.labels(sorted.into_iter());
            }
            self.out.push('}');
        }
        self.out.push(' ');
        write_go_float(&mut self.out, value);
        self.out.push('\n');
    }

    fn labels<'a>(&mut self, labels: impl Iterator<Item = &'a (&'a str, &'a str)>) {
        for (i, (label, value)) in labels.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(label);
            self.out.push_str("=\"");
            escape_label_value(&mut self.out, value);
            self.out.push('"');
        }
    }

    /// A histogram's series: buckets, then `_count` and `_sum` (prometheus_client's
    /// single-process order), or `_sum`, buckets, `_count` (its multiprocess order).
    pub(crate) fn histogram(&mut self, name: &str, labels: &[(&str, &str)], hist: &Histogram, sum_first: bool) {
        let bucket_name = format!("{name}_bucket");
        let count_name = format!("{name}_count");
        let sum_name = format!("{name}_sum");
        if sum_first {
            self.sample(&sum_name, labels, hist.sum());
        }
        for (bound, cumulative) in hist.cumulative() {
            let le = go_float(bound);
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket_name, &with_le, cumulative as f64);
        }
        self.sample(&count_name, labels, hist.count() as f64);
        if !sum_first {
            self.sample(&sum_name, labels, hist.sum());
        }
    }

    /// A raw line, for exporters that lay labels out themselves (DCGM).
    pub(crate) fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }
}

/// Escapes a label value as the text format requires (`\\`, `\"`, `\n`).
pub(crate) fn escape_label_value(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(ch),
        }
    }
}

/// Appends [`go_float`] of `value`, without allocating for the common small integers.
fn write_go_float(out: &mut String, value: f64) {
    if value.fract() == 0.0 && value.abs() < 1e6 {
        let _ = write!(out, "{}.0", value as i64);
    } else {
        out.push_str(&go_float(value));
    }
}

/// A float as prometheus_client's `floatToGoString` writes it: Python's `repr`,
/// switched to Go's exponent form for positive values with more than six integer digits.
pub(crate) fn go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() };
    }
    let repr = python_repr(value);
    if value > 0.0
        && let Some(dot) = repr.find('.')
        && dot > 6
    {
        let mantissa = format!("{}.{}{}", &repr[..1], &repr[1..dot], &repr[dot + 1..]);
        let mantissa = mantissa.trim_end_matches(['0', '.']);
        return format!("{mantissa}e+{:02}", dot - 1);
    }
    repr
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional for
/// exponents in [-4, 16), scientific with a two-digit exponent otherwise.
fn python_repr(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() { "-0.0".to_owned() } else { "0.0".to_owned() };
    }
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exponent) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.abs());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::go_float;

    #[test]
    fn floats_are_written_as_prometheus_client_writes_them() {
        for (value, text) in [
            (3.0, "3.0"),
            (0.4127, "0.4127"),
            (1.2007544e7, "1.2007544e+07"),
            (6.9238697984e10, "6.9238697984e+10"),
            (2.40253184e17, "2.40253184e+17"),
            (1_795_420_800.0102339, "1.7954208000102339e+09"),
            (100_000.0, "100000.0"),
            (1e6, "1e+06"),
            (1.1e6, "1.1e+06"),
            (0.001, "0.001"),
            (0.0, "0.0"),
            (1e-5, "1e-05"),
            (4187.36, "4187.36"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(go_float(value), text, "{value}");
        }
    }
}
