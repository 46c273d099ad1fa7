//! The errors a query can end with, and how the API should classify them.

/// What went wrong while parsing or evaluating a query.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query text does not parse (the parser's message, which names the
    /// position where it has one).
    #[error("{message}")]
    Parse {
        /// The parser's description of the problem.
        message: String,
    },
    /// The query parses but cannot be evaluated as asked: a wrong argument
    /// type, an invalid regular expression or label name, a bad parameter.
    #[error("{message}")]
    BadData {
        /// What is wrong with the query.
        message: String,
    },
    /// Evaluation failed on the data: duplicate series in a match group, a
    /// result with two series of the same label set.
    #[error("{message}")]
    Execution {
        /// Prometheus's wording of the failure.
        message: String,
    },
    /// The query would hold more samples in memory than allowed.
    #[error("query processing would load too many samples into memory in query execution")]
    TooManySamples {
        /// The configured limit.
        limit: usize,
    },
    /// A range query asks for more points per series than allowed.
    #[error(
        "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
        with_thousands(*limit)
    )]
    TooManyPoints {
        /// The number of steps the query asks for.
        points: i64,
        /// The configured limit.
        limit: i64,
    },
    /// The query ran longer than the timeout.
    #[error("query timed out in {stage}")]
    Timeout {
        /// Where evaluation was when time ran out.
        stage: &'static str,
    },
    /// The caller canceled the query.
    #[error("query was canceled in {stage}")]
    Canceled {
        /// Where evaluation was when it noticed.
        stage: &'static str,
    },
    /// The query touches something this engine does not support (native histograms).
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is not supported.
        what: String,
    },
    /// The store failed while selecting series.
    #[error("cannot select series")]
    Storage {
        /// The store's error.
        #[source]
        source: series::Error,
    },
}

/// Prometheus's classification of query errors, for the HTTP API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (`bad_data`, HTTP 400).
    BadData,
    /// Evaluation failed (`execution`, HTTP 422).
    Execution,
    /// The query ran out of time (`timeout`, HTTP 503).
    Timeout,
    /// The query was canceled (`canceled`, HTTP 503).
    Canceled,
    /// The store failed (`internal`, HTTP 500).
    Internal,
}

impl Error {
    /// How the HTTP API should report this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse { .. } | Error::BadData { .. } | Error::TooManyPoints { .. } => ErrorKind::BadData,
            Error::Execution { .. } | Error::TooManySamples { .. } | Error::Unsupported { .. } => ErrorKind::Execution,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Canceled { .. } => ErrorKind::Canceled,
            Error::Storage { .. } => ErrorKind::Internal,
        }
    }

    pub(crate) fn bad_data(message: impl Into<String>) -> Error {
        Error::BadData { message: message.into() }
    }

    pub(crate) fn execution(message: impl Into<String>) -> Error {
        Error::Execution { message: message.into() }
    }
}

impl From<series::Error> for Error {
    fn from(source: series::Error) -> Error {
        Error::Storage { source }
    }
}

/// `11000` as `11,000`, as Prometheus words its resolution limit.
fn with_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
