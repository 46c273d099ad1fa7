//! Why the gateway could not be set up.

use std::fmt;

/// Why [`crate::Gateway::new`] or [`crate::GatewayConfig::validate`] failed.
/// Requests never fail with this type: the client gets an OpenAI-shaped
/// error response instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `[gateway]` section has invalid values; every problem is listed.
    #[error("invalid gateway configuration: {problems}")]
    Config {
        /// Each problem with its key path.
        problems: ConfigProblems,
    },
    /// The HTTP client for an upstream could not be built (TLS setup).
    #[error("cannot build the HTTP client for upstream {upstream:?}")]
    Client {
        /// The upstream's name.
        upstream: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Where it is, like `gateway.upstream[1].url`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

/// Every problem found in one configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", problem.key, problem.message)?;
        }
        Ok(())
    }
}
