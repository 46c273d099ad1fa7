//! Rule files in Prometheus's YAML format: parsing, validation with
//! positions, and glob patterns.
//!
//! Every problem of every file is collected before the loader gives up, so
//! one `infersight --check-config` run names them all, each with its file,
//! line, group and rule.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Position, Problem, Result};
use crate::template::Template;

/// One group of rules, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// The file the group came from, as named to the loader.
    pub file: String,
    /// The group's name, unique within its file.
    pub name: String,
    /// How often the group is evaluated; `None` means the manager's default.
    pub interval: Option<Duration>,
    /// The most series (recording rules) or alerts (alerting rules) a rule may produce; 0 is no limit.
    pub limit: usize,
    /// How far in the past the group's queries look, to wait for late data.
    pub query_offset: Option<Duration>,
    /// The rules, in evaluation order.
    pub rules: Vec<RuleSpec>,
}

impl GroupSpec {
    /// The key that identifies the group across reloads: file and name.
    pub fn key(&self) -> String {
        format!("{};{}", self.file, self.name)
    }
}

/// One rule, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// The recorded metric name or the alert name.
    pub name: String,
    /// The PromQL expression.
    pub expr: String,
    /// Labels added to the output (group labels merged in, the rule's win); values of alerts may be templates.
    pub labels: BTreeMap<String, String>,
    /// Recording or alerting, with what only alerts have.
    pub kind: RuleKind,
    /// The 1-based line of the rule in its file, where known.
    pub line: Option<usize>,
}

/// What kind of rule a [`RuleSpec`] is.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// A recording rule: its result is stored under the rule's name.
    Recording,
    /// An alerting rule.
    Alerting {
        /// How long the condition must hold before the alert fires.
        hold: Duration,
        /// How long the alert keeps firing after the condition stops holding.
        keep_firing_for: Duration,
        /// The annotations, as templates.
        annotations: BTreeMap<String, String>,
    },
}

impl RuleSpec {
    /// Whether this is an alerting rule.
    pub fn is_alert(&self) -> bool {
        matches!(self.kind, RuleKind::Alerting { .. })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: String,
    interval: Option<String>,
    #[serde(default)]
    limit: usize,
    query_offset: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    record: Option<String>,
    alert: Option<String>,
    #[serde(default)]
    expr: Option<serde_yaml::Value>,
    #[serde(rename = "for")]
    hold: Option<String>,
    keep_firing_for: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
}

/// Expands glob patterns (`*` and `?` in the last path component) into the
/// files they name, sorted; a pattern without wildcards names itself.
///
/// # Errors
///
/// [`Error::Pattern`] when a pattern has a wildcard before its last
/// component or its directory cannot be listed.
pub fn expand_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for pattern in patterns {
        let pattern = pattern.as_ref();
        if !pattern.contains(['*', '?', '[']) {
            files.push(PathBuf::from(pattern));
            continue;
        }
        let path = Path::new(pattern);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name_pattern = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if dir.to_string_lossy().contains(['*', '?', '[']) {
            return Err(Error::Pattern {
                pattern: pattern.to_owned(),
                message: "wildcards are supported in the file name only".to_owned(),
            });
        }
        let entries = std::fs::read_dir(dir)
            .map_err(|source| Error::Pattern { pattern: pattern.to_owned(), message: source.to_string() })?;
        let mut matched: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
            .filter(|entry| entry.file_name().to_str().is_some_and(|name| glob_match(name_pattern, name)))
            .map(|entry| dir.join(entry.file_name()))
            .collect();
        matched.sort();
        files.extend(matched);
    }
    Ok(files)
}

/// Whether `name` matches `pattern`, where `*` matches any run of
/// characters and `?` any one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match backtrack {
                Some((bp, bn)) => {
                    p = bp + 1;
                    n = bn + 1;
                    backtrack = Some((bp, bn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Reads and validates every file the patterns name.
///
/// # Errors
///
/// [`Error::Pattern`] or [`Error::Read`] when files cannot be found or
/// read, [`Error::Invalid`] with every problem of every file otherwise.
pub fn load_files<S: AsRef<str>>(patterns: &[S]) -> Result<Vec<GroupSpec>> {
    let mut groups = Vec::new();
    let mut problems = Vec::new();
    for path in expand_patterns(patterns)? {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
        match parse_file(&path.to_string_lossy(), &text) {
            Ok(mut parsed) => groups.append(&mut parsed),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() { Ok(groups) } else { Err(Error::Invalid { problems }) }
}

/// Parses and validates one rule file. `file` names it in positions.
///
/// # Errors
///
/// Every problem found: YAML syntax and unknown fields (with line and
/// column), then per group and rule: empty or repeated group names, bad
/// durations, rules that set both or neither of `record` and `alert`,
/// fields an alert-only or record-only, invalid metric, label or
/// annotation names, PromQL that does not parse, and templates that do not
/// parse.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<GroupSpec>, Vec<Problem>> {
    let raw: RawFile = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let location = error.location();
            let mut message = error.to_string();
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            let position = Position {
                file: file.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                ..Position::default()
            };
            return Err(vec![Problem { position, message }]);
        }
    };
    let lines = ItemLines::scan(text, &raw);
    let mut problems = Vec::new();
    let mut groups = Vec::new();
    let mut seen_groups = HashSet::new();
    for (group_idx, raw_group) in raw.groups.into_iter().enumerate() {
        let group_position = Position {
            file: file.to_owned(),
            group: Some(raw_group.name.clone()),
            line: lines.group(group_idx),
            ..Position::default()
        };
        let mut problem = |position: &Position, message: String| {
            problems.push(Problem { position: position.clone(), message });
        };
        if raw_group.name.is_empty() {
            problem(&group_position, "Groupname must not be empty".to_owned());
        } else if !seen_groups.insert(raw_group.name.clone()) {
            problem(&group_position, format!("groupname: {:?} is repeated in the same file", raw_group.name));
        }
        let mut duration = |text: &Option<String>, field: &str, position: &Position| -> Option<Duration> {
            let text = text.as_ref()?;
            match series::parse_duration(text) {
                Ok(d) => Some(d),
                Err(message) => {
                    problem(position, format!("{field}: {message}"));
                    None
                }
            }
        };
        let interval = duration(&raw_group.interval, "interval", &group_position);
        let query_offset = duration(&raw_group.query_offset, "query_offset", &group_position);
        if interval == Some(Duration::ZERO) {
            problem(&group_position, "interval: must be greater than zero".to_owned());
        }
        for name in raw_group.labels.keys() {
            if !series::is_valid_label_name(name) || name == series::METRIC_NAME {
                problem(&group_position, format!("invalid label name: {name}"));
            }
        }
        let mut rules = Vec::new();
        let mut seen_rules = HashSet::new();
        for (rule_idx, raw_rule) in raw_group.rules.into_iter().enumerate() {
            let name = raw_rule.record.clone().or_else(|| raw_rule.alert.clone());
            let position = Position {
                rule: Some(name.clone().unwrap_or_else(|| format!("#{}", rule_idx + 1))),
                line: lines.rule(group_idx, rule_idx),
                ..group_position.clone()
            };
            match validate_rule(raw_rule, &raw_group.labels, position.line) {
                Ok(rule) => {
                    if !seen_rules.insert((rule.is_alert(), rule.name.clone(), rule.labels.clone(), rule.expr.clone()))
                    {
                        problem(&position, "duplicate rule: same name, labels and expression in the group".to_owned());
                    }
                    rules.push(rule);
                }
                Err(messages) => {
                    for message in messages {
                        problem(&position, message);
                    }
                }
            }
        }
        groups.push(GroupSpec {
            file: file.to_owned(),
            name: raw_group.name,
            interval,
            limit: raw_group.limit,
            query_offset,
            rules,
        });
    }
    if problems.is_empty() { Ok(groups) } else { Err(problems) }
}

fn validate_rule(
    raw: RawRule,
    group_labels: &BTreeMap<String, String>,
    line: Option<usize>,
) -> Result<RuleSpec, Vec<String>> {
    let mut errors = Vec::new();
    let expr = match &raw.expr {
        None | Some(serde_yaml::Value::Null) => {
            errors.push("field 'expr' must be set in rule".to_owned());
            String::new()
        }
        Some(serde_yaml::Value::String(s)) => s.clone(),
        Some(serde_yaml::Value::Number(n)) => n.to_string(),
        Some(serde_yaml::Value::Bool(b)) => b.to_string(),
        Some(_) => {
            errors.push("field 'expr' must be a string".to_owned());
            String::new()
        }
    };
    if expr.trim().is_empty() && raw.expr.is_some() && errors.is_empty() {
        errors.push("field 'expr' must be set in rule".to_owned());
    } else if !expr.trim().is_empty()
        && let Err(error) = promql::parse(&expr)
    {
        errors.push(format!("could not parse expression: {error}"));
    }
    let name = match (&raw.record, &raw.alert) {
        (Some(_), Some(_)) => {
            errors.push("only one of 'record' and 'alert' must be set".to_owned());
            String::new()
        }
        (None, None) => {
            errors.push("one of 'record' or 'alert' must be set".to_owned());
            String::new()
        }
        (Some(record), None) => {
            if record.is_empty() {
                errors.push("field 'record' must be set in rule".to_owned());
            } else if !series::is_valid_metric_name(record) {
                errors.push(format!("invalid recording rule name: {record}"));
            }
            if raw.annotations.is_some() {
                errors.push("invalid field 'annotations' in recording rule".to_owned());
            }
            if raw.hold.is_some() {
                errors.push("invalid field 'for' in recording rule".to_owned());
            }
            if raw.keep_firing_for.is_some() {
                errors.push("invalid field 'keep_firing_for' in recording rule".to_owned());
            }
            record.clone()
        }
        (None, Some(alert)) => {
            if alert.is_empty() {
                errors.push("field 'alert' must be set in rule".to_owned());
            }
            alert.clone()
        }
    };
    let mut labels = group_labels.clone();
    for (label, value) in raw.labels.unwrap_or_default() {
        if !series::is_valid_label_name(&label) || label == series::METRIC_NAME {
            errors.push(format!("invalid label name: {label}"));
        }
        if raw.record.is_some() && label != series::METRIC_NAME && value.contains("{{") {
            // Prometheus does not expand templates in recording rules; the text is stored as is.
        } else if let Err(message) = Template::parse(&value) {
            errors.push(format!("error parsing templates: label {label}: {message}"));
        }
        labels.insert(label, value);
    }
    let mut parse_duration = |text: &Option<String>, field: &str| -> Duration {
        text.as_ref().map_or(Duration::ZERO, |text| {
            series::parse_duration(text).unwrap_or_else(|message| {
                errors.push(format!("{field}: {message}"));
                Duration::ZERO
            })
        })
    };
    let kind = if raw.alert.is_some() {
        let hold = parse_duration(&raw.hold, "for");
        let keep_firing_for = parse_duration(&raw.keep_firing_for, "keep_firing_for");
        let annotations = raw.annotations.unwrap_or_default();
        for (annotation, text) in &annotations {
            if !series::is_valid_label_name(annotation) {
                errors.push(format!("invalid annotation name: {annotation}"));
            }
            if let Err(message) = Template::parse(text) {
                errors.push(format!("error parsing templates: annotation {annotation}: {message}"));
            }
        }
        RuleKind::Alerting { hold, keep_firing_for, annotations }
    } else {
        RuleKind::Recording
    };
    if errors.is_empty() { Ok(RuleSpec { name, expr, labels, kind, line }) } else { Err(errors) }
}

/// The lines where groups and rules start, found by scanning the text for
/// YAML list items: a group is an item at the indentation of the first
/// group, a rule any deeper item. Block-style files (all real rule files)
/// get exact lines; anything else gets none rather than wrong ones.
struct ItemLines {
    groups: Vec<usize>,
    rules: Vec<Vec<usize>>,
}

impl ItemLines {
    fn scan(text: &str, raw: &RawFile) -> ItemLines {
        let mut groups = Vec::new();
        let mut rules: Vec<Vec<usize>> = Vec::new();
        let mut group_indent: Option<usize> = None;
        let mut rules_indent: Option<usize> = None;
        for (idx, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("-\t")) else { continue };
            let item = item.trim_start();
            if !item.split_once(':').is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                continue;
            }
            match group_indent {
                None => {
                    group_indent = Some(indent);
                    groups.push(idx + 1);
                    rules.push(Vec::new());
                }
                Some(g) if indent == g => {
                    groups.push(idx + 1);
                    rules.push(Vec::new());
                    rules_indent = None;
                }
                Some(g) if indent > g => {
                    let r = *rules_indent.get_or_insert(indent);
                    if indent == r
                        && let Some(current) = rules.last_mut()
                    {
                        current.push(idx + 1);
                    }
                }
                Some(_) => {}
            }
        }
        let consistent = groups.len() == raw.groups.len()
            && rules.iter().zip(&raw.groups).all(|(lines, group)| lines.len() == group.rules.len());
        if consistent { ItemLines { groups, rules } } else { ItemLines { groups: Vec::new(), rules: Vec::new() } }
    }

    fn group(&self, idx: usize) -> Option<usize> {
        self.groups.get(idx).copied()
    }

    fn rule(&self, group: usize, idx: usize) -> Option<usize> {
        self.rules.get(group).and_then(|r| r.get(idx)).copied()
    }
}

#[cfg(test)]
mod tests;
