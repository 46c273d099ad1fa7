//! Probe datasets: JSONL items of messages and checks, read strictly.

use serde::Deserialize;
use serde_json::Value;

/// The built-in probe set (see `probes/README.md`).
pub const DEFAULT_SET: &str = include_str!("../probes/default.jsonl");

/// One chat message of an item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// One probe item: what to send, and what a right answer looks like.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// A name, unique in its dataset.
    pub id: String,
    /// The chat messages sent.
    pub messages: Vec<Message>,
    /// Text the answer must state.
    #[serde(default)]
    pub reference: Option<String>,
    /// A JSON Schema the JSON in the answer must satisfy.
    #[serde(default)]
    pub schema: Option<Value>,
    /// Whether a well-behaved model declines (`true`) or answers (`false`).
    #[serde(default)]
    pub refuse: Option<bool>,
    /// A judge rubric the answer is judged by (`correctness` reads
    /// `reference`), when the probe names a judge.
    #[serde(default)]
    pub rubric: Option<String>,
}

impl Item {
    /// The messages' text, one per line, as a judge or a scorer reads the request.
    pub fn prompt(&self) -> String {
        self.messages.iter().map(|message| message.content.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// A line of a dataset that is not an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DatasetError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// A probe dataset: its items, and the lines that were skipped.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// The items, in file order.
    pub items: Vec<Item>,
    /// The lines that are not items.
    pub errors: Vec<DatasetError>,
}

impl Dataset {
    /// Reads JSONL text. Blank lines are skipped; a line that is not an
    /// item (bad JSON, an unknown field, no messages, no check, an id used
    /// before) is recorded in `errors` and skipped.
    pub fn parse(text: &str) -> Dataset {
        let mut dataset = Dataset::default();
        let mut ids = std::collections::HashSet::new();
        for (idx, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let error = |message: String| DatasetError { line: idx + 1, message };
            let item: Item = match serde_json::from_str(line) {
                Ok(item) => item,
                Err(err) => {
                    dataset.errors.push(error(err.to_string()));
                    continue;
                }
            };
            let problem = if item.messages.is_empty() {
                Some("`messages` is empty".to_owned())
            } else if item.reference.is_none()
                && item.schema.is_none()
                && item.refuse.is_none()
                && item.rubric.is_none()
            {
                Some("no check: give `reference`, `schema`, `refuse` or `rubric`".to_owned())
            } else if !ids.insert(item.id.clone()) {
                Some(format!("id {:?} is used twice", item.id))
            } else {
                None
            };
            match problem {
                Some(message) => dataset.errors.push(error(message)),
                None => dataset.items.push(item),
            }
        }
        dataset
    }

    /// The built-in probe set.
    pub fn default_set() -> Dataset {
        Dataset::parse(DEFAULT_SET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_set_parses_whole() {
        let dataset = Dataset::default_set();
        assert!(dataset.errors.is_empty(), "{:?}", dataset.errors);
        assert!(dataset.items.len() >= 7);
        assert!(dataset.items.iter().any(|item| item.refuse == Some(true)));
        assert!(dataset.items.iter().any(|item| item.refuse == Some(false)));
        assert!(dataset.items.iter().any(|item| item.schema.is_some()));
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_skipped() {
        let text = concat!(
            "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"reference\": \"x\"}\n",
            "not json\n",
            "\n",
            "{\"id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n",
            "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"refuse\": false}\n",
            "{\"id\": \"c\", \"messages\": [], \"refuse\": false, \"colour\": 1}\n",
        );
        let dataset = Dataset::parse(text);
        assert_eq!(dataset.items.len(), 1);
        let lines: Vec<usize> = dataset.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, [2, 4, 5, 6]);
        assert!(dataset.errors[1].message.contains("no check"));
        assert!(dataset.errors[3].message.contains("unknown field"));
    }
}
