//! The Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text:
//! a zero-copy parser over the scraped page.
//!
//! [`Parser`] walks the page line by line and yields an [`Entry`] per line
//! that carries something: a family's `HELP`, `TYPE` or `UNIT`, or a
//! [`Sample`]. Names and label blocks stay slices of the page; a label value
//! or help text is copied only when it holds an escape sequence. Label blocks
//! are validated once while parsing and decoded lazily by
//! [`Sample::labels`], so a caller that recognises a series by its text (the
//! scrape cache does) never decodes its labels at all.
//!
//! Differences between the two formats that the parser enforces: timestamps
//! are integer milliseconds in 0.0.4 and float seconds in OpenMetrics (both
//! come out as milliseconds); OpenMetrics must end with `# EOF`, allows no
//! blank lines or free comments, may carry exemplars (skipped), and its
//! counters, histograms and summaries may carry `_created` samples, which are
//! flagged ([`Sample::is_created`]) so a scraper can leave them out as
//! Prometheus does.

use std::borrow::Cow;
use std::fmt;

/// The text formats a target can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Text,
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header announces, or `None` for anything
    /// else (HTML error pages, JSON, protobuf). `text/plain` of any version
    /// is read as 0.0.4, as Prometheus does.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case("text/plain") {
            Some(Format::Text)
        } else if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
            Some(Format::OpenMetrics)
        } else {
            None
        }
    }

    /// A short name for logs and errors: `text` or `openmetrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::OpenMetrics => "openmetrics",
        }
    }
}

/// A metric family's type as `# TYPE` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// `counter`.
    Counter,
    /// `gauge`.
    Gauge,
    /// `histogram`.
    Histogram,
    /// `gaugehistogram` (OpenMetrics).
    GaugeHistogram,
    /// `summary`.
    Summary,
    /// `info` (OpenMetrics).
    Info,
    /// `stateset` (OpenMetrics).
    StateSet,
    /// `untyped` (0.0.4) or `unknown` (OpenMetrics), and families without a `TYPE` line.
    Unknown,
}

impl MetricType {
    fn parse(word: &str, format: Format) -> Option<MetricType> {
        Some(match (word, format) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("untyped", Format::Text) | ("unknown", Format::OpenMetrics) => MetricType::Unknown,
            ("gaugehistogram", Format::OpenMetrics) => MetricType::GaugeHistogram,
            ("info", Format::OpenMetrics) => MetricType::Info,
            ("stateset", Format::OpenMetrics) => MetricType::StateSet,
            _ => return None,
        })
    }

    /// The type's name as OpenMetrics writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// Whether OpenMetrics allows `_created` samples in a family of this type.
    fn has_created(self) -> bool {
        matches!(self, MetricType::Counter | MetricType::Histogram | MetricType::Summary | MetricType::GaugeHistogram)
    }
}

/// One meaningful line of a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP family text`, with escapes resolved.
    Help {
        /// The family name.
        family: &'a str,
        /// The help text.
        help: Cow<'a, str>,
    },
    /// `# TYPE family type`.
    Type {
        /// The family name.
        family: &'a str,
        /// The declared type.
        metric_type: MetricType,
    },
    /// `# UNIT family unit` (OpenMetrics).
    Unit {
        /// The family name.
        family: &'a str,
        /// The unit, like `seconds`.
        unit: &'a str,
    },
    /// A sample line.
    Sample(Sample<'a>),
}

/// One sample line: a series, a value and maybe a timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The metric name.
    pub name: &'a str,
    /// The series exactly as written: the name and the label block, like
    /// `x{a="1"}`. Within one exposition, equal text means the same series,
    /// so it serves as a cache key without decoding the labels.
    pub series: &'a str,
    /// The value; `NaN`, `+Inf` and `-Inf` included.
    pub value: f64,
    /// The timestamp in milliseconds since the Unix epoch, if the line has one.
    pub timestamp_ms: Option<i64>,
    /// Whether this is an OpenMetrics `_created` sample of a counter,
    /// histogram or summary: a creation time, not a series of its own.
    pub is_created: bool,
    /// The text between the braces, already validated.
    raw_labels: &'a str,
}

impl<'a> Sample<'a> {
    /// The labels in the order written, with escapes resolved.
    pub fn labels(&self) -> LabelIter<'a> {
        LabelIter { rest: self.raw_labels }
    }
}

/// Iterates the labels of a [`Sample`]: `(name, value)` pairs.
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        // The block was validated by the parser: `name="value"` items,
        // separated by commas, with optional blanks.
        let text = self.rest;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b',') {
            i += 1;
        }
        if i == bytes.len() {
            self.rest = "";
            return None;
        }
        let name_start = i;
        while i < bytes.len() && is_label_char(bytes[i]) {
            i += 1;
        }
        let name = &text[name_start..i];
        while i < bytes.len() && bytes[i] != b'"' {
            i += 1;
        }
        let value_start = (i + 1).min(bytes.len());
        i = value_start;
        let mut escaped = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        let end = i.min(bytes.len());
        let raw = &text[value_start..end];
        self.rest = text.get(end + 1..).unwrap_or("");
        let value = if escaped { Cow::Owned(unescape(raw, true)) } else { Cow::Borrowed(raw) };
        Some((name, value))
    }
}

/// Why a page could not be parsed, with the 1-based line where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong, naming the offending text.
    pub message: String,
}

/// Parses a page; iterate to get its entries. The first error ends the
/// iteration.
pub fn parse(text: &str, format: Format) -> Parser<'_> {
    Parser::new(text, format)
}

/// An iterator over the entries of a page. See the module documentation.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    format: Format,
    seen_eof: bool,
    done: bool,
    family: &'a str,
    family_type: MetricType,
}

impl<'a> Parser<'a> {
    /// A parser over `text` in `format`.
    pub fn new(text: &'a str, format: Format) -> Parser<'a> {
        Parser {
            text,
            pos: 0,
            line: 0,
            format,
            seen_eof: false,
            done: false,
            family: "",
            family_type: MetricType::Unknown,
        }
    }

    /// The number of the line last read (1-based; 0 before the first).
    pub fn line(&self) -> usize {
        self.line
    }

    fn error(&mut self, message: impl Into<String>) -> Option<Result<Entry<'a>, ParseError>> {
        self.done = true;
        Some(Err(ParseError { line: self.line, message: message.into() }))
    }

    fn next_line(&mut self) -> Option<&'a str> {
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.pos..];
        let (line, advance) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(n) => (&rest[..n], n + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        self.line += 1;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn comment(&mut self, line: &'a str) -> Option<Result<Entry<'a>, ParseError>> {
        let body = line[1..].trim_start_matches([' ', '\t']);
        let (keyword, rest) = split_token(body);
        let open_metrics = self.format == Format::OpenMetrics;
        match keyword {
            "EOF" if open_metrics => {
                if !rest.is_empty() {
                    return self.error(format!("unexpected text {rest:?} after # EOF"));
                }
                self.seen_eof = true;
                None
            }
            "HELP" | "TYPE" | "UNIT" if open_metrics || keyword != "UNIT" => {
                let (family, rest) = split_token(rest);
                if family.is_empty() {
                    return self.error(format!("# {keyword} without a metric name"));
                }
                if !is_metric_name(family) {
                    return self.error(format!("invalid metric name {family:?} in # {keyword}"));
                }
                match keyword {
                    "HELP" => {
                        let help = if rest.contains('\\') {
                            Cow::Owned(unescape(rest, open_metrics))
                        } else {
                            Cow::Borrowed(rest)
                        };
                        Some(Ok(Entry::Help { family, help }))
                    }
                    "TYPE" => {
                        let Some(metric_type) = MetricType::parse(rest.trim_end(), self.format) else {
                            return self.error(format!("unknown metric type {rest:?} for {family:?}"));
                        };
                        self.family = family;
                        self.family_type = metric_type;
                        Some(Ok(Entry::Type { family, metric_type }))
                    }
                    _ => {
                        if !rest.is_empty() && !family.ends_with(rest) {
                            return self.error(format!("metric name {family:?} does not end with its unit {rest:?}"));
                        }
                        Some(Ok(Entry::Unit { family, unit: rest }))
                    }
                }
            }
            // 0.0.4 treats any other comment as a comment.
            _ if !open_metrics => None,
            _ => self.error(format!("invalid comment line {line:?}: OpenMetrics allows only HELP, TYPE, UNIT and EOF")),
        }
    }

    fn sample(&mut self, line: &'a str) -> Option<Result<Entry<'a>, ParseError>> {
        let bytes = line.as_bytes();
        if !is_name_start(bytes[0]) {
            return self.error(format!("expected a metric name, found {:?}", char_at(line, 0)));
        }
        let mut i = 1;
        while i < bytes.len() && is_name_char(bytes[i]) {
            i += 1;
        }
        let name = &line[..i];
        let mut raw_labels = "";
        if i < bytes.len() && bytes[i] == b'{' {
            match scan_labels(line, i + 1) {
                Ok(close) => {
                    raw_labels = &line[i + 1..close];
                    i = close + 1;
                }
                Err(message) => return self.error(message),
            }
        }
        let series = &line[..i];
        let after_series = i;
        i = skip_blanks(bytes, i);
        if i == after_series {
            return if i == bytes.len() {
                self.error(format!("missing value for {series}"))
            } else {
                self.error(format!("unexpected {:?} after {name:?}", char_at(line, i)))
            };
        }
        let (value_text, next) = token(line, i);
        let Some(value) = parse_value(value_text) else {
            return self.error(format!("invalid value {value_text:?} for {series}"));
        };
        i = skip_blanks(bytes, next);
        let mut timestamp_ms = None;
        if i < bytes.len() && bytes[i] != b'#' {
            let (ts_text, next) = token(line, i);
            timestamp_ms = match self.format {
                Format::Text => ts_text.parse::<i64>().ok(),
                Format::OpenMetrics => ts_text
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && s.abs() < 9.2e15)
                    .map(|s| (s * 1000.0).round() as i64),
            };
            if timestamp_ms.is_none() {
                return self.error(format!("invalid timestamp {ts_text:?} for {series}"));
            }
            i = skip_blanks(bytes, next);
        }
        if i < bytes.len() {
            if bytes[i] != b'#' || self.format == Format::Text {
                return self.error(format!("unexpected text {:?} after the value of {series}", &line[i..]));
            }
            // An OpenMetrics exemplar: ` # {labels} value [timestamp]`. It is
            // checked for shape and dropped.
            let rest = line[i + 1..].trim_start_matches([' ', '\t']);
            let ok = rest.starts_with('{')
                && scan_labels(rest, 1).is_ok_and(|close| {
                    let mut tokens = rest[close + 1..].split_ascii_whitespace();
                    tokens.next().and_then(parse_value).is_some()
                        && tokens.next().is_none_or(|t| t.parse::<f64>().is_ok())
                        && tokens.next().is_none()
                });
            if !ok {
                return self.error(format!("invalid exemplar {rest:?} for {series}"));
            }
        }
        let is_created = self.format == Format::OpenMetrics
            && self.family_type.has_created()
            && name.len() == self.family.len() + "_created".len()
            && name.starts_with(self.family)
            && name.ends_with("_created");
        Some(Ok(Entry::Sample(Sample { name, series, value, timestamp_ms, is_created, raw_labels })))
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let Some(line) = self.next_line() else {
                self.done = true;
                if self.format == Format::OpenMetrics && !self.seen_eof {
                    self.line += 1;
                    return Some(Err(ParseError {
                        line: self.line,
                        message: "missing \"# EOF\" at the end of an OpenMetrics exposition (truncated?)".into(),
                    }));
                }
                return None;
            };
            if self.seen_eof {
                // Only the line break after `# EOF` may follow it.
                return self.error("unexpected content after # EOF");
            }
            if line.trim_start_matches([' ', '\t']).is_empty() {
                if self.format == Format::OpenMetrics {
                    return self.error("empty line (OpenMetrics allows none)");
                }
                continue;
            }
            let entry = if line.starts_with('#') {
                self.comment(line)
            } else if self.format == Format::Text {
                self.sample(line.trim_start_matches([' ', '\t']))
            } else {
                self.sample(line)
            };
            if entry.is_some() {
                return entry;
            }
        }
        None
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Scans a label block starting after `{`; returns the index of the closing `}`.
fn scan_labels(line: &str, start: usize) -> Result<usize, String> {
    let bytes = line.as_bytes();
    let mut i = start;
    loop {
        i = skip_blanks(bytes, i);
        match bytes.get(i) {
            None => return Err(format!("unterminated label set in {line:?}")),
            Some(b'}') => return Ok(i),
            Some(&b) if is_label_start(b) => {}
            Some(_) => return Err(format!("expected a label name at {:?}", &line[i..])),
        }
        let name_start = i;
        while i < bytes.len() && is_label_char(bytes[i]) {
            i += 1;
        }
        let name = &line[name_start..i];
        i = skip_blanks(bytes, i);
        if bytes.get(i) != Some(&b'=') {
            return Err(format!("expected '=' after label name {name:?}"));
        }
        i = skip_blanks(bytes, i + 1);
        if bytes.get(i) != Some(&b'"') {
            return Err(format!("expected '\"' to open the value of label {name:?}"));
        }
        i += 1;
        // Values are short: a plain loop beats a vectorised search here.
        loop {
            while i < bytes.len() && !is_quote_or_escape(bytes[i]) {
                i += 1;
            }
            match bytes.get(i) {
                None => return Err(format!("unterminated value of label {name:?}")),
                Some(b'"') => break,
                Some(_) => i += 2,
            }
        }
        i = skip_blanks(bytes, i + 1);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(i),
            None => return Err(format!("unterminated label set in {line:?}")),
            Some(_) => return Err(format!("expected ',' or '}}' after the value of label {name:?}")),
        }
    }
}

/// Resolves `\\`, `\n` and `\"` (the last only where the format escapes it:
/// label values always, HELP text in OpenMetrics). Other escapes stay as written.
fn unescape(text: &str, quote_escaped: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote_escaped => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn parse_value(text: &str) -> Option<f64> {
    // Go's ParseFloat accepts what Rust's does, plus `Inf` spelled any way
    // Rust also accepts; hex floats are not seen in practice.
    text.parse::<f64>().ok()
}

fn token(line: &str, start: usize) -> (&str, usize) {
    let bytes = line.as_bytes();
    let mut end = start;
    while end < bytes.len() && bytes[end] != b' ' && bytes[end] != b'\t' {
        end += 1;
    }
    (&line[start..end], end)
}

fn split_token(text: &str) -> (&str, &str) {
    match text.find([' ', '\t']) {
        Some(n) => (&text[..n], text[n..].trim_start_matches([' ', '\t'])),
        None => (text, ""),
    }
}

fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    i
}

fn char_at(line: &str, i: usize) -> char {
    line.get(i..).and_then(|s| s.chars().next()).unwrap_or('\u{fffd}')
}

/// Byte classes, looked up in one table: the scanners' inner loops.
const NAME_START: u8 = 1;
const NAME_CHAR: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CHAR: u8 = 8;
const QUOTE_OR_ESCAPE: u8 = 16;

static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut class = 0;
        if alpha || c == b':' {
            class |= NAME_START | NAME_CHAR;
        }
        if digit {
            class |= NAME_CHAR | LABEL_CHAR;
        }
        if alpha {
            class |= LABEL_START | LABEL_CHAR;
        }
        if c == b'"' || c == b'\\' {
            class |= QUOTE_OR_ESCAPE;
        }
        table[b] = class;
        b += 1;
    }
    table
};

fn is_name_start(b: u8) -> bool {
    CLASSES[b as usize] & NAME_START != 0
}

fn is_name_char(b: u8) -> bool {
    CLASSES[b as usize] & NAME_CHAR != 0
}

fn is_label_start(b: u8) -> bool {
    CLASSES[b as usize] & LABEL_START != 0
}

fn is_label_char(b: u8) -> bool {
    CLASSES[b as usize] & LABEL_CHAR != 0
}

fn is_quote_or_escape(b: u8) -> bool {
    CLASSES[b as usize] & QUOTE_OR_ESCAPE != 0
}

fn is_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && is_name_start(bytes[0]) && bytes[1..].iter().all(|&b| is_name_char(b))
}

#[cfg(test)]
mod tests;
