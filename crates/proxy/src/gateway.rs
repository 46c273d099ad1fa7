//! The gateway's HTTP surface: OpenAI's endpoints, routed by model to the
//! upstreams, with each request's key checked against its models and
//! limits first and the request measured on the way.

use std::io;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST, PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION, RETRY_AFTER, TE, TRAILER, TRANSFER_ENCODING, UPGRADE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use inference::{Exchange, Operation};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, debug_span};

use crate::Clock;
use crate::config::GatewaySettings;
use crate::error::Result;
use crate::keys::{Identity, Keys, Refusal};
use crate::measure::{MeasuredBody, Recorder, Sink};
use crate::metrics::{Metrics, ModelNames, NO_MODEL, UNKNOWN_MODEL};
use crate::openai::{BadRequest, RequestHead, error_response, with_usage_requested};
use crate::route::{Routes, Upstream};

/// The gateway: its routes, upstream clients and measurements. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    keys: Arc<Keys>,
    max_body: usize,
    routes: Routes,
    sink: Arc<Sink>,
}

impl Gateway {
    /// A gateway over the configured upstreams. Every request's metrics go
    /// to `metrics` and its [`Exchange`] to `exchanges` (without waiting: a
    /// full channel drops the exchange and counts it).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Client`] when an upstream's HTTP client cannot be built.
    pub fn new(settings: GatewaySettings, metrics: Metrics, exchanges: mpsc::Sender<Exchange>) -> Result<Gateway> {
        let clock: Clock = Arc::new(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
        });
        Gateway::with_clock(settings, metrics, exchanges, clock)
    }

    /// As [`Gateway::new`], with the keys' minute windows and UTC days on `clock`.
    ///
    /// # Errors
    ///
    /// As [`Gateway::new`].
    pub fn with_clock(
        settings: GatewaySettings,
        metrics: Metrics,
        exchanges: mpsc::Sender<Exchange>,
        clock: Clock,
    ) -> Result<Gateway> {
        let upstreams =
            settings.upstreams.into_iter().map(|u| Upstream::new(u).map(Arc::new)).collect::<Result<Vec<_>>>()?;
        let recent = Arc::new(inference::Recent::new(RECENT_IDS));
        let sink =
            Arc::new(Sink { metrics, model_names: ModelNames::new(settings.model_label_cap), exchanges, recent });
        let keys = Arc::new(Keys::new(settings.api_keys, settings.keys, &settings.prices, clock));
        let inner = Inner { keys, max_body: settings.max_body, routes: Routes::new(upstreams), sink };
        Ok(Gateway { inner: Arc::new(inner) })
    }

    /// The exchange ids the gateway gave out lately, with their models.
    pub fn recent(&self) -> Arc<inference::Recent> {
        Arc::clone(&self.inner.sink.recent)
    }

    /// The OpenAI endpoints: `POST /v1/chat/completions`, `/v1/completions`,
    /// `/v1/embeddings` and `GET /v1/models`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/chat/completions", post(|s, h, b| forward(s, Operation::Chat, h, b)))
            .route("/v1/completions", post(|s, h, b| forward(s, Operation::TextCompletion, h, b)))
            .route("/v1/embeddings", post(|s, h, b| forward(s, Operation::Embeddings, h, b)))
            .route("/v1/models", get(models))
            .with_state(self.clone())
    }
}

/// Serves `router` on `listener` until `shutdown` fires, with `TCP_NODELAY`
/// on every connection so that each streamed chunk leaves at once.
///
/// # Errors
///
/// What the server's accept loop reports.
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) -> io::Result<()> {
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            debug!(error = %error, "Cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
}

/// Headers that belong to one connection, never forwarded (`Expect`
/// included: the gateway has read the body already).
const HOP_BY_HOP: [HeaderName; 10] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    HOST,
    EXPECT,
];

impl Inner {
    /// Who the client is, by its bearer key; `None` for a key the gateway
    /// does not accept. bcrypt hashes are checked on a blocking thread.
    async fn identify(&self, headers: &HeaderMap) -> Option<Identity> {
        let token = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        if !self.keys.needs_blocking() {
            return self.keys.identify(token);
        }
        let keys = Arc::clone(&self.keys);
        let token = token.map(str::to_owned);
        tokio::task::spawn_blocking(move || keys.identify(token.as_deref())).await.ok().flatten()
    }

    /// The `Authorization` to send to `upstream`: its own key, else the
    /// client's, unless the client's is a gateway key.
    fn upstream_authorization<'a>(&self, upstream: &'a Upstream, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        if upstream.authorization.is_some() {
            return upstream.authorization.as_ref();
        }
        if self.keys.checks_keys() { None } else { headers.get(AUTHORIZATION) }
    }

    /// The client's headers to send on: all but the connection's own, the
    /// body's length, `Authorization` (decided per upstream) and
    /// `Accept-Encoding` (the gateway reads the body, so it must come uncompressed).
    fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
        let mut out = HeaderMap::with_capacity(headers.len());
        for (name, value) in headers {
            if HOP_BY_HOP.contains(name)
                || *name == CONTENT_LENGTH
                || *name == AUTHORIZATION
                || *name == ACCEPT_ENCODING
            {
                continue;
            }
            out.append(name.clone(), value.clone());
        }
        out
    }
}

fn unauthorized() -> Response {
    error_response(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        Some("invalid_api_key"),
        "Incorrect API key provided. Send a gateway key as `Authorization: Bearer <key>`.",
    )
}

/// 403 for a model the key may not use.
fn model_not_allowed(key: &str, model: &str) -> Response {
    error_response(
        StatusCode::FORBIDDEN,
        "invalid_request_error",
        Some("model_not_allowed"),
        &format!("The gateway key {key:?} may not use the model `{model}`."),
    )
}

/// 429 for a key over a limit, with `Retry-After` in whole seconds.
fn over_limit(key: &str, refusal: &Refusal) -> Response {
    let mut response = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        refusal.limit.error_type(),
        Some(refusal.limit.as_str()),
        &refusal.message(key),
    );
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(refusal.retry_after_s));
    response
}

/// Exchange ids remembered for feedback on exchanges the pipeline did not keep.
const RECENT_IDS: usize = 100_000;

/// Every response of an OpenAI endpoint carries the exchange's id, errors
/// included, so a client can always send feedback.
async fn forward(State(gateway): State<Gateway>, operation: Operation, headers: HeaderMap, body: Body) -> Response {
    let id = exchange_id();
    let mut response = forward_with_id(gateway, operation, headers, body, id.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(inference::EXCHANGE_ID_HEADER, value);
    }
    response
}

/// A new exchange id: 16 hex digits from the clock, a process-wide counter
/// and the process, mixed so that ids are not sequential.
fn exchange_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut x = nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32) ^ u64::from(std::process::id()) << 48;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("{:016x}", x ^ (x >> 31))
}

async fn forward_with_id(
    gateway: Gateway,
    operation: Operation,
    headers: HeaderMap,
    body: Body,
    id: String,
) -> Response {
    let start = Instant::now();
    let inner = &*gateway.inner;
    let metrics = &inner.sink.metrics;
    let in_flight = metrics.in_flight();
    let Some(identity) = inner.identify(&headers).await else {
        metrics.count_request(NO_MODEL, "", 401);
        metrics.count_rejected("", "invalid_api_key");
        return unauthorized();
    };
    let key_label = identity.label();
    let body = match read_body(body, &headers, inner.max_body).await {
        Ok(body) => body,
        Err(response) => {
            metrics.count_request(NO_MODEL, key_label, response.status().as_u16());
            return response;
        }
    };
    let head = match RequestHead::parse(&body) {
        Ok(head) => head,
        Err(BadRequest::NotJson(message)) => {
            metrics.count_request(NO_MODEL, key_label, 400);
            return error_response(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
        }
        Err(BadRequest::NoModel) => {
            metrics.count_request(NO_MODEL, key_label, 400);
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                "you must provide a model parameter",
            );
        }
    };
    if let Err(BadRequest::NotJson(message)) = head.check(operation) {
        metrics.count_request(NO_MODEL, key_label, 400);
        return error_response(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
    }
    let session = match session_of(&headers) {
        Ok(session) => session,
        Err(message) => {
            metrics.count_request(NO_MODEL, key_label, 400);
            return error_response(StatusCode::BAD_REQUEST, "invalid_request_error", None, &message);
        }
    };
    let model = head.model.as_deref().unwrap_or_default();
    // A key learns nothing of the models it may not use, served or not.
    if let Identity::Named(key) = &identity
        && !key.allows(model)
    {
        metrics.count_request(&inner.sink.model_names.label(model), key_label, 403);
        metrics.count_rejected(key_label, "model_not_allowed");
        return model_not_allowed(key_label, model);
    }
    let candidates = inner.routes.candidates(model);
    if candidates.is_empty() {
        metrics.count_request(UNKNOWN_MODEL, key_label, 404);
        return error_response(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            &format!("The model `{model}` does not exist or no upstream of this gateway serves it."),
        );
    }
    let stream = head.is_stream();
    let upstream_body = if stream && !head.asks_usage() { with_usage_requested(&body, &head) } else { None };
    let strip_usage = upstream_body.is_some();
    let upstream_body = upstream_body.unwrap_or_else(|| body.clone());
    let admission = match &identity {
        Identity::Named(key) => match key.admit(model, inner.keys.clock()) {
            Ok(admission) => Some(admission),
            Err(refusal) => {
                metrics.count_request(&inner.sink.model_names.label(model), key_label, 429);
                metrics.count_rejected(key_label, refusal.limit.as_str());
                debug!(key = key_label, limit = refusal.limit.as_str(), "Gateway key over its limit");
                return over_limit(key_label, &refusal);
            }
        },
        Identity::Open | Identity::Plain => None,
    };
    let mut recorder = Recorder::new(Arc::clone(&inner.sink), id, start, operation, model.to_owned(), in_flight);
    if let Some(admission) = admission {
        recorder.set_key(key_label, admission);
    }
    recorder.set_subject(head.user().map(str::to_owned), session);
    drop(head);
    recorder.set_request(body, stream);
    recorder.set_client(client_of(&headers));
    let span = debug_span!("proxied_request", operation = operation.as_str(), stream);
    send(inner, operation, &headers, upstream_body, strip_usage, candidates, recorder).instrument(span).await
}

/// The `infersight_client` of a request: one of [`crate::CLIENTS`] named by
/// its `x-infersight-client` header, else empty (a user). Unknown names are
/// users too, so the label's values stay bounded.
fn client_of(headers: &HeaderMap) -> &'static str {
    let named = headers.get(inference::CLIENT_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    crate::CLIENTS.iter().copied().find(|&client| client == named).unwrap_or("")
}

/// The session the client named in [`inference::SESSION_HEADER`]: none
/// without the header or with an empty one; refused (the message never
/// repeats the value) when it is not UTF-8 or longer than an id may be.
fn session_of(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get(inference::SESSION_HEADER) else { return Ok(None) };
    let name = inference::SESSION_HEADER;
    let session = std::str::from_utf8(value.as_bytes()).map_err(|_| format!("the {name} header must be UTF-8"))?;
    if session.len() > inference::MAX_SUBJECT_ID_BYTES {
        return Err(format!("the {name} header must be at most {} bytes", inference::MAX_SUBJECT_ID_BYTES));
    }
    Ok((!session.is_empty()).then(|| session.to_owned()))
}

/// Reads the request body, refusing more than `max_body` bytes with 413.
async fn read_body(body: Body, headers: &HeaderMap, max_body: usize) -> Result<Bytes, Response> {
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            &format!("The request body is larger than this gateway's limit of {max_body} bytes."),
        )
    };
    let announced = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max_body as u64) {
        return Err(too_large());
    }
    match Limited::new(body, max_body).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(too_large()),
        Err(error) => Err(error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            &format!("cannot read the request body: {error}"),
        )),
    }
}

/// Sends the request to the candidates in turn until one answers.
async fn send(
    inner: &Inner,
    operation: Operation,
    headers: &HeaderMap,
    body: Bytes,
    strip_usage: bool,
    candidates: Vec<Arc<Upstream>>,
    mut recorder: Recorder,
) -> Response {
    let endpoint = match operation {
        Operation::Chat => "/chat/completions",
        Operation::TextCompletion => "/completions",
        Operation::Embeddings => "/embeddings",
    };
    let forwarded = Inner::forwarded_headers(headers);
    let n_candidates = candidates.len();
    for (attempt, upstream) in candidates.into_iter().enumerate() {
        let is_last = attempt + 1 == n_candidates;
        recorder.set_upstream(Arc::clone(&upstream));
        let mut request = upstream.client.post(upstream.url(endpoint)).headers(forwarded.clone());
        if !forwarded.contains_key(CONTENT_TYPE) {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        if let Some(authorization) = inner.upstream_authorization(&upstream, headers) {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let sent = tokio::time::timeout(upstream.settings.timeout, request.body(body.clone()).send()).await;
        let response = match sent {
            Ok(Ok(response)) if response.status().is_server_error() && !is_last => {
                debug!(upstream = %upstream.settings.name, status = %response.status(), "Upstream failed, trying the next");
                continue;
            }
            Ok(Ok(response)) => response,
            Ok(Err(error)) if error.is_connect() => {
                inner.sink.metrics.count_connect_error(&upstream.settings.name);
                upstream.set_reachable(false, Some(&error));
                continue;
            }
            Ok(Err(error)) => {
                debug!(upstream = %upstream.settings.name, error = %error, "Upstream request failed");
                recorder.finish(502, Some("upstream_error".into()));
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    "server_error",
                    Some("upstream_error"),
                    &format!("The upstream {:?} failed to answer.", upstream.settings.name),
                );
            }
            Err(_elapsed) => {
                recorder.finish(504, Some("timeout".into()));
                return error_response(
                    StatusCode::GATEWAY_TIMEOUT,
                    "server_error",
                    Some("upstream_timeout"),
                    &format!("The upstream {:?} did not start answering in time.", upstream.settings.name),
                );
            }
        };
        upstream.set_reachable(true, None);
        return respond(response, strip_usage, recorder);
    }
    debug!(n_upstreams = n_candidates, "No upstream reachable");
    recorder.finish(502, Some("connect".into()));
    error_response(
        StatusCode::BAD_GATEWAY,
        "server_error",
        Some("upstream_unavailable"),
        "No upstream could be reached.",
    )
}

/// The client's response: the upstream's status, headers and body, measured.
fn respond(response: reqwest::Response, strip_usage: bool, recorder: Recorder) -> Response {
    let status = response.status();
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    let strip_usage = strip_usage && is_sse && status.is_success();
    let response: axum::http::Response<reqwest::Body> = response.into();
    let (mut parts, body) = response.into_parts();
    for name in &HOP_BY_HOP {
        parts.headers.remove(name);
    }
    if strip_usage {
        parts.headers.remove(CONTENT_LENGTH);
    }
    let body = MeasuredBody::new(body, is_sse, strip_usage, status.as_u16(), recorder);
    Response::from_parts(parts, Body::new(body))
}

/// `GET /v1/models`: every upstream's models, merged by id.
async fn models(State(gateway): State<Gateway>, headers: HeaderMap) -> Response {
    let inner = Arc::clone(&gateway.inner);
    let Some(identity) = inner.identify(&headers).await else {
        inner.sink.metrics.count_rejected("", "invalid_api_key");
        return unauthorized();
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (index, upstream) in inner.routes.upstreams().iter().enumerate() {
        let mut request = upstream.client.get(upstream.url("/models"));
        if let Some(authorization) = inner.upstream_authorization(upstream, &headers) {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let timeout = upstream.settings.timeout;
        tasks.spawn(async move {
            let list = async {
                let response = tokio::time::timeout(timeout, request.send()).await.ok()?.ok()?;
                if !response.status().is_success() {
                    return None;
                }
                let bytes = tokio::time::timeout(timeout, response.bytes()).await.ok()?.ok()?;
                let list: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
                list.get("data")?.as_array().cloned()
            };
            (index, list.await)
        });
    }
    // Upstreams answer in any order; merge in configuration order for a stable list.
    let mut answers: Vec<(usize, Vec<serde_json::Value>)> =
        tasks.join_all().await.into_iter().filter_map(|(index, list)| Some((index, list?))).collect();
    answers.sort_by_key(|(index, _)| *index);
    let mut data: Vec<serde_json::Value> = Vec::new();
    let n_answered = answers.len();
    for (_, models) in answers {
        for model in models {
            let id = model.get("id").and_then(|id| id.as_str());
            // A key sees only the models it may use.
            if let Identity::Named(key) = &identity
                && !id.is_some_and(|id| key.allows(id))
            {
                continue;
            }
            if !data.iter().any(|seen| seen.get("id").and_then(|s| s.as_str()) == id) {
                data.push(model);
            }
        }
    }
    if n_answered == 0 {
        return error_response(
            StatusCode::BAD_GATEWAY,
            "server_error",
            Some("upstream_unavailable"),
            "No upstream listed its models.",
        );
    }
    let body = serde_json::json!({ "object": "list", "data": data });
    ([(CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
