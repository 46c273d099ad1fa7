//! Errors of the records store.

use std::path::PathBuf;

/// What can go wrong reading or writing records.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened or set up.
    #[error("cannot open records store {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file was written by a newer infersight.
    #[error("records store schema version {found} is newer than this build understands ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A statement failed.
    #[error("records store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored evidence could not be read back.
    #[error("records store: corrupt evidence of exchange {id}: {source}")]
    Evidence {
        /// The exchange.
        id: i64,
        /// Why it did not parse.
        source: serde_json::Error,
    },
    /// An erasure named no user, session or time range: it would erase everything.
    #[error("an erasure needs a user, a session or a time range")]
    NoErasureCriteria,
    /// Stored annotation tags could not be written or read back.
    #[error("records store: tags of an annotation: {0}")]
    Tags(#[source] serde_json::Error),
}

/// Result of the records store.
pub type Result<T, E = Error> = std::result::Result<T, E>;
