//! Errors of the storage traits.

/// What went wrong while appending or selecting samples.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A label matcher's regular expression does not compile.
    #[error("invalid regular expression {pattern:?} in matcher for label {label:?}")]
    InvalidRegex {
        /// The label the matcher applies to.
        label: String,
        /// The pattern as written by the user.
        pattern: String,
        /// Why it does not compile.
        #[source]
        source: regex::Error,
    },
    /// The store cannot accept writes right now (disk full, WAL unwritable).
    /// Senders should retry later; nothing of the batch was acknowledged.
    #[error("storage is unavailable: {reason}")]
    Unavailable {
        /// What the store could not do.
        reason: String,
        /// The underlying I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The store failed in a way that is not the caller's fault.
    #[error("storage error: {0}")]
    Internal(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
