//! Errors of building a comparison's inputs.

/// What is wrong with the data handed to a comparison.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Histogram buckets that do not make a histogram.
    #[error("invalid histogram buckets: {message}")]
    InvalidBuckets {
        /// What is wrong, naming the bucket.
        message: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
