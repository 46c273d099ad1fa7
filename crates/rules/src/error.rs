//! The errors of loading rule files, evaluating rules and running rule tests.

use std::fmt;
use std::path::PathBuf;

/// Where in a rule file a problem is: file, group, rule and line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The file, as given to the loader.
    pub file: String,
    /// The group's name, when the problem is inside a group.
    pub group: Option<String>,
    /// The rule's name (`record` or `alert`), or its 1-based index in the group.
    pub rule: Option<String>,
    /// The 1-based line, where known.
    pub line: Option<usize>,
    /// The 1-based column, where known.
    pub column: Option<usize>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if let Some(group) = &self.group {
            write!(f, ": group {group:?}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ", rule {rule:?}")?;
        }
        Ok(())
    }
}

/// What went wrong in the rules crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file cannot be read.
    #[error("cannot read rule file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A glob pattern is malformed or its directory cannot be listed.
    #[error("bad rule file pattern {pattern:?}: {message}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// One or more problems in rule files; each names its position.
    #[error("{}", format_problems(problems))]
    Invalid {
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
    /// A rule-test file is malformed or refers to something that does not exist.
    #[error("{file}: {message}")]
    Test {
        /// The test file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The HTTP client for notifications cannot be built.
    #[error("cannot build the notification HTTP client")]
    Client {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub position: Position,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.message)
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
