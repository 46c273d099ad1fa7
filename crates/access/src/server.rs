//! Serving a router on a [`Listener`]: HTTP/1.1 connections with a header
//! read timeout and a body read timeout, and a graceful shutdown.
//!
//! A client gets `read_header_timeout` to send each request's headers,
//! counted from when the connection is ready for a request (so an idle
//! keep-alive connection is closed after it too, uncounted), and
//! `read_timeout` to send its body, counted from when the headers arrived. A client that
//! trickles a byte at a time (slowloris) is disconnected either way and
//! never holds a connection slot for long. Responses are not bounded: the
//! gateway streams completions for as long as the upstream takes.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::metrics::counter::Counter;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;
use tracing::{debug, trace};

use crate::listener::Listener;

/// The limits of one listener's connections (`[server]`
/// `read_header_timeout`, `read_timeout`, `max_connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a request's headers; an idle keep-alive
    /// connection is closed after it too.
    pub read_header_timeout: Duration,
    /// Time a client has to send a request's body once its headers arrived.
    pub read_timeout: Duration,
    /// Connections open at once; more are closed on arrival.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            read_header_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` fires, then stops
/// accepting, lets each connection finish the request it is serving, and
/// returns when every connection is closed.
pub async fn serve(mut listener: Listener, router: Router, shutdown: CancellationToken) {
    let limits = listener.limits();
    let header_timeouts = listener.metrics().read_timeouts(listener.name(), "header");
    let body_timeouts = listener.metrics().read_timeouts(listener.name(), "body");
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.read_header_timeout).keep_alive(true);
    let mut connections = JoinSet::new();
    loop {
        let (connection, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
            // Reaps finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        trace!(peer = %peer, tls = connection.is_tls(), "Connection accepted");
        let router = router.clone();
        let body_timeouts = body_timeouts.clone();
        let requests = Arc::new(AtomicU64::new(0));
        let requests_seen = Arc::clone(&requests);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            requests_seen.fetch_add(1, Ordering::Relaxed);
            let deadline = Instant::now() + limits.read_timeout;
            let request = request
                .map(|incoming| Body::new(TimeoutBody::new(incoming, deadline, limits.read_timeout, &body_timeouts)));
            router.clone().oneshot(request)
        });
        let served = http.serve_connection(TokioIo::new(connection), service);
        let header_timeouts = header_timeouts.clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut served = std::pin::pin!(served);
            let result = tokio::select! {
                result = served.as_mut() => result,
                () = shutdown.cancelled() => {
                    served.as_mut().graceful_shutdown();
                    served.await
                }
            };
            match result {
                Ok(()) => {}
                // A connection that served requests and then idled past the
                // timeout is closed as keep-alive connections are, uncounted.
                Err(error) if error.is_timeout() && requests.load(Ordering::Relaxed) > 0 => {
                    trace!(peer = %peer, "Idle connection closed after read_header_timeout");
                }
                Err(error) if error.is_timeout() => {
                    header_timeouts.inc();
                    debug!(peer = %peer, "Connection closed: no request headers within read_header_timeout");
                }
                Err(error) => debug!(peer = %peer, error = %error, "Connection failed"),
            }
        });
    }
    // Closing the socket now refuses new connections while the open ones finish.
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// A request body that fails once its deadline passes.
struct TimeoutBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    timeouts: Counter,
    timed_out: bool,
}

impl TimeoutBody {
    fn new(inner: Incoming, deadline: Instant, timeout: Duration, timeouts: &Counter) -> TimeoutBody {
        TimeoutBody {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            timeout,
            timeouts: timeouts.clone(),
            timed_out: false,
        }
    }
}

/// The error a handler reads from a body that was not sent in time.
#[derive(Debug)]
struct BodyTimeout {
    timeout: Duration,
}

impl fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request body not received within read_timeout ({:?})", self.timeout)
    }
}

impl StdError for BodyTimeout {}

impl HttpBody for TimeoutBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.inner.is_end_stream() {
            return Poll::Ready(None);
        }
        if self.timed_out || self.deadline.as_mut().poll(cx).is_ready() {
            if !self.timed_out {
                self.timed_out = true;
                self.timeouts.inc();
            }
            return Poll::Ready(Some(Err(Box::new(BodyTimeout { timeout: self.timeout }))));
        }
        Pin::new(&mut self.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
