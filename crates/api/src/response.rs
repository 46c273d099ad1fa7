//! Prometheus's JSON envelope: `{"status":"success","data":...}` or
//! `{"status":"error","errorType":...,"error":...}`, with its HTTP status codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Prometheus's error types, each with the HTTP status Prometheus answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// The request is malformed (400).
    BadData,
    /// The query could not be evaluated (422).
    Execution,
    /// The query ran past its deadline (503).
    Timeout,
    /// The query was canceled (503).
    Canceled,
    /// A bug or an unexpected failure of the server (500).
    Internal,
    /// The store cannot answer now, for example while it starts (503).
    Unavailable,
    /// The requested object does not exist (404).
    NotFound,
}

impl ErrorType {
    /// The `errorType` string of the JSON envelope.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Internal => "internal",
            ErrorType::Unavailable => "unavailable",
            ErrorType::NotFound => "not_found",
        }
    }

    /// The HTTP status Prometheus sends with this error type.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Timeout | ErrorType::Canceled | ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// An error as the API shows it to a client: a Prometheus error type and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    error_type: ErrorType,
    message: String,
}

impl ApiError {
    /// An error of `error_type` with `message`, shown to the client as is.
    pub fn new(error_type: ErrorType, message: impl Into<String>) -> ApiError {
        ApiError { error_type, message: message.into() }
    }

    /// The Prometheus error type.
    pub fn error_type(&self) -> ErrorType {
        self.error_type
    }

    /// The message shown to the client.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Envelope<'a> {
            status: &'static str,
            #[serde(rename = "errorType")]
            error_type: &'static str,
            error: &'a str,
        }
        let envelope = Envelope { status: "error", error_type: self.error_type.as_str(), error: &self.message };
        json_response(self.error_type.status(), &envelope)
    }
}

/// A successful answer: the `data` and the warnings and infos to show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Success<T> {
    data: T,
    warnings: Vec<String>,
    infos: Vec<String>,
}

impl<T> Success<T> {
    /// An answer with `data` and no warnings.
    pub fn new(data: T) -> Success<T> {
        Success { data, warnings: Vec::new(), infos: Vec::new() }
    }

    /// Adds a warning: the answer is valid but may be incomplete (Grafana shows it).
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Adds an info: a note that does not question the answer.
    pub fn inform(&mut self, info: impl Into<String>) {
        self.infos.push(info.into());
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Envelope<'a, T> {
            status: &'static str,
            data: &'a T,
            // Prometheus omits both lists when they are empty.
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            warnings: &'a [String],
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            infos: &'a [String],
        }
        let envelope = Envelope { status: "success", data: &self.data, warnings: &self.warnings, infos: &self.infos };
        json_response(StatusCode::OK, &envelope)
    }
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
        }
        Err(error) => {
            // Only a Serialize impl that fails on purpose gets here; our data is plain.
            tracing::error!(error = %error, "Cannot encode API response");
            (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
        }
    }
}
