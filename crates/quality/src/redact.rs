//! Redaction: parts of a text (PII, secrets, configured patterns) replaced by their type in brackets.
//!
//! Offsets are in Unicode code points, as the scorers report them. A
//! [`Redaction`] also maps positions of the original text onto the redacted
//! one, so the evidence of a score can still point at the right words (or at
//! the `[EMAIL_ADDRESS]` that replaced them) in the stored text.

use crate::Span;

/// A part of the original text to replace, in code points, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
    /// What replaces it, without brackets (`EMAIL_ADDRESS`, `REDACTED`).
    pub kind: String,
}

impl From<&Span> for Replace {
    /// A scorer's span, replaced by its type (`EMAIL_ADDRESS`).
    fn from(span: &Span) -> Replace {
        Replace { start: span.start, end: span.end, kind: span.kind.as_str().to_owned() }
    }
}

/// The redacted text and where its replacements are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    /// The text with every replaced part as `[KIND]`.
    pub text: String,
    /// Each replacement: its span in the original and its length in the
    /// redacted text, in order and without overlaps.
    replaced: Vec<(usize, usize, usize)>,
}

impl Redaction {
    /// Replaces `parts` of `original` (in any order; overlapping parts merge
    /// into one, named after the first).
    pub fn apply(original: &str, parts: &[Replace]) -> Redaction {
        let mut parts: Vec<&Replace> = parts.iter().filter(|p| p.start < p.end).collect();
        parts.sort_by_key(|p| (p.start, std::cmp::Reverse(p.end)));
        let mut merged: Vec<(usize, usize, &str)> = Vec::with_capacity(parts.len());
        for part in parts {
            match merged.last_mut() {
                Some(last) if part.start < last.1 => last.1 = last.1.max(part.end),
                _ => merged.push((part.start, part.end, part.kind.as_str())),
            }
        }
        let mut text = String::with_capacity(original.len());
        let mut replaced = Vec::with_capacity(merged.len());
        let mut parts = merged.iter().peekable();
        let mut skipping_until = None;
        for (index, c) in original.chars().enumerate() {
            if let Some(end) = skipping_until {
                if index < end {
                    continue;
                }
                skipping_until = None;
            }
            if let Some(&&(start, end, kind)) = parts.peek()
                && index == start
            {
                parts.next();
                text.push('[');
                text.push_str(kind);
                text.push(']');
                replaced.push((start, end, kind.chars().count() + 2));
                skipping_until = Some(end);
                continue;
            }
            text.push(c);
        }
        Redaction { text, replaced }
    }

    /// The text kept when no text may be kept.
    pub fn none() -> Redaction {
        Redaction { text: String::new(), replaced: Vec::new() }
    }

    /// Where position `pos` of the original text lands in the redacted text;
    /// a position inside a replaced part lands at that part's start (or, for
    /// an end position, its end).
    pub fn map(&self, pos: usize, is_end: bool) -> usize {
        let mut shift: isize = 0;
        for &(start, end, len) in &self.replaced {
            if pos <= start {
                break;
            }
            let redacted_start = (start as isize + shift) as usize;
            if pos < end {
                return if is_end { redacted_start + len } else { redacted_start };
            }
            shift += len as isize - (end - start) as isize;
        }
        (pos as isize + shift).max(0) as usize
    }
}

/// The parts of `text` that match `patterns`, in code points, named `REDACTED`.
pub fn pattern_parts(text: &str, patterns: &[regex::Regex]) -> Vec<Replace> {
    if patterns.is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    for pattern in patterns {
        for found in pattern.find_iter(text) {
            if found.start() == found.end() {
                continue;
            }
            let start = text[..found.start()].chars().count();
            let end = start + found.as_str().chars().count();
            parts.push(Replace { start, end, kind: "REDACTED".to_owned() });
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: usize, end: usize, kind: &str) -> Replace {
        Replace { start, end, kind: kind.to_owned() }
    }

    #[test]
    fn replaced_parts_become_their_type_in_brackets() {
        let text = "mail bob@example.com or call 555-0100";
        let r = Redaction::apply(text, &[part(29, 37, "PHONE_NUMBER"), part(5, 20, "EMAIL_ADDRESS")]);
        assert_eq!(r.text, "mail [EMAIL_ADDRESS] or call [PHONE_NUMBER]");
    }

    #[test]
    fn offsets_count_code_points_not_bytes() {
        let text = "ünïcødé bob@example.com ✓";
        let r = Redaction::apply(text, &[part(8, 23, "EMAIL_ADDRESS")]);
        assert_eq!(r.text, "ünïcødé [EMAIL_ADDRESS] ✓");
    }

    #[test]
    fn overlapping_parts_merge() {
        let r = Redaction::apply("abcdefgh", &[part(1, 4, "A"), part(3, 6, "B")]);
        assert_eq!(r.text, "a[A]gh");
    }

    #[test]
    fn positions_move_with_the_text_around_replacements() {
        let text = "mail bob@example.com now, sorry";
        let r = Redaction::apply(text, &[part(5, 20, "EMAIL_ADDRESS")]);
        let chars: Vec<char> = r.text.chars().collect();
        let slice = |start: usize, end: usize| chars[r.map(start, false)..r.map(end, true)].iter().collect::<String>();
        // "sorry" is at 26..31 in the original.
        assert_eq!(slice(26, 31), "sorry");
        assert_eq!(slice(5, 20), "[EMAIL_ADDRESS]", "a replaced part maps onto its replacement");
        assert_eq!(slice(0, 4), "mail");
    }

    #[test]
    fn patterns_find_their_matches_in_code_points() {
        let patterns = vec![regex::Regex::new(r"ACCT-\d+").expect("pattern")];
        let parts = pattern_parts("é ACCT-123 and ACCT-9", &patterns);
        assert_eq!(parts, vec![part(2, 10, "REDACTED"), part(15, 21, "REDACTED")]);
    }
}
