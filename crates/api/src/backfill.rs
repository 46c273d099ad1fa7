//! `/api/v1/infersight/backfill`: how far a backfill of simulated history running beside the server has got.

use axum::extract::State;
use serde::Serialize;

use crate::{ApiState, Success};

/// A backfill's figures, as the binary reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackfillStatus {
    /// Still writing.
    pub running: bool,
    /// The history's start, Unix milliseconds.
    pub from_ms: i64,
    /// Its end, where live data starts, Unix milliseconds.
    pub to_ms: i64,
    /// Share of it written, in `[0, 1]`.
    pub progress: f64,
    /// Real time it has taken so far (all of it, once done).
    pub elapsed_seconds: f64,
    /// Real time it should still take, once it can tell.
    pub remaining_seconds: Option<f64>,
}

/// The answer: `state` is `running`, `done`, or `none` (no backfill, as
/// for `infersight serve`, which leaves the other fields out).
#[derive(Debug, Serialize)]
pub(crate) struct Answer {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_seconds: Option<f64>,
}

/// `GET /api/v1/infersight/backfill`: `{"state", "progress" (0 to 1),
/// "from_ms", "to_ms", "elapsed_seconds", "remaining_seconds"}`;
/// the dashboard shows a banner while `state` is `running`.
pub(crate) async fn status(State(state): State<ApiState>) -> Success<Answer> {
    let Some(status) = state.backfill.as_ref().map(|f| f()) else {
        return Success::new(Answer {
            state: "none",
            progress: None,
            from_ms: None,
            to_ms: None,
            elapsed_seconds: None,
            remaining_seconds: None,
        });
    };
    let progress = if status.running { status.progress.clamp(0.0, 1.0) } else { 1.0 };
    Success::new(Answer {
        state: if status.running { "running" } else { "done" },
        progress: Some(progress),
        from_ms: Some(status.from_ms),
        to_ms: Some(status.to_ms),
        elapsed_seconds: Some(status.elapsed_seconds),
        remaining_seconds: if status.running { status.remaining_seconds } else { Some(0.0) },
    })
}
