//! A fake OpenAI-compatible upstream for the gateway's tests and benchmarks.
//!
//! [`FakeUpstream`] serves `/v1/chat/completions`, `/v1/completions`,
//! `/v1/embeddings` and `/v1/models` on an ephemeral loopback port, streamed
//! and not, with deterministic answers: token `i` is `"tok{i} "`, the prompt
//! counts one token per whitespace-separated word, and ids and timestamps
//! are fixed, so a test can predict every byte. [`Behaviour`] sets its pace
//! and its failures; it records every request and the exact bytes it sent.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use bytes::Bytes;
use http_body_util::channel::{Channel, Sender};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// When the fake sends the usage-only chunk at the end of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsageMode {
    /// When the request has `stream_options.include_usage: true`, as OpenAI does.
    #[default]
    WhenAsked,
    /// Never, as servers that ignore `stream_options` do.
    Never,
    /// Always.
    Always,
}

/// How the fake answers. [`Default`] answers 5 tokens at once.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Output tokens per completion.
    pub tokens: usize,
    /// Delay before the response's status and headers.
    pub header_delay: Duration,
    /// Delay between the headers (and, for chats, the role chunk) and the first token.
    pub ttft: Duration,
    /// Delay between tokens.
    pub pace: Duration,
    /// Answer every request with this status and an OpenAI-shaped error.
    pub fail_status: Option<u16>,
    /// Abort the stream (the connection breaks) after this many events.
    pub cut_after: Option<usize>,
    /// Send `data: {not json` as an extra event before the event with this index.
    pub malformed_before: Option<usize>,
    /// When to send the usage chunk.
    pub usage: UsageMode,
    /// The `model` answered with; the request's model when `None`.
    pub response_model: Option<String>,
    /// The ids `/v1/models` lists.
    pub models: Vec<String>,
    /// Send each event in two writes cut mid-line, 1 ms apart.
    pub split_events: bool,
    /// Keep every request and the bytes sent (turn off for load tests).
    pub record: bool,
    /// The answer's words, one per token, cycled to `tokens` tokens; `tok0 tok1 …` when empty.
    pub words: Vec<String>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            tokens: 5,
            header_delay: Duration::ZERO,
            ttft: Duration::ZERO,
            pace: Duration::ZERO,
            fail_status: None,
            cut_after: None,
            malformed_before: None,
            usage: UsageMode::WhenAsked,
            response_model: None,
            models: vec!["fake-model".into()],
            split_events: false,
            record: true,
            words: Vec::new(),
        }
    }
}

/// One request the fake received, and what it answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request path, like `/v1/chat/completions`.
    pub path: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body as JSON (`null` when it was not JSON).
    pub body: Value,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorded {
    /// The response body bytes sent so far, exactly as written.
    pub fn sent(&self) -> Vec<u8> {
        self.sent.lock().clone()
    }

    /// Whether the request asked for the usage chunk.
    pub fn asks_usage(&self) -> bool {
        self.body.pointer("/stream_options/include_usage") == Some(&Value::Bool(true))
    }
}

#[derive(Debug)]
struct Shared {
    behaviour: Mutex<Behaviour>,
    requests: Mutex<Vec<Recorded>>,
    n_cancelled: AtomicUsize,
}

/// A fake upstream LLM server on a loopback port; it stops when dropped.
#[derive(Debug)]
pub struct FakeUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeUpstream {
    /// Starts a fake on an ephemeral port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start(behaviour: Behaviour) -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback port");
        let addr = listener.local_addr().expect("bound address");
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(behaviour),
            requests: Mutex::new(Vec::new()),
            n_cancelled: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/v1/chat/completions", post(complete))
            .route("/v1/completions", post(complete))
            .route("/v1/embeddings", post(complete))
            .route("/v1/models", get(models))
            .with_state(Arc::clone(&shared));
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeUpstream { addr, shared, task }
    }

    /// Base URL of its OpenAI API, `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes how it answers the following requests.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock() = behaviour;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().clone()
    }

    /// Number of streams whose reader went away before their end.
    pub fn n_cancelled(&self) -> usize {
        self.shared.n_cancelled.load(Ordering::Relaxed)
    }

    /// The body the fake sends for `request` (a JSON request to `path`) when
    /// streaming, as it would send it with its current behaviour, cuts and
    /// malformed events aside. For predicting streams byte for byte.
    pub fn expected_stream(&self, path: &str, request: &Value) -> Vec<u8> {
        let behaviour = self.shared.behaviour.lock().clone();
        events(&behaviour, path, request).concat()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const CREATED: u64 = 1_700_000_000;

/// Prompt tokens: one per whitespace-separated word of every string in the request's texts.
fn prompt_tokens(request: &Value) -> usize {
    fn words(value: &Value) -> usize {
        match value {
            Value::String(text) => text.split_whitespace().count(),
            Value::Array(items) => items.iter().map(words).sum(),
            Value::Object(map) => map.get("content").or_else(|| map.get("text")).map_or(0, words),
            _ => 0,
        }
    }
    ["messages", "prompt", "input"].iter().filter_map(|key| request.get(key)).map(words).sum()
}

fn response_model(behaviour: &Behaviour, request: &Value) -> String {
    behaviour
        .response_model
        .clone()
        .unwrap_or_else(|| request.get("model").and_then(Value::as_str).unwrap_or("fake-model").to_owned())
}

fn usage(behaviour: &Behaviour, request: &Value) -> Value {
    let prompt = prompt_tokens(request);
    json!({"prompt_tokens": prompt, "completion_tokens": behaviour.tokens, "total_tokens": prompt + behaviour.tokens})
}

/// Token `i` of the answer, with its trailing space.
fn token(behaviour: &Behaviour, i: usize) -> String {
    match behaviour.words.len() {
        0 => format!("tok{i} "),
        n => format!("{} ", behaviour.words[i % n]),
    }
}

fn text(behaviour: &Behaviour) -> String {
    (0..behaviour.tokens).map(|i| token(behaviour, i)).collect()
}

fn sse(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// The events of a streamed answer, in order.
fn events(behaviour: &Behaviour, path: &str, request: &Value) -> Vec<Bytes> {
    let model = response_model(behaviour, request);
    let chat = path.ends_with("/chat/completions");
    let (id, object) = if chat { ("chatcmpl-fake", "chat.completion.chunk") } else { ("cmpl-fake", "text_completion") };
    let chunk =
        |choices: Value| json!({"id": id, "object": object, "created": CREATED, "model": model, "choices": choices});
    let mut out = Vec::with_capacity(behaviour.tokens + 4);
    if chat {
        out.push(sse(&chunk(
            json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]),
        )));
    }
    for i in 0..behaviour.tokens {
        let token = token(behaviour, i);
        let choice = if chat {
            json!({"index": 0, "delta": {"content": token}, "logprobs": null, "finish_reason": null})
        } else {
            json!({"index": 0, "text": token, "logprobs": null, "finish_reason": null})
        };
        out.push(sse(&chunk(json!([choice]))));
    }
    let last = if chat {
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"})
    } else {
        json!({"index": 0, "text": "", "logprobs": null, "finish_reason": "stop"})
    };
    out.push(sse(&chunk(json!([last]))));
    let asked = request.pointer("/stream_options/include_usage") == Some(&Value::Bool(true));
    let send_usage = match behaviour.usage {
        UsageMode::WhenAsked => asked,
        UsageMode::Never => false,
        UsageMode::Always => true,
    };
    if send_usage {
        let mut usage_chunk = chunk(json!([]));
        usage_chunk["usage"] = usage(behaviour, request);
        out.push(sse(&usage_chunk));
    }
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

fn whole(behaviour: &Behaviour, path: &str, request: &Value) -> Value {
    let model = response_model(behaviour, request);
    let usage = usage(behaviour, request);
    if path.ends_with("/embeddings") {
        let prompt = prompt_tokens(request);
        return json!({
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.0, 0.5, 1.0]}],
            "model": model,
            "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
        });
    }
    let text = text(behaviour);
    if path.ends_with("/chat/completions") {
        json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": null, "finish_reason": "stop"}],
            "usage": usage,
        })
    } else {
        json!({
            "id": "cmpl-fake", "object": "text_completion", "created": CREATED, "model": model,
            "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": "stop"}],
            "usage": usage,
        })
    }
}

async fn complete(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let behaviour = shared.behaviour.lock().clone();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_owned();
    let sent = Arc::new(Mutex::new(Vec::new()));
    if behaviour.record {
        let recorded = Recorded { path: path.clone(), headers, body: request.clone(), sent: Arc::clone(&sent) };
        shared.requests.lock().push(recorded);
    }
    if !behaviour.header_delay.is_zero() {
        tokio::time::sleep(behaviour.header_delay).await;
    }
    if let Some(status) = behaviour.fail_status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let error = json!({"error": {"message": "fake failure", "type": "server_error", "param": null, "code": null}});
        let error = error.to_string();
        if behaviour.record {
            sent.lock().extend_from_slice(error.as_bytes());
        }
        return (status, [(CONTENT_TYPE, "application/json")], error).into_response();
    }
    let stream = request.get("stream") == Some(&Value::Bool(true)) && !path.ends_with("/embeddings");
    if !stream {
        tokio::time::sleep(behaviour.ttft).await;
        let body = whole(&behaviour, &path, &request).to_string();
        if behaviour.record {
            sent.lock().extend_from_slice(body.as_bytes());
        }
        return ([(CONTENT_TYPE, "application/json")], body).into_response();
    }
    let (sender, channel) = Channel::<Bytes, std::io::Error>::new(4);
    let events = events(&behaviour, &path, &request);
    // Chats open with a role chunk before the first token; completions with the first token.
    let first_token = usize::from(path.ends_with("/chat/completions"));
    tokio::spawn(write_stream(shared, behaviour, events, first_token, sender, sent));
    ([(CONTENT_TYPE, "text/event-stream")], Body::new(channel)).into_response()
}

async fn write_stream(
    shared: Arc<Shared>,
    behaviour: Behaviour,
    events: Vec<Bytes>,
    first_token: usize,
    mut sender: Sender<Bytes, std::io::Error>,
    sent: Arc<Mutex<Vec<u8>>>,
) {
    // Tokens are due at fixed times from the first, so a late wake-up does not
    // push back the tokens after it (as a real decoder's pace does not slow
    // down when one write is late).
    let mut first_token_at = tokio::time::Instant::now();
    for (i, event) in events.into_iter().enumerate() {
        if behaviour.cut_after == Some(i) {
            // Let the server write what it was given before the connection breaks.
            tokio::time::sleep(Duration::from_millis(20)).await;
            sender.abort(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fake upstream cut the stream"));
            return;
        }
        if i == first_token {
            tokio::time::sleep(behaviour.ttft).await;
            first_token_at = tokio::time::Instant::now();
        } else if i > first_token && i < first_token + behaviour.tokens && !behaviour.pace.is_zero() {
            let n_before = u32::try_from(i - first_token).unwrap_or(u32::MAX);
            tokio::time::sleep_until(first_token_at + behaviour.pace * n_before).await;
        }
        let malformed = Bytes::from_static(b"data: {not json\n\n");
        if behaviour.malformed_before == Some(i) && !send(&shared, &mut sender, &sent, &behaviour, malformed).await {
            return;
        }
        let pieces = if behaviour.split_events && event.len() > 3 {
            let cut = event.len() / 2;
            vec![event.slice(..cut), event.slice(cut..)]
        } else {
            vec![event]
        };
        for (j, piece) in pieces.into_iter().enumerate() {
            if j > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            if !send(&shared, &mut sender, &sent, &behaviour, piece).await {
                return;
            }
        }
    }
}

/// Sends one piece; false when the reader has gone.
async fn send(
    shared: &Shared,
    sender: &mut Sender<Bytes, std::io::Error>,
    sent: &Mutex<Vec<u8>>,
    behaviour: &Behaviour,
    piece: Bytes,
) -> bool {
    let copy = behaviour.record.then(|| piece.clone());
    if sender.send_data(piece).await.is_err() {
        shared.n_cancelled.fetch_add(1, Ordering::Relaxed);
        return false;
    }
    if let Some(copy) = copy {
        sent.lock().extend_from_slice(&copy);
    }
    true
}

async fn models(State(shared): State<Arc<Shared>>) -> Result<Response, Infallible> {
    let behaviour = shared.behaviour.lock().clone();
    if let Some(status) = behaviour.fail_status {
        return Ok(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR).into_response());
    }
    let data: Vec<Value> = behaviour
        .models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": CREATED, "owned_by": "fake"}))
        .collect();
    Ok(([(CONTENT_TYPE, "application/json")], json!({"object": "list", "data": data}).to_string()).into_response())
}
