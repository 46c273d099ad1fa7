//! A listener that accepts plain TCP or TLS connections, at most
//! `max_connections` at once, with `TCP_NODELAY` on every connection (so
//! that each streamed chunk leaves at once).
//!
//! A connection that arrives while the listener has `max_connections` open
//! (TLS handshakes in progress included) is closed at once and counted, so
//! a flood of idle sockets cannot take every file descriptor; the slot of
//! an open connection is freed when it closes. TLS handshakes run
//! concurrently inside the listener, each bounded by a timeout, so a client
//! that connects and says nothing holds up no one. Failed handshakes (a
//! client without a required certificate, plain HTTP sent to a TLS port)
//! are counted and logged at debug level.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tracing::debug;

use crate::metrics::Metrics;
use crate::server::Limits;
use crate::tls::Certificates;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; past this, new connections wait in the
/// kernel's backlog.
const MAX_HANDSHAKES: usize = 1024;

/// One accepted connection: plain TCP or TLS over TCP, holding its slot
/// of the listener's `max_connections` until it is dropped.
#[derive(Debug)]
pub struct Connection {
    io: Either<TcpStream, Box<TlsStream<TcpStream>>>,
    _slot: Slot,
}

impl Connection {
    /// Whether the connection speaks TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.io, Either::Right(_))
    }
}

/// A connection's place among the listener's open connections.
#[derive(Debug)]
struct Slot {
    _permit: OwnedSemaphorePermit,
    open: Gauge,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit, open: &Gauge) -> Slot {
        open.inc();
        Slot { _permit: permit, open: open.clone() }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.dec();
    }
}

type Handshake = (io::Result<TlsStream<TcpStream>>, SocketAddr, Slot);

/// A TCP listener, with TLS when certificates are given, and its limits.
pub struct Listener {
    name: &'static str,
    tcp: TcpListener,
    tls: Option<Arc<Certificates>>,
    limits: Limits,
    slots: Arc<Semaphore>,
    handshakes: JoinSet<Option<Handshake>>,
    open: Gauge,
    rejected: Counter,
    metrics: Metrics,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("name", &self.name)
            .field("local_addr", &self.tcp.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Listener {
    /// Serves on `tcp`, with TLS when `tls` is given, within `limits`.
    /// `name` (`api`, `gateway`) labels the listener's metrics.
    pub fn new(
        name: &'static str,
        tcp: TcpListener,
        tls: Option<Arc<Certificates>>,
        limits: Limits,
        metrics: Metrics,
    ) -> Listener {
        Listener {
            name,
            tcp,
            tls,
            limits,
            slots: Arc::new(Semaphore::new(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS))),
            handshakes: JoinSet::new(),
            open: metrics.open_connections(name),
            rejected: metrics.rejected_connections(name),
            metrics,
        }
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The name that labels the listener's metrics.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The limits connections are served within.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// What the system reports.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The next connection, its TLS handshake done.
    pub async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            // As axum does: back off on errors such as running out of file descriptors.
                            debug!(error = %error, "Accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() else {
                        self.rejected.inc();
                        debug!(listener = self.name, peer = %peer, "Connection closed: max_connections open");
                        drop(stream);
                        continue;
                    };
                    let slot = Slot::new(permit, &self.open);
                    if let Err(error) = stream.set_nodelay(true) {
                        debug!(error = %error, "Cannot set TCP_NODELAY");
                    }
                    let Some(certificates) = &self.tls else {
                        return (Connection { io: Either::Left(stream), _slot: slot }, peer);
                    };
                    let acceptor = certificates.acceptor();
                    self.handshakes.spawn(async move {
                        let shaken = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await.ok()?;
                        Some((shaken, peer, slot))
                    });
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    match done {
                        Ok(Some((Ok(stream), peer, slot))) => {
                            return (Connection { io: Either::Right(Box::new(stream)), _slot: slot }, peer);
                        }
                        Ok(Some((Err(error), peer, _))) => {
                            self.metrics.handshake_failed();
                            debug!(peer = %peer, error = %error, "TLS handshake failed");
                        }
                        Ok(None) => {
                            self.metrics.handshake_failed();
                            debug!("TLS handshake timed out");
                        }
                        Err(error) => debug!(error = %error, "TLS handshake task failed"),
                    }
                }
            }
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
