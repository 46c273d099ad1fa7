//! Why a scrape failed, and why the scrape manager could not start.

use std::time::Duration;

use crate::exposition::{Format, ParseError};

/// Why one scrape of a target failed. Whatever the reason, nothing of the
/// scrape was stored: the target's `up` became 0 and its series went stale.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The target did not answer, with its whole body, within the timeout.
    #[error("scrape timed out after {timeout:?}")]
    Timeout {
        /// The job's `timeout`.
        timeout: Duration,
    },
    /// The request failed: connection refused, TLS, a broken response.
    #[error("request failed")]
    Request {
        /// What the HTTP client reported.
        #[source]
        source: reqwest::Error,
    },
    /// The target answered with a status other than 2xx.
    #[error("server returned HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The target answered with something that is not a metrics page.
    #[error(
        "unsupported Content-Type {content_type:?}: expected text/plain (version 0.0.4) or application/openmetrics-text"
    )]
    ContentType {
        /// The header as sent.
        content_type: String,
    },
    /// The body could not be read to its end (the connection broke mid-body).
    #[error("cannot read the response body")]
    Body {
        /// What the HTTP client reported.
        #[source]
        source: reqwest::Error,
    },
    /// The body is larger than the scraper accepts.
    #[error("response body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not UTF-8 text.
    #[error("response body is not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// The page does not follow its format.
    #[error("cannot parse the {format} exposition: {source}")]
    Parse {
        /// The format announced by the target.
        format: Format,
        /// Where and why parsing stopped.
        #[source]
        source: ParseError,
    },
    /// A series has the same label twice.
    #[error("label {name:?} appears twice in series {series}")]
    DuplicateLabel {
        /// The repeated label.
        name: String,
        /// The series as written in the page.
        series: String,
    },
    /// More samples than `sample_limit`, after relabelling.
    #[error("sample_limit exceeded: more than {limit} samples after relabelling")]
    SampleLimit {
        /// The limit.
        limit: usize,
    },
    /// A series breaks `label_limit`, `label_name_length_limit` or `label_value_length_limit`.
    #[error("{limit_name} of {limit} exceeded by series {series}")]
    LabelLimit {
        /// Which limit.
        limit_name: &'static str,
        /// Its value.
        limit: usize,
        /// The series, after relabelling.
        series: String,
    },
    /// The store refused the scrape's batch.
    #[error("cannot commit samples")]
    Commit {
        /// The store's error.
        #[source]
        source: series::Error,
    },
    /// A replayed scrape that failed where it happened (the target was down).
    #[error("the replayed scrape failed")]
    Replayed,
}

impl ScrapeError {
    /// A bounded label value for the failure counter.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            ScrapeError::Timeout { .. } => "timeout",
            ScrapeError::Request { .. } => "request",
            ScrapeError::Status { .. } => "http_status",
            ScrapeError::ContentType { .. } => "content_type",
            ScrapeError::Body { .. } | ScrapeError::BodyTooLarge { .. } | ScrapeError::NotUtf8 { .. } => "body",
            ScrapeError::Parse { .. } | ScrapeError::DuplicateLabel { .. } => "parse",
            ScrapeError::SampleLimit { .. } => "sample_limit",
            ScrapeError::LabelLimit { .. } => "label_limit",
            ScrapeError::Commit { .. } => "storage",
            ScrapeError::Replayed => "replayed",
        }
    }

    /// The message with its causes, as `lastError` shows it.
    pub(crate) fn describe(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        // A parse error is already part of the message.
        if matches!(self, ScrapeError::Parse { .. }) {
            source = None;
        }
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// Why the scrape manager could not be created.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client")]
    Client {
        /// What the HTTP client reported.
        #[source]
        source: reqwest::Error,
    },
}
