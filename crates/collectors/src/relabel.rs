//! Relabelling with Prometheus's `relabel_config` semantics.
//!
//! [`RelabelConfig`] is what the user writes (the keys of Prometheus's YAML,
//! in TOML); [`RelabelConfig::compile`] checks it and returns a [`Rule`].
//! [`process`] runs rules over a [`LabelSet`] in order and says whether the
//! series is kept. Regular expressions are fully anchored, as in Prometheus:
//! `regex = "foo"` matches `foo` and not `foobar`.

use std::fmt;

use md5::{Digest, Md5};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// One relabelling step as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelabelConfig {
    /// Labels whose values, joined by `separator`, are matched against `regex`.
    pub source_labels: Vec<String>,
    /// Joins the values of `source_labels`.
    pub separator: String,
    /// The pattern, anchored at both ends.
    pub regex: String,
    /// For `hashmod`: the hash of the joined values is taken modulo this.
    pub modulus: u64,
    /// The label written by `replace`, `hashmod`, `lowercase`, `uppercase`,
    /// and compared by `keepequal`/`dropequal`. May reference capture groups.
    pub target_label: String,
    /// What `replace` and `labelmap` write; `$1`, `${1}` and `${name}` refer to capture groups.
    pub replacement: String,
    /// What to do.
    pub action: Action,
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".into(),
            regex: "(.*)".into(),
            modulus: 0,
            target_label: String::new(),
            replacement: "$1".into(),
            action: Action::Replace,
        }
    }
}

/// The relabelling actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Writes `replacement` (expanded) to `target_label` when `regex` matches.
    #[default]
    Replace,
    /// Drops the series unless `regex` matches.
    Keep,
    /// Drops the series when `regex` matches.
    Drop,
    /// Copies each label whose name matches `regex` to the name `replacement` expands to.
    #[serde(rename = "labelmap")]
    LabelMap,
    /// Removes each label whose name matches `regex`.
    #[serde(rename = "labeldrop")]
    LabelDrop,
    /// Removes each label whose name does not match `regex`.
    #[serde(rename = "labelkeep")]
    LabelKeep,
    /// Sets `target_label` to the MD5 hash of the joined values modulo `modulus`.
    #[serde(rename = "hashmod")]
    HashMod,
    /// Sets `target_label` to the joined values in lower case.
    Lowercase,
    /// Sets `target_label` to the joined values in upper case.
    Uppercase,
    /// Drops the series unless `target_label`'s value equals the joined values.
    #[serde(rename = "keepequal")]
    KeepEqual,
    /// Drops the series when `target_label`'s value equals the joined values.
    #[serde(rename = "dropequal")]
    DropEqual,
}

/// A checked relabelling step.
#[derive(Clone)]
pub struct Rule {
    config: RelabelConfig,
    regex: Regex,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule").field("config", &self.config).finish()
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl RelabelConfig {
    /// Checks the step and compiles its pattern.
    ///
    /// # Errors
    ///
    /// Each problem as `(key, message)`, the key relative to this step (`regex`, `target_label`, ...).
    pub fn compile(&self) -> Result<Rule, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        // The pattern alone first, so an error quotes what the user wrote.
        let regex = Regex::new(&self.regex)
            .and_then(|_| series::regex_cache::anchored(&self.regex))
            .map_err(|e| problems.push(("regex", format!("invalid regular expression {:?}: {e}", self.regex))))
            .ok();
        let needs_target = matches!(
            self.action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            problems.push(("target_label", format!("required for action {:?}", self.action_name())));
        }
        if matches!(self.action, Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual)
            && !self.target_label.is_empty()
            && !series::is_valid_label_name(&self.target_label)
        {
            problems.push(("target_label", format!("{:?} is not a valid label name", self.target_label)));
        }
        if self.action == Action::HashMod && self.modulus == 0 {
            problems.push(("modulus", "must be positive for action \"hashmod\"".into()));
        }
        if matches!(self.action, Action::Keep | Action::Drop | Action::HashMod | Action::KeepEqual | Action::DropEqual)
            && self.source_labels.is_empty()
        {
            problems.push(("source_labels", format!("required for action {:?}", self.action_name())));
        }
        for name in &self.source_labels {
            if !series::is_valid_label_name(name) {
                problems.push(("source_labels", format!("{name:?} is not a valid label name")));
            }
        }
        match (problems.is_empty(), regex) {
            (true, Some(regex)) => Ok(Rule { config: self.clone(), regex }),
            _ => Err(problems),
        }
    }

    fn action_name(&self) -> &'static str {
        match self.action {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::HashMod => "hashmod",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
        }
    }
}

/// A mutable label set for relabelling: `(name, value)` pairs, unordered,
/// names unique. An empty value means the label is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSet {
    pairs: Vec<(String, String)>,
}

impl LabelSet {
    /// An empty set.
    pub fn new() -> LabelSet {
        LabelSet::default()
    }

    /// The value of `name`, or `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.pairs.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// Sets `name`; an empty value removes it.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.pairs.iter().position(|(n, _)| n == name) {
            Some(i) if value.is_empty() => {
                self.pairs.swap_remove(i);
            }
            Some(i) => value.clone_into(&mut self.pairs[i].1),
            None if value.is_empty() => {}
            None => self.pairs.push((name.to_owned(), value.to_owned())),
        }
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) {
        self.pairs.retain(|(n, _)| n != name);
    }

    /// Removes every label.
    pub fn clear(&mut self) {
        self.pairs.clear();
    }

    /// The labels, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Sorts by name; [`LabelSet::to_labels`] relies on it.
    pub fn sort(&mut self) {
        self.pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }

    /// The set as sorted [`series::Labels`].
    pub fn to_labels(&mut self) -> series::Labels {
        self.sort();
        let refs: Vec<series::LabelRef<'_>> =
            self.pairs.iter().map(|(n, v)| series::LabelRef::new(n.as_str(), v.as_str())).collect();
        series::Labels::from_sorted(&refs)
    }
}

/// Runs `rules` over `labels` in order. Returns `false` when a rule drops the
/// series (the labels are then left half-processed and must not be used).
pub fn process(rules: &[Rule], labels: &mut LabelSet) -> bool {
    let mut joined = String::new();
    for rule in rules {
        if !apply(rule, labels, &mut joined) {
            return false;
        }
    }
    true
}

fn apply(rule: &Rule, labels: &mut LabelSet, joined: &mut String) -> bool {
    let config = &rule.config;
    joined.clear();
    for (i, name) in config.source_labels.iter().enumerate() {
        if i > 0 {
            joined.push_str(&config.separator);
        }
        joined.push_str(labels.get(name));
    }
    let value = joined.as_str();
    match config.action {
        Action::Keep => rule.regex.is_match(value),
        Action::Drop => !rule.regex.is_match(value),
        Action::KeepEqual => labels.get(&config.target_label) == value,
        Action::DropEqual => labels.get(&config.target_label) != value,
        Action::Replace => {
            let Some(captures) = rule.regex.captures(value) else { return true };
            let mut target = String::new();
            captures.expand(&config.target_label, &mut target);
            if !series::is_valid_label_name(&target) {
                return true;
            }
            let mut result = String::new();
            captures.expand(&config.replacement, &mut result);
            labels.set(&target, &result);
            true
        }
        Action::Lowercase => {
            let lower = value.to_lowercase();
            labels.set(&config.target_label, &lower);
            true
        }
        Action::Uppercase => {
            let upper = value.to_uppercase();
            labels.set(&config.target_label, &upper);
            true
        }
        Action::HashMod => {
            let digest = Md5::digest(value.as_bytes());
            let mut tail = [0u8; 8];
            tail.copy_from_slice(&digest[8..]);
            let modulo = u64::from_be_bytes(tail) % config.modulus;
            labels.set(&config.target_label, &modulo.to_string());
            true
        }
        Action::LabelMap => {
            let mut copies = Vec::new();
            for (name, value) in labels.iter() {
                if let Some(captures) = rule.regex.captures(name) {
                    let mut target = String::new();
                    captures.expand(&config.replacement, &mut target);
                    copies.push((target, value.to_owned()));
                }
            }
            for (name, value) in copies {
                labels.set(&name, &value);
            }
            true
        }
        Action::LabelDrop => {
            labels.pairs.retain(|(name, _)| !rule.regex.is_match(name));
            true
        }
        Action::LabelKeep => {
            labels.pairs.retain(|(name, _)| rule.regex.is_match(name));
            true
        }
    }
}

#[cfg(test)]
mod tests;
