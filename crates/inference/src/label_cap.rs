//! Bounded label values: a client can send any model name, but a metric label must not grow without end.

use std::collections::HashSet;

use parking_lot::RwLock;

/// The label value every name past the cap collapses into.
pub const OTHER: &str = "_other";

/// Keeps the first `cap` distinct values of a label (model names) as they
/// are and maps every later one to [`OTHER`], so a client that invents
/// model names cannot blow up the number of series.
#[derive(Debug)]
pub struct LabelCap {
    cap: usize,
    seen: RwLock<HashSet<String>>,
}

impl LabelCap {
    /// A cap of `cap` distinct values.
    pub fn new(cap: usize) -> LabelCap {
        LabelCap { cap, seen: RwLock::new(HashSet::new()) }
    }

    /// The label value for `value`: itself while it is one of the first
    /// `cap` distinct values seen, else [`OTHER`].
    pub fn value<'a>(&self, value: &'a str) -> &'a str {
        if self.seen.read().contains(value) {
            return value;
        }
        let mut seen = self.seen.write();
        if seen.contains(value) {
            return value;
        }
        if seen.len() < self.cap {
            seen.insert(value.to_owned());
            return value;
        }
        OTHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_past_the_cap_collapse_into_other_and_earlier_names_stay() {
        let cap = LabelCap::new(2);
        assert_eq!(cap.value("llama"), "llama");
        assert_eq!(cap.value("qwen"), "qwen");
        assert_eq!(cap.value("mistral"), OTHER);
        assert_eq!(cap.value("llama"), "llama");
        assert_eq!(cap.value("qwen"), "qwen");
    }
}
