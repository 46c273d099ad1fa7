//! Reading TOML text into a [`RawConfig`] with every structural problem at
//! once: syntax, unknown keys (with the nearest known key), wrong types and
//! missing keys, each with its key path and line.
//!
//! serde stops at the first problem, so the text is read into a
//! `toml::Table` and deserialized again and again: after each problem the
//! offending key (or array element) is left out and the rest is tried
//! again, until it deserializes. What is left is still validated, so value
//! problems show up in the same run; the key paths of array elements left
//! out are mapped back to the file as written.

use std::fmt::Write as _;

use super::{Problem, RawConfig};

/// What reading found.
pub(super) struct Reading {
    /// The configuration without the keys that had problems; `None` when
    /// the text is not TOML or nothing could be left out to go on.
    pub raw: Option<RawConfig>,
    /// One problem per bad key, in the order found.
    pub problems: Vec<Problem>,
    /// What was left out, to map later problems back and drop those it caused.
    pub removed: Removed,
}

/// Reads `text`; see the module's documentation.
pub(super) fn read(text: &str) -> Reading {
    let mut removed = Removed::default();
    let mut problems = Vec::new();
    let mut table: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(err) => {
            let err: toml::de::Error = err;
            let location = err.span().map(|span| format!(" (line {})", line_at(text, span.start))).unwrap_or_default();
            let message = format!("not valid TOML: {}{location}", err.message().trim().replace('\n', "; "));
            return Reading { raw: None, problems: vec![Problem { key: "<root>".into(), message }], removed };
        }
    };
    // Each round leaves out one entry, so the rounds end; the bound guards
    // against a deserializer that fails without naming where.
    for _ in 0..1000 {
        let value = toml::Value::Table(table.clone());
        let err = match serde_path_to_error::deserialize::<_, RawConfig>(value) {
            Ok(raw) => return Reading { raw: Some(raw), problems, removed },
            Err(err) => err,
        };
        let Some(path) = segments(err.path()) else {
            problems.push(Problem { key: "<root>".into(), message: err.inner().message().to_owned() });
            break;
        };
        let message = err.into_inner().message().to_owned();
        let original = removed.to_original(&path);
        let problem = describe(&original, &message);
        if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            // A required key left out for its wrong type reappears as
            // missing; it was reported once already.
            let mut key = original.clone();
            key.push(Segment::Key(field.to_owned()));
            if !removed.is_removed(&key) {
                problems.push(problem);
            }
        } else {
            problems.push(problem);
        }
        if path.is_empty() || !remove(&mut table, &path) {
            return Reading { raw: None, problems, removed };
        }
        removed.push(original);
    }
    Reading { raw: None, problems, removed }
}

/// What reading left out of the file, by original key path.
#[derive(Debug, Default)]
pub(super) struct Removed(Vec<Vec<Segment>>);

impl Removed {
    fn push(&mut self, original: Vec<Segment>) {
        self.0.push(original);
    }

    fn is_removed(&self, original: &[Segment]) -> bool {
        self.0.iter().any(|removed| removed == original)
    }

    /// The path in the file of `path`, a path in the configuration with
    /// entries left out: each index counts the elements left out before it.
    fn to_original(&self, path: &[Segment]) -> Vec<Segment> {
        let mut out: Vec<Segment> = Vec::with_capacity(path.len());
        for segment in path {
            match segment {
                Segment::Key(key) => out.push(Segment::Key(key.clone())),
                Segment::Index(index) => {
                    let mut gone: Vec<usize> = self
                        .0
                        .iter()
                        .filter(|removed| removed.len() == out.len() + 1 && removed[..out.len()] == out[..])
                        .filter_map(|removed| match removed.last() {
                            Some(Segment::Index(i)) => Some(*i),
                            _ => None,
                        })
                        .collect();
                    gone.sort_unstable();
                    let mut original = *index;
                    for i in gone {
                        if i <= original {
                            original += 1;
                        }
                    }
                    out.push(Segment::Index(original));
                }
            }
        }
        out
    }

    /// Whether a problem at `key` (a path in the configuration with entries
    /// left out) follows from something left out: it is under a key left out,
    /// or in the same array element as one (a wrong type can leave a block
    /// without a key it needs).
    pub(super) fn caused(&self, key: &str) -> bool {
        let Some(key) = parse_key(key) else { return false };
        let key = self.to_original(&key);
        self.0.iter().any(|removed| {
            let scope = match removed.iter().rposition(|s| matches!(s, Segment::Index(_))) {
                Some(last_index) => &removed[..=last_index],
                None => &removed[..],
            };
            key.starts_with(scope)
        })
    }

    /// `key` (a path in the configuration with entries left out) as a path in the file.
    pub(super) fn map_key(&self, key: &str) -> String {
        if self.0.is_empty() {
            return key.to_owned();
        }
        parse_key(key).map_or_else(|| key.to_owned(), |path| format_key(&self.to_original(&path)))
    }
}

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    /// A key of a table.
    Key(String),
    /// An element of an array.
    Index(usize),
}

fn segments(path: &serde_path_to_error::Path) -> Option<Vec<Segment>> {
    path.iter()
        .map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// `scrape[1].labels."a b"`: keys joined by dots, indexes in brackets,
/// keys that are not bare TOML keys quoted.
pub(super) fn format_key(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                    out.push_str(key);
                } else {
                    let _ = write!(out, "{key:?}");
                }
            }
        }
    }
    if out.is_empty() { "<root>".into() } else { out }
}

/// The segments of a key path as [`format_key`] and the validators write
/// it; `None` for `<root>`, `<file>` and anything else unreadable.
pub(super) fn parse_key(key: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    let mut chars = key.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '.' => {
                chars.next();
            }
            '[' => {
                chars.next();
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                out.push(Segment::Index(digits.parse().ok()?));
            }
            '"' => {
                chars.next();
                let mut name = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => name.push(chars.next()?),
                        other => name.push(other),
                    }
                }
                out.push(Segment::Key(name));
            }
            '<' => return None,
            _ => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                out.push(Segment::Key(name));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Leaves the entry at `path` out of `table`; false when there is none.
fn remove(table: &mut toml::Table, path: &[Segment]) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut node: &mut toml::Value = match parents.first() {
        None => {
            return match last {
                Segment::Key(key) => table.remove(key).is_some(),
                Segment::Index(_) => false,
            };
        }
        Some(Segment::Key(key)) => match table.get_mut(key) {
            Some(value) => value,
            None => return false,
        },
        Some(Segment::Index(_)) => return false,
    };
    for segment in &parents[1..] {
        let next = match (segment, node) {
            (Segment::Key(key), toml::Value::Table(t)) => t.get_mut(key),
            (Segment::Index(i), toml::Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(value) => node = value,
            None => return false,
        }
    }
    match (last, node) {
        (Segment::Key(key), toml::Value::Table(t)) => t.remove(key).is_some(),
        (Segment::Index(i), toml::Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

/// The problem a deserialization error at `path` (in the file) stands for,
/// said for someone new to the file: the key that was meant, or what to write.
fn describe(path: &[Segment], message: &str) -> Problem {
    let key = format_key(path);
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let parent = &path[..path.len().saturating_sub(1)];
        return Problem { key, message: unknown_key(field, parent, &known) };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known = backticked(expected);
        let message = match nearest(value, &known) {
            Some(near) => format!("{value:?} is not one of the accepted values; did you mean {near:?}?"),
            None => format!("{value:?} is not one of the accepted values: {}", quoted_list(&known)),
        };
        return Problem { key, message };
    }
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        let mut with_field = path.to_vec();
        with_field.push(Segment::Key(field.to_owned()));
        return Problem { key: format_key(&with_field), message: "missing: this key is required here".into() };
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let hint = match default_at(path) {
            Some(toml::Value::String(default)) if !default.is_empty() => {
                format!("; write a quoted string, like the default {default:?}")
            }
            Some(toml::Value::Array(_)) => "; write a list in brackets: [\"...\"]".to_owned(),
            _ if expected.starts_with("a string") && (found.starts_with("integer") || found.starts_with("float")) => {
                "; quote it, with its unit where it is a duration or size (\"15s\", \"512MiB\")".to_owned()
            }
            _ if found.starts_with("string") && is_scalar(expected) => "; write it without quotes".to_owned(),
            _ => String::new(),
        };
        return Problem { key, message: format!("{message}{hint}") };
    }
    Problem { key, message: message.to_owned() }
}

/// What to say about an unknown key `field` of the table at `parent`,
/// whose known keys are `known`.
fn unknown_key(field: &str, parent: &[Segment], known: &[String]) -> String {
    let at = |name: &str| {
        let mut path = parent.to_vec();
        path.push(Segment::Key(name.to_owned()));
        format_key(&path)
    };
    if let Some(near) = nearest(field, known) {
        return format!("unknown key; did you mean {}?", at(near));
    }
    let elsewhere = elsewhere(field, parent);
    if !elsewhere.is_empty() {
        return format!("unknown key here; {field} is a key of {}", elsewhere.join(" and "));
    }
    if known.is_empty() {
        return "unknown key; this table takes no keys".into();
    }
    format!("unknown key; known keys here: {}", known.join(", "))
}

/// The tables other than `parent` that know a key called `field`, as
/// `[storage]` or `[[scrape]]`: the right name in the wrong section is a
/// common slip.
fn elsewhere(field: &str, parent: &[Segment]) -> Vec<String> {
    fn walk(table: &toml::Table, path: &mut Vec<Segment>, field: &str, parent: &[Segment], found: &mut Vec<String>) {
        let here: Vec<Segment> = path.iter().filter(|s| matches!(s, Segment::Key(_))).cloned().collect();
        let parent: Vec<Segment> = parent.iter().filter(|s| matches!(s, Segment::Key(_))).cloned().collect();
        for (key, value) in table {
            if key == field && !path.is_empty() && here != parent {
                let name = format_key(&here);
                let in_array = matches!(path.last(), Some(Segment::Index(_)));
                found.push(if in_array { format!("[[{name}]]") } else { format!("[{name}]") });
            }
            path.push(Segment::Key(key.clone()));
            match value {
                toml::Value::Table(inner) => walk(inner, path, field, &parent, found),
                toml::Value::Array(items) => {
                    if let Some(toml::Value::Table(inner)) = items.first() {
                        path.push(Segment::Index(0));
                        walk(inner, path, field, &parent, found);
                        path.pop();
                    }
                }
                _ => {}
            }
            path.pop();
        }
    }
    let mut found = Vec::new();
    walk(&defaults(), &mut Vec::new(), field, parent, &mut found);
    found
}

/// Every key with its default, an element of each array of tables included
/// (its required keys empty): what the hints compare a mistake with.
fn defaults() -> toml::Table {
    fn element<T: serde::de::DeserializeOwned>(required: &[&str]) -> T {
        let table: toml::Table = required.iter().map(|key| ((*key).to_owned(), toml::Value::from(""))).collect();
        toml::Value::Table(table).try_into().expect("the required keys make an element")
    }
    let mut raw = RawConfig::default();
    raw.scrape.push(collectors::scrape::ScrapeConfig::default());
    raw.rule_files.push(rules::RuleFilesConfig::default());
    raw.gateway.upstreams.push(element(&["name", "url"]));
    raw.quality.judge.push(element(&["name", "model"]));
    raw.probes.push(element(&["name"]));
    raw.cost.model.push(element(&["model"]));
    raw.cost.gpu.push(element(&["name"]));
    raw.cost.instance.push(element(&["name"]));
    toml::Table::try_from(raw).expect("the defaults have a TOML form")
}

/// The default at `path` (any element of an array stands for all).
fn default_at(path: &[Segment]) -> Option<toml::Value> {
    let mut node = toml::Value::Table(defaults());
    for segment in path {
        node = match (segment, node) {
            (Segment::Key(key), toml::Value::Table(mut table)) => table.remove(key)?,
            (Segment::Index(_), toml::Value::Array(mut items)) if !items.is_empty() => items.swap_remove(0),
            _ => return None,
        };
    }
    Some(node)
}

/// The known name closest to `name`, if it is close enough to be a slip of
/// the keyboard (an edit or two, or most of the name).
pub(super) fn nearest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    let name_lower = name.to_lowercase();
    known
        .iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&name_lower, candidate);
            (distance, strsim::normalized_damerau_levenshtein(&name_lower, candidate), candidate.as_str())
        })
        .filter(|(distance, similarity, _)| *distance <= 2 || *similarity >= 0.7)
        .min_by_key(|(distance, _, _)| *distance)
        .map(|(_, _, candidate)| candidate)
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

fn quoted_list(names: &[String]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

fn is_scalar(expected: &str) -> bool {
    expected.starts_with("a boolean")
        || expected.starts_with('f')
        || expected.starts_with('u')
        || expected.starts_with('i')
        || expected.contains("integer")
        || expected.contains("float")
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Appends ` (line N)` to each problem whose key is written in `text`, or
/// whose table is (a problem with a default value points at its table),
/// and puts the problems in the order of their lines, those without one last.
pub(super) fn add_lines(text: &str, problems: &mut Vec<Problem>) {
    let Ok(document) = toml_edit::ImDocument::parse(text) else { return };
    let mut located: Vec<(Option<usize>, Problem)> = problems
        .drain(..)
        .map(|mut problem| {
            let offset = parse_key(&problem.key).and_then(|path| locate(&document, &path));
            if let Some(offset) = offset {
                let _ = write!(problem.message, " (line {})", line_at(text, offset));
            }
            (offset, problem)
        })
        .collect();
    located.sort_by_key(|(offset, _)| offset.unwrap_or(usize::MAX));
    problems.extend(located.into_iter().map(|(_, problem)| problem));
}

/// The offset of the deepest key of `path` written in the document; `None`
/// when an index of it is not there (a block added by a flag).
fn locate(document: &toml_edit::ImDocument<&str>, path: &[Segment]) -> Option<usize> {
    enum Node<'a> {
        Item(&'a toml_edit::Item),
        Table(&'a toml_edit::Table),
        Value(&'a toml_edit::Value),
    }
    let mut node = Node::Item(document.as_item());
    let mut offset = None;
    for segment in path {
        match segment {
            Segment::Key(key) => {
                let table: Option<&dyn toml_edit::TableLike> = match &node {
                    Node::Item(item) => item.as_table_like(),
                    Node::Table(table) => Some(*table),
                    Node::Value(value) => value.as_inline_table().map(|t| t as &dyn toml_edit::TableLike),
                };
                let Some((key, item)) = table.and_then(|t| t.get_key_value(key)) else { break };
                offset = key.span().or_else(|| item.span()).map(|span| span.start).or(offset);
                node = Node::Item(item);
            }
            Segment::Index(index) => {
                let next = match &node {
                    Node::Item(toml_edit::Item::ArrayOfTables(tables)) => tables.get(*index).map(Node::Table),
                    Node::Item(toml_edit::Item::Value(toml_edit::Value::Array(array)))
                    | Node::Value(toml_edit::Value::Array(array)) => array.get(*index).map(Node::Value),
                    _ => None,
                };
                node = next?;
                offset = match &node {
                    Node::Table(table) => table.span(),
                    Node::Value(value) => value.span(),
                    Node::Item(item) => item.span(),
                }
                .map(|span| span.start)
                .or(offset);
            }
        }
    }
    offset
}
