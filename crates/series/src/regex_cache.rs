//! Compiled, fully anchored regular expressions, shared by every query.
//!
//! Rules and dashboards run the same queries again and again, and compiling
//! a selector's `=~` pattern or a `label_replace` regex can cost more than
//! evaluating it over a few thousand series. Compiled regexes are kept per
//! pattern, process-wide; a [`Regex`] clone shares its compiled program.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::Regex;

/// How many patterns are kept; past it the cache starts again empty, so a
/// stream of distinct patterns cannot grow memory without bound.
const CAPACITY: usize = 4_096;

fn cache() -> &'static Mutex<HashMap<String, Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// `pattern` compiled to match whole strings (`^(?s:pattern)$`, RE2 syntax,
/// as Prometheus anchors its regexes).
///
/// # Errors
///
/// The compiler's error when the pattern is not valid.
pub fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    if let Some(regex) = cache().lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(pattern) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(&format!("^(?s:{pattern})$"))?;
    let mut cache = cache().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() >= CAPACITY {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

#[cfg(test)]
mod tests {
    use super::anchored;

    #[test]
    fn patterns_match_whole_values_only() {
        let regex = anchored("a|b.").expect("valid pattern");
        assert!(regex.is_match("a"));
        assert!(regex.is_match("bc"));
        assert!(!regex.is_match("xa"));
        assert!(!regex.is_match("bcd"));
        assert!(anchored(".*").expect("valid").is_match("multi\nline"), "dot matches newlines, as in Prometheus");
    }

    #[test]
    fn a_cached_pattern_is_the_same_regex_and_bad_patterns_fail_every_time() {
        let first = anchored("x+").expect("valid pattern");
        let second = anchored("x+").expect("valid pattern");
        assert_eq!(first.as_str(), second.as_str());
        assert!(anchored("(").is_err());
        assert!(anchored("(").is_err());
    }
}
