//! Errors of the store.

use std::io;
use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another process holds the data directory.
    #[error("data directory {} is locked by another process", path.display())]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// A file could not be read, written, created or removed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: "write", "create", "read", "sync", ...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A block's files are not in a format this version reads.
    #[error("block {} is corrupt: {reason}", path.display())]
    CorruptBlock {
        /// The block directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The write-ahead log cannot take writes until the store is reopened.
    #[error("write-ahead log is unusable after an earlier failure")]
    WalBroken,
}

impl Error {
    /// An I/O error while doing `action` on `path`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { action, path: path.into(), source }
    }
}

impl From<Error> for series::Error {
    fn from(err: Error) -> series::Error {
        match err {
            Error::Io { source, action, path } => {
                series::Error::Unavailable { reason: format!("cannot {action} {}", path.display()), source }
            }
            Error::WalBroken => series::Error::Unavailable {
                reason: "write-ahead log is unusable after an earlier failure".into(),
                source: io::Error::other("write-ahead log broken"),
            },
            other => series::Error::Internal(other.to_string()),
        }
    }
}

/// Result with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
