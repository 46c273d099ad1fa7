//! A fake LLM judge: an OpenAI-compatible `/v1/chat/completions` on a
//! loopback port that answers verdicts, or, in the order given, the answers
//! of a script (prose, out-of-range scores, error statuses with
//! `Retry-After`, slow answers). It records every request's body.
//!
//! Without a script it answers `{"score": 0.9, ...}`, or `0.1` when the
//! judged answer (the user message) contains `WRONG`, with 100 input and 20
//! output tokens of usage, so a test can count tokens and cost exactly.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with this message content.
    Content(String),
    /// This status, with `Retry-After` seconds when given.
    Status(u16, Option<&'static str>),
    /// The default verdict after this delay.
    Slow(Duration),
}

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<VecDeque<Answer>>,
    requests: Mutex<Vec<Value>>,
}

/// A running fake judge; it stops with the test's runtime.
#[derive(Debug, Clone)]
pub struct FakeJudge {
    shared: Arc<Shared>,
    url: String,
}

impl FakeJudge {
    /// Starts a fake judge that answers `script` first, then verdicts.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub async fn start(script: Vec<Answer>) -> FakeJudge {
        let shared = Arc::new(Shared { script: Mutex::new(script.into()), requests: Mutex::default() });
        let app = axum::Router::new().route("/v1/chat/completions", post(chat)).with_state(Arc::clone(&shared));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeJudge { shared, url }
    }

    /// Its base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bodies of the requests it received, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        self.shared.requests.lock().clone()
    }
}

async fn chat(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let judged = body.pointer("/messages/1/content").and_then(Value::as_str).unwrap_or_default().contains("WRONG");
    shared.requests.lock().push(body);
    let verdict = if judged {
        r#"{"score": 0.1, "reason": "The answer contradicts the request."}"#
    } else {
        r#"{"score": 0.9, "reason": "The answer does what was asked."}"#
    };
    let next = shared.script.lock().pop_front();
    let content = match next {
        None => verdict.to_string(),
        Some(Answer::Content(content)) => content,
        Some(Answer::Status(status, retry_after)) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            let mut response = (status, r#"{"error": {"message": "scripted failure"}}"#).into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert("retry-after", seconds.parse().expect("a header value"));
            }
            return response;
        }
        Some(Answer::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            verdict.to_string()
        }
    };
    Json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    }))
    .into_response()
}
