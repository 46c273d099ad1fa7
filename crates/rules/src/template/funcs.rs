//! The template functions that format values, and Go's `%g`, `%e` and
//! `printf` formatting that Prometheus's output follows.

use std::fmt::Write as _;

use super::Val;

pub(super) fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_word_start = true;
    for c in text.chars() {
        if at_word_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = !c.is_alphanumeric() && c != '_' && c != '\'';
    }
    out
}

pub(super) fn strip_port(host_port: &str) -> String {
    if let Some(rest) = host_port.strip_prefix('[')
        && let Some(end) = rest.find(']')
    {
        return rest[..end].to_owned();
    }
    match host_port.rfind(':') {
        Some(colon) if host_port[..colon].find(':').is_none() => host_port[..colon].to_owned(),
        _ => host_port.to_owned(),
    }
}

/// Prometheus's `humanize`: SI prefixes with four significant digits (`1.235k`, `12.5m`).
pub fn humanize(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format_g(value, Some(4));
    }
    let mut v = value;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

/// Prometheus's `humanize1024`: binary prefixes (`1ki`, `1.5Mi`).
pub fn humanize1024(value: f64) -> String {
    if value.abs() <= 1.0 || !value.is_finite() {
        return format_g(value, Some(4));
    }
    let mut v = value;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

/// Prometheus's `humanizeDuration`: seconds as `1d 2h 3m 4s`, or `1.5s`, `250ms`.
pub fn humanize_duration(value: f64) -> String {
    if !value.is_finite() {
        return format_g(value, Some(4));
    }
    if value == 0.0 {
        return format!("{}s", format_g(value, Some(4)));
    }
    if value.abs() >= 1.0 {
        let sign = if value < 0.0 { "-" } else { "" };
        let v = value.abs();
        let duration = v as i64;
        let seconds = duration % 60;
        let minutes = (duration / 60) % 60;
        let hours = (duration / 3600) % 24;
        let days = duration / 86_400;
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", format_g(v, Some(4)));
    }
    let mut v = value;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, Some(4)))
}

pub(super) fn humanize_timestamp(seconds: f64) -> String {
    if !seconds.is_finite() {
        return format_g(seconds, Some(4));
    }
    let nanos = (seconds * 1e9) as i64;
    let time = chrono::DateTime::from_timestamp_nanos(nanos);
    let mut text = time.format("%Y-%m-%d %H:%M:%S").to_string();
    let frac = time.timestamp_subsec_nanos();
    if frac != 0 {
        let digits = format!("{frac:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push_str(" +0000 UTC");
    text
}

/// Go's `%v` (`precision` `None`) and `%.Ng` formatting of a float.
pub fn format_g(value: f64, precision: Option<usize>) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() };
    }
    let negative = value.is_sign_negative() && value != 0.0;
    let (digits, dp) = decimal_digits(value.abs(), precision.map(|p| p.max(1)));
    let nd = digits.len() as i64;
    let mut prec = precision.map_or(nd, |p| p.max(1) as i64);
    let eprec = match precision {
        None => 6,
        Some(_) if prec > nd && nd >= dp => nd,
        Some(_) => prec,
    };
    let exp = dp - 1;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        prec = prec.min(nd);
        out.push_str(&digits[..1]);
        if prec > 1 {
            out.push('.');
            out.push_str(&digits[1..prec as usize]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
        return out;
    }
    if prec > dp {
        prec = nd;
    }
    let decimals = (prec - dp).max(0);
    out.push_str(&fixed(&digits, dp, decimals));
    out
}

/// The significant digits of `value` (no trailing zeros, `"0"` for zero)
/// and the position of the decimal point, rounded to `precision` digits.
fn decimal_digits(value: f64, precision: Option<usize>) -> (String, i64) {
    if value == 0.0 {
        return ("0".to_owned(), 1);
    }
    let text = match precision {
        Some(p) => format!("{:.*e}", p - 1, value),
        None => format!("{value:e}"),
    };
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, exponent + 1)
}

fn fixed(digits: &str, dp: i64, decimals: i64) -> String {
    let mut out = String::new();
    if dp <= 0 {
        out.push('0');
    } else {
        for i in 0..dp {
            out.push(digits.as_bytes().get(i as usize).map_or('0', |&b| b as char));
        }
    }
    if decimals > 0 {
        out.push('.');
        for i in dp..dp + decimals {
            let c = if i < 0 { '0' } else { digits.as_bytes().get(i as usize).map_or('0', |&b| b as char) };
            out.push(c);
        }
    }
    out
}

/// The largest width or precision printf honours.
const MAX_FORMAT_WIDTH: usize = 256;

/// Go's `fmt.Sprintf` for the verbs rule templates use: `%s %v %d %f %e %g %q %x %%`
/// with flags, width and precision.
pub(super) fn printf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&c) = chars.peek() {
            if matches!(c, '-' | '+' | ' ' | '#' | '.') || c.is_ascii_digit() {
                spec.push(c);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let flags: String = spec.chars().take_while(|c| matches!(c, '-' | '+' | ' ' | '0' | '#')).collect();
        let numbers = &spec[flags.len()..];
        // Widths and precisions are capped so that a template cannot allocate without bound.
        let (width, precision) = match numbers.split_once('.') {
            Some((w, p)) => (w.parse::<usize>().ok(), Some(p.parse::<usize>().unwrap_or(0).min(MAX_FORMAT_WIDTH))),
            None => (numbers.parse::<usize>().ok(), None),
        };
        let width = width.map(|w| w.min(MAX_FORMAT_WIDTH));
        let Some(arg) = args.next() else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        let body = format_verb(verb, arg, precision, flags.contains('+'));
        let width = width.unwrap_or(0);
        let pad = width.saturating_sub(body.chars().count());
        if flags.contains('-') {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if flags.contains('0') && matches!(arg, Val::Num(_)) {
            let (sign, digits) = match body.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("", body.as_str()),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&body);
        }
    }
    let extra: Vec<String> = args.map(|a| format!("{}={}", type_name(a), a.to_text())).collect();
    if !extra.is_empty() {
        let _ = write!(out, "%!(EXTRA {})", extra.join(", "));
    }
    out
}

fn type_name(val: &Val) -> &'static str {
    match val {
        Val::Num(_) => "float64",
        Val::Str(_) => "string",
        Val::Bool(_) => "bool",
        Val::Map(_) => "map[string]string",
    }
}

fn format_verb(verb: char, arg: &Val, precision: Option<usize>, plus: bool) -> String {
    let signed = |text: String, v: f64| if plus && v >= 0.0 { format!("+{text}") } else { text };
    match (verb, arg) {
        ('v' | 's', _) => arg.to_text(),
        ('q', _) => format!("{:?}", arg.to_text()),
        ('f' | 'F', Val::Num(v)) => signed(format!("{:.*}", precision.unwrap_or(6), v), *v),
        ('e', Val::Num(v)) => signed(format_e(*v, precision.unwrap_or(6)), *v),
        ('g', Val::Num(v)) => signed(format_g(*v, precision), *v),
        ('d', Val::Num(v)) if v.fract() == 0.0 => signed(format!("{}", *v as i64), *v),
        ('x', Val::Num(v)) if v.fract() == 0.0 => format!("{:x}", *v as i64),
        ('x', Val::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
        ('t', Val::Bool(b)) => b.to_string(),
        _ => format!("%!{verb}({}={})", type_name(arg), arg.to_text()),
    }
}

fn format_e(value: f64, precision: usize) -> String {
    let text = format!("{value:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`, the form of the alerts API's `value`.
pub fn format_alert_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() }
    } else {
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i64 = exponent.parse().unwrap_or(0);
        format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }
}
