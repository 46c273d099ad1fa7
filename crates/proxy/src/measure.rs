//! Measuring one request: timings, tokens and texts as its response passes
//! through, then metrics and an [`Exchange`] when it ends, however it ends.
//!
//! [`MeasuredBody`] wraps the upstream's body and forwards every chunk as it
//! arrives. For a stream it scans the events on the way; when the gateway
//! itself asked for the usage chunk, it strips that one event from what the
//! client sees. To be able to, it holds back the bytes of an event whose end
//! has not arrived yet (servers flush whole events, so in practice nothing
//! waits). Dropping the body before its end (the client went away) still
//! records the request, as cancelled.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use inference::{Exchange, GapSummary, Operation, Timings, Usage};
use tokio::sync::mpsc;
use tracing::debug;

use crate::keys::Admission;
use crate::metrics::{ExchangeLabels, InFlight, Metrics, ModelNames};
use crate::openai::{StreamChunk, WholeResponse, request_text};
use crate::route::Upstream;
use crate::sse::Scanner;

/// The longest response text kept for an exchange; the stream itself is never cut.
const MAX_RESPONSE_TEXT: usize = 1 << 20;
/// The largest whole response parsed for usage; larger ones pass through unmeasured.
const MAX_WHOLE_RESPONSE: usize = 16 << 20;

/// What every request's measurement reports to.
#[derive(Debug)]
pub(crate) struct Sink {
    pub metrics: Metrics,
    pub model_names: ModelNames,
    pub exchanges: mpsc::Sender<Exchange>,
    /// The ids given out, with their models, for feedback.
    pub recent: Arc<inference::Recent>,
}

/// What one event of a stream was, for the body to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// The chunk with `choices: []` and `usage` only.
    UsageOnly,
    Other,
}

/// The measurement of one request in progress.
#[derive(Debug)]
pub(crate) struct Recorder {
    sink: Arc<Sink>,
    id: String,
    start: Instant,
    time_ms: i64,
    operation: Operation,
    request_model: String,
    /// `infersight_client`: empty for users, else one of [`crate::CLIENTS`].
    client: &'static str,
    /// `infersight_gateway_key`: the name of the client's `[[gateway.key]]`, or empty.
    key: String,
    /// The key's admission, charged with what the request used when it ends.
    admission: Option<Admission>,
    /// The end user and session the client named: user data, for the
    /// exchange only (never a label or a log field).
    user: Option<String>,
    session: Option<String>,
    request_body: Bytes,
    stream: bool,
    upstream: Option<Arc<Upstream>>,
    response_model: Option<String>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    response: String,
    ttft: Option<Duration>,
    last_content: Option<Instant>,
    gaps: GapSummary,
    n_content_chunks: u64,
    n_malformed: u64,
    in_flight: Option<InFlight>,
    finished: bool,
}

impl Recorder {
    pub fn new(
        sink: Arc<Sink>,
        id: String,
        start: Instant,
        operation: Operation,
        request_model: String,
        in_flight: InFlight,
    ) -> Self {
        let time_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        Recorder {
            sink,
            id,
            start,
            time_ms,
            operation,
            request_model,
            client: "",
            key: String::new(),
            admission: None,
            user: None,
            session: None,
            request_body: Bytes::new(),
            stream: false,
            upstream: None,
            response_model: None,
            finish_reason: None,
            usage: None,
            response: String::new(),
            ttft: None,
            last_content: None,
            gaps: GapSummary::default(),
            n_content_chunks: 0,
            n_malformed: 0,
            in_flight: Some(in_flight),
            finished: false,
        }
    }

    /// The request as the client sent it, kept for its text.
    pub fn set_request(&mut self, body: Bytes, stream: bool) {
        self.request_body = body;
        self.stream = stream;
    }

    /// The infersight client that sent the request (a probe), not a user.
    pub fn set_client(&mut self, client: &'static str) {
        self.client = client;
    }

    /// The `[[gateway.key]]` the request came with, and its admission.
    pub fn set_key(&mut self, name: &str, admission: Admission) {
        self.key = name.to_owned();
        self.admission = Some(admission);
    }

    /// The end user (the request's `user`) and session (the session
    /// header) the client named, for the exchange.
    pub fn set_subject(&mut self, user: Option<String>, session: Option<String>) {
        self.user = user;
        self.session = session;
    }

    /// The upstream now being tried.
    pub fn set_upstream(&mut self, upstream: Arc<Upstream>) {
        self.upstream = Some(upstream);
    }

    /// Measures one event of a stream.
    fn on_event(&mut self, data: &[u8]) -> EventKind {
        if data == b"[DONE]" {
            return EventKind::Other;
        }
        let Ok(chunk) = serde_json::from_slice::<StreamChunk<'_>>(data) else {
            self.n_malformed += 1;
            return EventKind::Other;
        };
        if self.response_model.is_none()
            && let Some(model) = chunk.model
        {
            self.response_model = Some(model.into_owned());
        }
        let has_usage = chunk.usage.is_some();
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.to_usage());
        }
        let Some(choices) = chunk.choices else { return EventKind::Other };
        if choices.is_empty() {
            return if has_usage { EventKind::UsageOnly } else { EventKind::Other };
        }
        for choice in choices.into_iter().filter(|choice| choice.index == 0) {
            let (content, reasoning) = match choice.delta {
                Some(delta) => (delta.content, delta.reasoning_content),
                None => (choice.text, None),
            };
            let content = content.unwrap_or_default();
            if !content.is_empty() || reasoning.is_some_and(|r| !r.is_empty()) {
                let now = Instant::now();
                match self.last_content {
                    None => self.ttft = Some(now - self.start),
                    Some(last) => self.gaps.record(now - last),
                }
                self.last_content = Some(now);
                self.n_content_chunks += 1;
                push_capped(&mut self.response, &content);
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason.into_owned());
            }
        }
        EventKind::Other
    }

    /// Measures a whole (non-streamed) response body.
    fn on_whole(&mut self, body: &[u8]) {
        let Ok(response) = serde_json::from_slice::<WholeResponse>(body) else { return };
        self.response_model = response.model;
        self.usage = response.usage.map(|usage| usage.to_usage());
        if let Some(choice) = response.choices.into_iter().find(|choice| choice.index == 0) {
            let text = choice.message.and_then(|message| message.content).or(choice.text).unwrap_or_default();
            push_capped(&mut self.response, &text);
            self.finish_reason = choice.finish_reason;
        }
    }

    /// Records the request's metrics and hands on its exchange. `status`
    /// is what the client received; `error_type` says why it failed.
    pub fn finish(mut self, status: u16, error_type: Option<String>) {
        self.record(status, error_type);
    }

    fn record(&mut self, status: u16, error_type: Option<String>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let e2e = self.start.elapsed();
        // The request is over for the client; the bookkeeping below is not part of it.
        drop(self.in_flight.take());
        let sink = Arc::clone(&self.sink);
        let request_label = sink.model_names.label(&self.request_model);
        let (provider, server_address, upstream_name) = match &self.upstream {
            Some(upstream) => (
                upstream.settings.provider.clone(),
                upstream.settings.server_address.clone(),
                upstream.settings.name.clone(),
            ),
            None => Default::default(),
        };
        if self.n_malformed > 0 {
            sink.metrics.count_malformed_events(&upstream_name, self.n_malformed);
        }
        let response_label = self.response_model.as_deref().map(|m| sink.model_names.label(m)).unwrap_or_default();
        if let Some(admission) = self.admission.take() {
            // Without usage (a stream cut before its usage chunk), each content chunk stands in for a token.
            let used = self.usage.unwrap_or(Usage { input_tokens: 0, output_tokens: self.n_content_chunks });
            admission.charge(used);
        }
        let timings = Timings { ttft: self.ttft, e2e, gaps: self.gaps };
        sink.recent.insert(&self.id, &request_label);
        let exchange = Exchange {
            id: std::mem::take(&mut self.id),
            time_ms: self.time_ms,
            operation: self.operation,
            request_model: std::mem::take(&mut self.request_model),
            response_model: self.response_model.take(),
            upstream: upstream_name,
            provider,
            gateway_key: self.key.clone(),
            user: self.user.take(),
            session: self.session.take(),
            stream: self.stream,
            status,
            error_type,
            finish_reason: self.finish_reason.take(),
            timings,
            usage: self.usage,
            prompt: request_text(self.operation, &self.request_body),
            response: std::mem::take(&mut self.response),
        };
        let labels = ExchangeLabels {
            request_model: &request_label,
            response_model: &response_label,
            server_address: &server_address,
            client: self.client,
            key: &self.key,
        };
        sink.metrics.observe(&exchange, &labels, self.n_content_chunks);
        // The quality pipeline scores user traffic; probes score their own answers.
        if !self.client.is_empty() {
            return;
        }
        if let Err(error) = sink.exchanges.try_send(exchange) {
            debug!(error = %error, "Exchange dropped");
            sink.metrics.count_exchange_dropped();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Dropped unfinished: the client went away before the response began
        // (499, as nginx names it), and the upstream request was dropped with it.
        self.record(499, Some("cancelled".into()));
    }
}

fn push_capped(out: &mut String, text: &str) {
    let room = MAX_RESPONSE_TEXT.saturating_sub(out.len());
    if text.len() <= room {
        out.push_str(text);
    } else {
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&text[..end]);
    }
}

/// How the body is measured.
#[derive(Debug)]
enum Mode {
    /// `text/event-stream`: scanned event by event.
    Stream(StreamFilter),
    /// Anything else: a copy kept to parse at the end.
    Whole { copy: Vec<u8>, overflowed: bool },
}

/// Passes a stream's chunks on, scanning its events, and removes the
/// usage-only event when asked to.
#[derive(Debug)]
pub(crate) struct StreamFilter {
    scanner: Scanner,
    /// Whether usage-only events are removed from what the client sees.
    strip_usage: bool,
    /// Bytes received and not yet sent: from `held_start` to the scanner's offset.
    held: BytesMut,
    held_start: u64,
}

impl StreamFilter {
    pub fn new(strip_usage: bool) -> StreamFilter {
        StreamFilter { scanner: Scanner::new(), strip_usage, held: BytesMut::new(), held_start: 0 }
    }

    /// Scans a chunk, calling `on_event` with each event's data, and returns
    /// the bytes to send on: the whole chunk unless usage is stripped, else
    /// everything up to the last complete event, less the usage-only event.
    pub fn pass(&mut self, chunk: Bytes, mut on_event: impl FnMut(&[u8]) -> EventKind) -> Option<Bytes> {
        if !self.strip_usage {
            self.scanner.feed(&chunk, |event| {
                on_event(event.data);
            });
            return Some(chunk);
        }
        let chunk_start = self.scanner.offset();
        let mut strip: Option<(u64, u64)> = None;
        self.scanner.feed(&chunk, |event| {
            // There is one per stream; a second would be the upstream's odd choice, and is kept.
            if on_event(event.data) == EventKind::UsageOnly && strip.is_none() {
                strip = Some((event.start, event.end));
            }
        });
        let send_until = self.scanner.pending_start();
        let received_until = self.scanner.offset();
        if self.held.is_empty() && strip.is_none() && send_until == received_until {
            self.held_start = send_until;
            return Some(chunk);
        }
        // Received and unsent: `held` then `chunk`, from `held_start` on.
        let (held, held_start) = (&self.held[..], self.held_start);
        let piece = |from: u64, to: u64, out: &mut BytesMut| {
            for (bytes, start) in [(held, held_start), (&chunk[..], chunk_start)] {
                let end = start + bytes.len() as u64;
                let (a, b) = (from.max(start), to.min(end));
                if a < b {
                    out.extend_from_slice(&bytes[(a - start) as usize..(b - start) as usize]);
                }
            }
        };
        let mut out = BytesMut::new();
        match strip {
            Some((a, b)) => {
                piece(held_start, a, &mut out);
                piece(b, send_until, &mut out);
            }
            None => piece(held_start, send_until, &mut out),
        }
        let mut rest = BytesMut::new();
        piece(send_until, received_until, &mut rest);
        self.held = rest;
        self.held_start = send_until;
        (!out.is_empty()).then(|| out.freeze())
    }

    /// The bytes held back, for when the stream ends.
    pub fn take_held(&mut self) -> Option<Bytes> {
        (!self.held.is_empty()).then(|| std::mem::take(&mut self.held).freeze())
    }
}

/// The client's response body: the upstream's, measured on the way.
#[derive(Debug)]
pub(crate) struct MeasuredBody {
    inner: reqwest::Body,
    mode: Mode,
    recorder: Option<Recorder>,
    status: u16,
    error_status: bool,
    /// Bytes the upstream has still to send, when it announced its length.
    remaining: Option<u64>,
    /// The upstream failed after the held bytes: send them, then fail.
    failed: Option<reqwest::Error>,
    ended: bool,
}

impl MeasuredBody {
    pub fn new(inner: reqwest::Body, is_sse: bool, strip_usage: bool, status: u16, recorder: Recorder) -> Self {
        let mode = if is_sse {
            Mode::Stream(StreamFilter::new(strip_usage))
        } else {
            Mode::Whole { copy: Vec::new(), overflowed: false }
        };
        MeasuredBody {
            remaining: inner.size_hint().exact(),
            inner,
            mode,
            recorder: Some(recorder),
            status,
            error_status: status >= 400,
            failed: None,
            ended: false,
        }
    }

    /// Measures a chunk and returns the bytes to send on.
    fn on_chunk(&mut self, chunk: Bytes) -> Option<Bytes> {
        let Some(recorder) = self.recorder.as_mut() else { return Some(chunk) };
        match &mut self.mode {
            Mode::Whole { copy, overflowed } => {
                if !*overflowed {
                    if copy.len() + chunk.len() > MAX_WHOLE_RESPONSE {
                        *overflowed = true;
                        *copy = Vec::new();
                    } else {
                        copy.extend_from_slice(&chunk);
                    }
                }
                Some(chunk)
            }
            Mode::Stream(filter) => filter.pass(chunk, |data| recorder.on_event(data)),
        }
    }

    /// Bytes held back when the upstream's body ends.
    fn take_held(&mut self) -> Option<Bytes> {
        match &mut self.mode {
            Mode::Stream(filter) => filter.take_held(),
            Mode::Whole { .. } => None,
        }
    }

    fn finish(&mut self, error_type: Option<&str>) {
        let Some(mut recorder) = self.recorder.take() else { return };
        if let Mode::Whole { copy, overflowed: false } = &self.mode {
            recorder.on_whole(copy);
        }
        let error_type = error_type.map(str::to_owned).or_else(|| self.error_status.then(|| self.status.to_string()));
        recorder.finish(self.status, error_type);
    }
}

impl Body for MeasuredBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Some(error) = this.failed.take() {
            this.ended = true;
            return Poll::Ready(Some(Err(error.into())));
        }
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(chunk) => {
                        if let Some(remaining) = &mut this.remaining {
                            *remaining = remaining.saturating_sub(chunk.len() as u64);
                        }
                        let mut out = this.on_chunk(chunk);
                        // A body of known length ends with its last byte: hyper stops
                        // polling there, so the request is recorded now.
                        if this.remaining == Some(0) || this.inner.is_end_stream() {
                            this.finish(None);
                            this.ended = true;
                            out = concat(out, this.take_held());
                        }
                        if let Some(out) = out {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                        if this.ended {
                            return Poll::Ready(None);
                        }
                    }
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Some(Err(error)) => {
                    debug!(error = %error, "Upstream stream interrupted");
                    this.finish(Some("stream_interrupted"));
                    match this.take_held() {
                        Some(held) => {
                            this.failed = Some(error);
                            return Poll::Ready(Some(Ok(Frame::data(held))));
                        }
                        None => {
                            this.ended = true;
                            return Poll::Ready(Some(Err(error.into())));
                        }
                    }
                }
                None => {
                    this.finish(None);
                    this.ended = true;
                    return Poll::Ready(this.take_held().map(|held| Ok(Frame::data(held))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.failed.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.mode {
            // Passed through byte for byte: the upstream's length holds.
            Mode::Stream(StreamFilter { strip_usage: true, .. }) => SizeHint::default(),
            Mode::Whole { .. } | Mode::Stream(_) => self.inner.size_hint(),
        }
    }
}

fn concat(a: Option<Bytes>, b: Option<Bytes>) -> Option<Bytes> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let mut out = BytesMut::with_capacity(a.len() + b.len());
            out.extend_from_slice(&a);
            out.extend_from_slice(&b);
            Some(out.freeze())
        }
        (a, b) => a.or(b),
    }
}

impl Drop for MeasuredBody {
    fn drop(&mut self) {
        // Dropped before the end: the client went away, and with this body the upstream request goes too.
        self.finish(Some("cancelled"));
    }
}

#[cfg(test)]
mod tests;
