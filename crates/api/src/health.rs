//! `/-/healthy` and `/-/ready`: the probes Prometheus answers in plain text.

use axum::extract::State;
use axum::http::StatusCode;

use crate::ApiState;

/// `GET /-/healthy`: 200 while the process serves HTTP at all.
pub(crate) async fn healthy() -> &'static str {
    "infersight is Healthy.\n"
}

/// `GET /-/ready`: 200 once the store can answer queries, 503 before.
pub(crate) async fn ready(State(state): State<ApiState>) -> (StatusCode, &'static str) {
    if state.is_ready() {
        (StatusCode::OK, "infersight is Ready.\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    }
}
