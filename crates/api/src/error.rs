//! Errors of the API and how each one is shown to clients.
//!
//! Messages follow Prometheus's wording where clients or people may know it
//! ("no match[] parameter provided"), even where that breaks our habit of
//! lowercase messages ("Invalid time value").

use std::error::Error as _;
use std::num::ParseIntError;

use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use tracing::warn;

use crate::response::{ApiError, ErrorType};

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The form-encoded request body could not be read.
    #[error("error parsing form values")]
    ReadForm {
        /// Why the body could not be read.
        #[source]
        source: BytesRejection,
    },
    /// An endpoint that needs `match[]` got none.
    #[error("no match[] parameter provided")]
    MissingMatch,
    /// A parameter is malformed; `source` says how.
    #[error("invalid parameter {name:?}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with its value.
        #[source]
        source: Box<Error>,
    },
    /// A time is neither RFC 3339 nor Unix seconds.
    #[error("Invalid time value for '{name}': cannot parse {value:?} to a valid timestamp")]
    InvalidTime {
        /// The parameter's name.
        name: &'static str,
        /// The value as sent.
        value: String,
    },
    /// `limit` is not an integer.
    #[error("cannot parse {value:?} to a valid limit")]
    InvalidLimit {
        /// The value as sent.
        value: String,
        /// Why it does not parse.
        #[source]
        source: ParseIntError,
    },
    /// `limit` is negative.
    #[error("limit must be non-negative")]
    NegativeLimit,
    /// A `match[]` selector does not parse; `message` is the parser's.
    #[error("{message}")]
    InvalidSelector {
        /// The selector as sent.
        selector: String,
        /// What the PromQL parser reported.
        message: String,
    },
    /// A `match[]` value parses but is an expression, not a plain selector.
    #[error("{selector:?} is not a metric selector")]
    NotASelector {
        /// The selector as sent.
        selector: String,
    },
    /// A matcher of a `match[]` selector cannot be built (a regex the store rejects).
    #[error("invalid matcher in {selector:?}")]
    InvalidMatcher {
        /// The selector as sent.
        selector: String,
        /// Why the matcher cannot be built.
        #[source]
        source: series::Error,
    },
    /// A `match[]` selector would select every series.
    #[error("match[] must contain at least one non-empty matcher")]
    EmptyMatchers {
        /// The selector as sent.
        selector: String,
    },
    /// A segment of the path is not percent-encoded UTF-8.
    #[error("invalid path: {message}")]
    InvalidPath {
        /// What the router reported.
        message: String,
    },
    /// The label name in the path is not a valid label name.
    #[error("invalid label name: {name:?}")]
    InvalidLabelName {
        /// The name as sent.
        name: String,
    },
    /// A query does not parse.
    #[error("{message}")]
    InvalidQuery {
        /// What the PromQL parser reported.
        message: String,
    },
    /// A duration parameter (`step`, `timeout`) is malformed.
    #[error("cannot parse {value:?} to a valid duration")]
    InvalidDuration {
        /// The value as sent.
        value: String,
    },
    /// A range query's start, end and step do not make a valid range.
    #[error("{message}")]
    BadRange {
        /// Prometheus's wording of the problem.
        message: &'static str,
    },
    /// Query evaluation failed.
    #[error("{}", query_message(.0))]
    Query(promql::Error),
    /// The store failed to answer.
    #[error(transparent)]
    Storage(#[from] series::Error),
    /// A parameter of the exchanges search is malformed.
    #[error("{message}")]
    InvalidFilter {
        /// What is wrong, naming the parameter.
        message: String,
    },
    /// This server keeps no records store (no gateway, or records off).
    #[error("this server keeps no exchange records")]
    NoRecords,
    /// No stored exchange has this id (never sampled, or retention removed it).
    #[error("exchange {id} not found")]
    ExchangeNotFound {
        /// The id asked for.
        id: i64,
    },
    /// No exchange has this gateway id: never seen, or long forgotten.
    #[error("exchange {id:?} not found")]
    UnknownExchange {
        /// The id asked for.
        id: String,
    },
    /// A compare cohort is malformed or names a label no gateway series has.
    #[error("{message}")]
    InvalidCohort {
        /// What is wrong, naming the cohort.
        message: String,
    },
    /// A compare cohort selects no traffic in its window.
    #[error("{message}")]
    EmptyCohort {
        /// Which cohort, and the values its labels do have.
        message: String,
    },
    /// Neither cohort has enough observations for any metric's test.
    #[error("{message}")]
    NotEnoughData {
        /// The cohorts' sizes and what a test needs.
        message: String,
    },
    /// The records store failed to answer.
    #[error(transparent)]
    Records(#[from] records::Error),
    /// The blocking task that read the store panicked or was cancelled.
    #[error("query task failed")]
    Task {
        /// Why the task ended.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// A query error as Prometheus words it: parse errors name the parameter.
fn query_message(error: &promql::Error) -> String {
    match error {
        promql::Error::Parse { .. } => format!("invalid parameter \"query\": {error}"),
        _ => error.to_string(),
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// `self` as the value of parameter `name`.
    pub(crate) fn in_parameter(self, name: &'static str) -> Error {
        Error::InvalidParameter { name, source: Box::new(self) }
    }

    /// The Prometheus error type the client sees.
    pub fn error_type(&self) -> ErrorType {
        match self {
            Error::ReadForm { .. }
            | Error::MissingMatch
            | Error::InvalidParameter { .. }
            | Error::InvalidTime { .. }
            | Error::InvalidLimit { .. }
            | Error::NegativeLimit
            | Error::InvalidSelector { .. }
            | Error::NotASelector { .. }
            | Error::InvalidMatcher { .. }
            | Error::EmptyMatchers { .. }
            | Error::InvalidPath { .. }
            | Error::InvalidLabelName { .. }
            | Error::InvalidQuery { .. }
            | Error::InvalidDuration { .. }
            | Error::BadRange { .. }
            | Error::InvalidFilter { .. }
            | Error::InvalidCohort { .. } => ErrorType::BadData,
            Error::EmptyCohort { .. } | Error::NotEnoughData { .. } => ErrorType::Execution,
            Error::NoRecords | Error::ExchangeNotFound { .. } | Error::UnknownExchange { .. } => ErrorType::NotFound,
            Error::Records(records::Error::NoErasureCriteria) => ErrorType::BadData,
            Error::Records(_) => ErrorType::Internal,
            Error::Query(error) => match error.kind() {
                promql::ErrorKind::BadData => ErrorType::BadData,
                promql::ErrorKind::Execution => ErrorType::Execution,
                promql::ErrorKind::Timeout => ErrorType::Timeout,
                promql::ErrorKind::Canceled => ErrorType::Canceled,
                promql::ErrorKind::Internal => ErrorType::Internal,
            },
            Error::Storage(series::Error::InvalidRegex { .. }) => ErrorType::BadData,
            Error::Storage(series::Error::Unavailable { .. }) => ErrorType::Unavailable,
            Error::Storage(series::Error::Internal(_)) | Error::Task { .. } => ErrorType::Internal,
        }
    }

    /// The message the client sees: this error and its causes, joined by
    /// `": "` as Go's wrapped errors read.
    pub fn to_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = self.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        message
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        let error_type = error.error_type();
        let message = error.to_message();
        // Client mistakes are the client's to read; server failures are ours.
        if matches!(error_type, ErrorType::Internal | ErrorType::Unavailable) {
            warn!(error = %message, "API request failed");
        }
        ApiError::new(error_type, message)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
