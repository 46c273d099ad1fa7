//! Label matchers, as in a PromQL selector: `name="v"`, `!=`, `=~`, `!~`.

use regex::Regex;

use crate::{Error, Result};

/// How a [`Matcher`] compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`: the value equals the pattern.
    Equal,
    /// `!=`: the value differs from the pattern.
    NotEqual,
    /// `=~`: the whole value matches the regular expression.
    Regex,
    /// `!~`: the whole value does not match the regular expression.
    NotRegex,
}

/// One condition on one label. A series without the label is treated as
/// having it with the empty value, as Prometheus does.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or pattern as written.
    pub value: String,
    regex: Option<Regex>,
}

impl Matcher {
    /// A matcher; regex patterns are anchored at both ends (RE2 syntax).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegex`] if a regex pattern does not compile.
    pub fn new(op: MatchOp, name: &str, value: &str) -> Result<Matcher> {
        let regex =
            match op {
                MatchOp::Regex | MatchOp::NotRegex => Some(crate::regex_cache::anchored(value).map_err(|source| {
                    Error::InvalidRegex { label: name.to_owned(), pattern: value.to_owned(), source }
                })?),
                MatchOp::Equal | MatchOp::NotEqual => None,
            };
        Ok(Matcher { name: name.to_owned(), op, value: value.to_owned(), regex })
    }

    /// `name="value"`.
    pub fn equal(name: &str, value: &str) -> Matcher {
        Matcher { name: name.to_owned(), op: MatchOp::Equal, value: value.to_owned(), regex: None }
    }

    /// Whether `value` (the empty string for a missing label) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(value)),
            MatchOp::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }

    /// Whether the matcher accepts a series that lacks the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` patterns that are a plain alternation of literals (`a|b|c`),
    /// the literals; lets an index answer with a few postings lookups instead
    /// of testing every value of the label.
    pub fn set_literals(&self) -> Option<Vec<&str>> {
        if self.op != MatchOp::Regex {
            return None;
        }
        let is_literal = |s: &str| s.chars().all(|c| c.is_alphanumeric() || "_-:/ ,@".contains(c));
        let parts: Vec<&str> = self.value.split('|').collect();
        parts.iter().all(|p| is_literal(p)).then_some(parts)
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        };
        write!(f, "{}{}{:?}", self.name, op, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(op: MatchOp, pattern: &str, value: &str, expect: bool) {
        let m = Matcher::new(op, "l", pattern).expect("valid pattern");
        assert_eq!(m.matches(value), expect, "{m} on {value:?}");
    }

    #[test]
    fn regexes_are_fully_anchored() {
        check(MatchOp::Regex, "vllm.*", "vllm:x", true);
        check(MatchOp::Regex, "llm", "vllm", false);
        check(MatchOp::Regex, "a|b", "ab", false);
        check(MatchOp::NotRegex, "a|b", "c", true);
        check(MatchOp::Regex, ".*", "line\nbreak", true);
        check(MatchOp::Equal, "", "", true);
        check(MatchOp::NotEqual, "x", "", true);
    }

    #[test]
    fn bad_regex_is_an_error() {
        assert!(matches!(Matcher::new(MatchOp::Regex, "l", "("), Err(Error::InvalidRegex { .. })));
    }

    #[test]
    fn literal_alternations_are_recognised() {
        let m = Matcher::new(MatchOp::Regex, "l", "a|b-c").expect("valid");
        assert_eq!(m.set_literals(), Some(vec!["a", "b-c"]));
        let m = Matcher::new(MatchOp::Regex, "l", "a.*").expect("valid");
        assert_eq!(m.set_literals(), None);
    }
}
