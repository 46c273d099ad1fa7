//! Why a local collector could not collect.

use std::path::PathBuf;

/// What went wrong while reading this machine's metrics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file under `/proc` or `/sys` that the collector needs cannot be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The file, under the collector's root.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// An NVML call failed for a reason other than "not supported".
    #[error("NVML call {call} failed")]
    Nvml {
        /// The NVML function, like `nvmlDeviceGetCount`.
        call: &'static str,
        /// What NVML (or the fake standing in for it) reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Result with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
