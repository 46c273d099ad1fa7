//! HTTP: each replica's OpenAI-compatible API and engine `/metrics`, its node's DCGM exporter, and the control endpoint.
//!
//! Tokens of a request are written at the simulated times the engine
//! produced them (scaled by the clock's speed). A crashed replica answers 503
//! on every path, `/metrics` included, until it restarts; a stream it was
//! serving is cut off without `[DONE]`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http_body::Frame;
use inference::Operation;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{EngineKind, Millis};
use crate::engine::{Event, Finish};
use crate::error::{Error, Result};
use crate::fleet::{Accepted, Fleet, HttpRequest};
use crate::scenario::ScenarioKind;

/// Content type of every `/metrics` page (text format 0.0.4).
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone)]
struct ReplicaState {
    fleet: Fleet,
    name: String,
    engine: EngineKind,
}

/// The replica's own server: `/v1/chat/completions`, `/v1/completions`, `/v1/models`, `/metrics`, `/health`.
pub fn replica_router(fleet: Fleet, replica: &str, engine: EngineKind) -> Router {
    let state = ReplicaState { fleet, name: replica.to_owned(), engine };
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .route("/v1/models", get(models))
        .route("/metrics", get(engine_metrics))
        .route("/health", get(|| async { StatusCode::OK }))
        .layer(middleware::from_fn_with_state(state.clone(), refuse_when_down))
        .with_state(state)
}

/// The DCGM exporter of the replica's node: `/metrics`.
pub fn dcgm_router(fleet: Fleet, replica: &str) -> Router {
    let state = ReplicaState { fleet, name: replica.to_owned(), engine: EngineKind::Vllm };
    Router::new().route("/metrics", get(dcgm_metrics)).with_state(state)
}

/// The control endpoint: `POST /sim/scenario`, `GET /sim/scenarios`, `GET /sim/replicas`.
pub fn control_router(fleet: Fleet) -> Router {
    Router::new()
        .route("/sim/scenario", post(trigger))
        .route("/sim/scenarios", get(|State(fleet): State<Fleet>| async move { axum::Json(fleet.incidents()) }))
        .route("/sim/replicas", get(|State(fleet): State<Fleet>| async move { axum::Json(fleet.replicas()) }))
        .with_state(fleet)
}

/// Where one replica's listeners were bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundReplica {
    /// Replica name.
    pub name: String,
    /// OpenAI API and engine `/metrics`.
    pub api: SocketAddr,
    /// DCGM exporter `/metrics`.
    pub dcgm: SocketAddr,
}

/// Every listener of a fleet, bound and ready to serve.
#[derive(Debug)]
pub struct SimServer {
    fleet: Fleet,
    listeners: Vec<(TcpListener, Router)>,
    replicas: Vec<BoundReplica>,
    control: SocketAddr,
}

impl SimServer {
    /// Binds each replica's API and DCGM listeners and the control listener
    /// (port 0 = a free port), and records the addresses in the fleet so that
    /// [`crate::ReplicaInfo::instance`] names them.
    ///
    /// # Errors
    ///
    /// [`Error::Bind`] when a port cannot be bound.
    pub async fn bind(fleet: &Fleet) -> Result<SimServer> {
        let host = fleet.config().listen_host;
        let mut listeners = Vec::new();
        let mut replicas = Vec::new();
        for replica in &fleet.config().replicas {
            let api = bind(SocketAddr::new(host, replica.port)).await?;
            let dcgm = bind(SocketAddr::new(host, replica.dcgm_port)).await?;
            let bound = BoundReplica { name: replica.name.clone(), api: local_addr(&api)?, dcgm: local_addr(&dcgm)? };
            fleet.set_addresses(&replica.name, bound.api.to_string(), bound.dcgm.to_string());
            listeners.push((api, replica_router(fleet.clone(), &replica.name, replica.engine)));
            listeners.push((dcgm, dcgm_router(fleet.clone(), &replica.name)));
            replicas.push(bound);
        }
        let control = bind(SocketAddr::new(host, fleet.config().control_port)).await?;
        let control_addr = local_addr(&control)?;
        listeners.push((control, control_router(fleet.clone())));
        Ok(SimServer { fleet: fleet.clone(), listeners, replicas, control: control_addr })
    }

    /// Where each replica listens, in config order.
    pub fn replicas(&self) -> &[BoundReplica] {
        &self.replicas
    }

    /// Where the control endpoint listens.
    pub fn control_addr(&self) -> SocketAddr {
        self.control
    }

    /// Serves every listener and keeps the fleet running until `shutdown`.
    ///
    /// # Errors
    ///
    /// [`Error::Serve`] when a listener fails.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let mut servers = tokio::task::JoinSet::new();
        for (listener, router) in self.listeners {
            let addr = local_addr(&listener)?;
            let shutdown = shutdown.clone();
            servers.spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move { shutdown.cancelled().await })
                    .await
                    .map_err(|source| Error::Serve { addr, source })
            });
        }
        let fleet = self.fleet.clone();
        let stepping = shutdown.clone();
        servers.spawn(async move {
            fleet.run(stepping).await;
            Ok(())
        });
        let mut result = Ok(());
        while let Some(joined) = servers.join_next().await {
            match joined {
                Ok(Err(err)) if result.is_ok() => {
                    shutdown.cancel();
                    result = Err(err);
                }
                Ok(_) => {}
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                Err(_) => {}
            }
        }
        result
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr> {
    listener.local_addr().map_err(|source| Error::Serve { addr: SocketAddr::from(([0, 0, 0, 0], 0)), source })
}

async fn refuse_when_down(State(state): State<ReplicaState>, request: Request, next: Next) -> Response {
    if state.fleet.is_up(&state.name) {
        next.run(request).await
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "engine is down\n").into_response()
    }
}

async fn engine_metrics(State(state): State<ReplicaState>) -> Response {
    match state.fleet.engine_metrics(&state.name) {
        Some(page) => metrics_response(page),
        None => (StatusCode::SERVICE_UNAVAILABLE, "engine is down\n").into_response(),
    }
}

async fn dcgm_metrics(State(state): State<ReplicaState>) -> Response {
    match state.fleet.dcgm_metrics(&state.name) {
        Some(page) => metrics_response(page),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn metrics_response(page: String) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(METRICS_CONTENT_TYPE))], page).into_response()
}

async fn models(State(state): State<ReplicaState>) -> Response {
    let model = state.fleet.model_of(&state.name).unwrap_or_default();
    state.fleet.count_http(&state.name, "/v1/models", "GET", 200);
    let created = state.fleet.clock().now_ms() / 1000;
    axum::Json(json!({
        "object": "list",
        "data": [{"id": model, "object": "model", "created": created, "owned_by": state.engine.as_str(), "root": model, "parent": null}],
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct TriggerBody {
    name: String,
    target: String,
    #[serde(default)]
    duration: Option<String>,
}

async fn trigger(State(fleet): State<Fleet>, body: axum::body::Bytes) -> Response {
    let outcome = serde_json::from_slice::<TriggerBody>(&body).map_err(|err| err.to_string()).and_then(|body| {
        let kind: ScenarioKind = body.name.parse().map_err(|err: Error| err.to_string())?;
        let duration = Millis::parse(body.duration.as_deref().unwrap_or("10m")).map_err(|err| err.to_string())?;
        fleet.trigger(kind, &body.target, duration.0).map_err(|err| err.to_string())
    });
    match outcome {
        Ok(incident) => axum::Json(incident).into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": message}))).into_response(),
    }
}

async fn chat(State(state): State<ReplicaState>, body: axum::body::Bytes) -> Response {
    generate(state, Operation::Chat, body).await
}

async fn completions(State(state): State<ReplicaState>, body: axum::body::Bytes) -> Response {
    generate(state, Operation::TextCompletion, body).await
}

fn openai_error(status: StatusCode, kind: &str, message: String) -> Response {
    let body = json!({"object": "error", "message": message, "type": kind, "param": null, "code": status.as_u16()});
    (status, axum::Json(body)).into_response()
}

/// The request fields the simulator reads.
struct Parsed {
    model: String,
    prompt: String,
    max_tokens: Option<u32>,
    stream: bool,
    include_usage: bool,
}

fn parse_request(operation: Operation, body: &[u8]) -> std::result::Result<Parsed, String> {
    let value: Value = serde_json::from_slice(body).map_err(|err| format!("invalid JSON body: {err}"))?;
    let model = value["model"].as_str().ok_or("missing field `model`")?.to_owned();
    let prompt = match operation {
        Operation::TextCompletion => match &value["prompt"] {
            Value::String(text) => text.clone(),
            Value::Array(items) => items.first().and_then(Value::as_str).unwrap_or_default().to_owned(),
            _ => return Err("missing field `prompt`".into()),
        },
        _ => {
            let messages = value["messages"].as_array().ok_or("missing field `messages`")?;
            messages
                .iter()
                .map(|m| {
                    let role = m["role"].as_str().unwrap_or("user");
                    let content = match &m["content"] {
                        Value::String(text) => text.clone(),
                        Value::Array(parts) => {
                            parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" ")
                        }
                        _ => String::new(),
                    };
                    format!("{role}: {content}")
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let max_tokens = value["max_completion_tokens"].as_u64().or_else(|| value["max_tokens"].as_u64());
    Ok(Parsed {
        model,
        prompt,
        max_tokens: max_tokens.map(|n| n.min(u64::from(u32::MAX)) as u32),
        stream: value["stream"].as_bool().unwrap_or(false),
        include_usage: value["stream_options"]["include_usage"].as_bool().unwrap_or(false),
    })
}

/// Every replica also answers as the simulated judge, at once and outside
/// its engine: the judge's load is not the fleet's.
fn judge_answer(prompt: &str) -> Response {
    let crate::judge::JudgeAnswer { content, input_tokens, output_tokens } = crate::judge::answer(prompt);
    axum::Json(json!({
        "id": "chatcmpl-sim-judge",
        "object": "chat.completion",
        "model": crate::judge::JUDGE_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    }))
    .into_response()
}

async fn generate(state: ReplicaState, operation: Operation, body: axum::body::Bytes) -> Response {
    let handler = match operation {
        Operation::TextCompletion => "/v1/completions",
        _ => "/v1/chat/completions",
    };
    let parsed = match parse_request(operation, &body) {
        Ok(parsed) => parsed,
        Err(message) => {
            state.fleet.count_http(&state.name, handler, "POST", 400);
            return openai_error(StatusCode::BAD_REQUEST, "BadRequestError", message);
        }
    };
    if parsed.model == crate::judge::JUDGE_MODEL && operation == Operation::Chat {
        state.fleet.count_http(&state.name, handler, "POST", 200);
        return judge_answer(&parsed.prompt);
    }
    let served = state.fleet.model_of(&state.name).unwrap_or_default();
    if parsed.model != served {
        state.fleet.count_http(&state.name, handler, "POST", 404);
        return openai_error(
            StatusCode::NOT_FOUND,
            "NotFoundError",
            format!("The model `{}` does not exist.", parsed.model),
        );
    }
    let request = HttpRequest {
        operation,
        model: parsed.model.clone(),
        prompt: parsed.prompt.clone(),
        max_tokens: parsed.max_tokens,
        stream: parsed.stream,
        request_bytes: body.len() as u32,
    };
    let Some(accepted) = state.fleet.accept(&state.name, request) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "engine is down\n").into_response();
    };
    let id = format!("{}-{:016x}", if operation == Operation::Chat { "chatcmpl" } else { "cmpl" }, rand_id(&accepted));
    if parsed.stream {
        stream_response(state, operation, accepted, id, parsed.include_usage)
    } else {
        complete_response(state, operation, accepted, id).await
    }
}

fn rand_id(accepted: &Accepted) -> u64 {
    // Unique enough for a simulator: creation time and the answer's length and first token.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in accepted.created_s.to_le_bytes().iter().chain(accepted.tokens.concat().as_bytes().iter().take(64)) {
        h = (h ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (accepted.tokens.len() as u64).rotate_left(32)
}

fn usage_json(prompt_tokens: u32, completion_tokens: u32) -> Value {
    json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens})
}

async fn complete_response(state: ReplicaState, operation: Operation, mut accepted: Accepted, id: String) -> Response {
    let clock = state.fleet.clock().clone();
    let mut generated = 0u32;
    let finish = loop {
        match accepted.events.recv().await {
            Some(Event::Token { index, .. }) => generated = index + 1,
            Some(Event::Done { at_ms, finish }) => {
                clock.sleep_until(at_ms).await;
                break finish;
            }
            None => break Finish::Error,
        }
    };
    if matches!(finish, Finish::Error | Finish::Abort) {
        return openai_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "engine failed".into());
    }
    let text: String = accepted.tokens.iter().take(generated as usize).map(String::as_str).collect();
    let choice = match operation {
        Operation::TextCompletion => {
            json!({"index": 0, "text": text, "logprobs": null, "finish_reason": finish.as_str(), "stop_reason": null})
        }
        _ => json!({
            "index": 0,
            "message": {"role": "assistant", "content": text, "tool_calls": []},
            "logprobs": null,
            "finish_reason": finish.as_str(),
            "stop_reason": null,
        }),
    };
    let object = if operation == Operation::TextCompletion { "text_completion" } else { "chat.completion" };
    axum::Json(json!({
        "id": id,
        "object": object,
        "created": accepted.created_s,
        "model": accepted.model,
        "choices": [choice],
        "usage": usage_json(accepted.prompt_tokens, generated),
    }))
    .into_response()
}

fn stream_response(
    state: ReplicaState,
    operation: Operation,
    accepted: Accepted,
    id: String,
    include_usage: bool,
) -> Response {
    let (tx, rx) = mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(64);
    let clock = state.fleet.clock().clone();
    // One task per stream writes its chunks at their simulated times; it ends
    // with the stream, or when the client goes away and the channel closes.
    tokio::spawn(write_stream(clock, operation, accepted, id, include_usage, tx));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::new(ChannelBody { rx }))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn write_stream(
    clock: crate::clock::Clock,
    operation: Operation,
    mut accepted: Accepted,
    id: String,
    include_usage: bool,
    tx: mpsc::Sender<std::result::Result<Bytes, std::io::Error>>,
) {
    let chat = operation != Operation::TextCompletion;
    let object = if chat { "chat.completion.chunk" } else { "text_completion" };
    let chunk = |choice: Value| {
        let mut value = json!({"id": id, "object": object, "created": accepted.created_s, "model": accepted.model, "choices": [choice]});
        if include_usage {
            value["usage"] = Value::Null;
        }
        Bytes::from(format!("data: {value}\n\n"))
    };
    if chat {
        let first = chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}),
        );
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
    }
    let mut generated = 0u32;
    loop {
        match accepted.events.recv().await {
            Some(Event::Token { index, at_ms }) => {
                clock.sleep_until(at_ms).await;
                let text = accepted.tokens.get(index as usize).map_or("", String::as_str);
                let choice = if chat {
                    json!({"index": 0, "delta": {"content": text}, "logprobs": null, "finish_reason": null})
                } else {
                    json!({"index": 0, "text": text, "logprobs": null, "finish_reason": null})
                };
                generated = index + 1;
                if tx.send(Ok(chunk(choice))).await.is_err() {
                    return;
                }
            }
            Some(Event::Done { at_ms, finish: finish @ (Finish::Stop | Finish::Length) }) => {
                clock.sleep_until(at_ms).await;
                let choice = if chat {
                    json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": finish.as_str(), "stop_reason": null})
                } else {
                    json!({"index": 0, "text": "", "logprobs": null, "finish_reason": finish.as_str(), "stop_reason": null})
                };
                let _ = tx.send(Ok(chunk(choice))).await;
                if include_usage {
                    let usage = json!({
                        "id": id,
                        "object": object,
                        "created": accepted.created_s,
                        "model": accepted.model,
                        "choices": [],
                        "usage": usage_json(accepted.prompt_tokens, generated),
                    });
                    let _ = tx.send(Ok(Bytes::from(format!("data: {usage}\n\n")))).await;
                }
                let _ = tx.send(Ok(Bytes::from_static(b"data: [DONE]\n\n"))).await;
                return;
            }
            Some(Event::Done { at_ms, .. }) => {
                // The engine died: cut the connection as a crashed server would.
                clock.sleep_until(at_ms).await;
                let _ = tx.send(Err(std::io::Error::other("engine died"))).await;
                return;
            }
            None => return,
        }
    }
}

/// A response body fed from a channel; an `Err` item aborts the connection.
struct ChannelBody {
    rx: mpsc::Receiver<std::result::Result<Bytes, std::io::Error>>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, std::io::Error>>> {
        self.rx.poll_recv(cx).map(|item| item.map(|result| result.map(Frame::data)))
    }
}
