//! Errors of the scorers, the JSON Schema checker and the JSONL runners.

use std::io;
use std::path::PathBuf;

/// What went wrong while scoring one input or running a JSONL file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No scorer has this name.
    #[error("unknown scorer {0:?}")]
    UnknownScorer(String),
    /// The input lacks a field this scorer needs.
    #[error("missing field {field:?}")]
    MissingField {
        /// The field (or fields, joined by `|`) that was expected.
        field: &'static str,
    },
    /// A field is present but has the wrong JSON type.
    #[error("field {field:?} must be {expected}")]
    WrongType {
        /// The field with the wrong type.
        field: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
    /// The JSON Schema given with a request is not a schema we can check.
    #[error("invalid schema at {path}: {reason}")]
    InvalidSchema {
        /// JSON pointer to the offending keyword.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An input line is not valid JSON (or not a JSON object).
    #[error("invalid JSON: {source}")]
    InvalidJson {
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// An input line is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first invalid byte within the line.
        offset: usize,
    },
    /// Reading the input failed.
    #[error("cannot read input")]
    Read {
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// A file (a training set, a classifier) could not be read.
    #[error("cannot read {}", path.display())]
    ReadPath {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// Writing the output failed.
    #[error("cannot write output")]
    Write {
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
