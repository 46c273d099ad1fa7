//! A listener for `axum::serve` that speaks plain TCP or TLS, with
//! `TCP_NODELAY` on every connection (so that each streamed chunk leaves at
//! once).
//!
//! TLS handshakes run concurrently inside the listener, each bounded by a
//! timeout, so a client that connects and says nothing holds up no one.
//! Failed handshakes (a client without a required certificate, plain HTTP
//! sent to a TLS port) are counted and logged at debug level.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tracing::debug;

use crate::metrics::Metrics;
use crate::tls::Certificates;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; past this, new connections wait in the
/// kernel's backlog.
const MAX_HANDSHAKES: usize = 1024;

/// A connection: plain TCP or TLS over TCP.
pub type Connection = Either<TcpStream, Box<TlsStream<TcpStream>>>;

type Handshake = (io::Result<TlsStream<TcpStream>>, SocketAddr);

/// A TCP listener, with TLS when certificates are given.
pub struct Listener {
    tcp: TcpListener,
    tls: Option<Arc<Certificates>>,
    handshakes: JoinSet<Option<Handshake>>,
    metrics: Metrics,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local_addr", &self.tcp.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Listener {
    /// Serves on `tcp`, with TLS when `tls` is given.
    pub fn new(tcp: TcpListener, tls: Option<Arc<Certificates>>, metrics: Metrics) -> Listener {
        Listener { tcp, tls, handshakes: JoinSet::new(), metrics }
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

impl axum::serve::Listener for Listener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
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
                    if let Err(error) = stream.set_nodelay(true) {
                        debug!(error = %error, "Cannot set TCP_NODELAY");
                    }
                    let Some(certificates) = &self.tls else { return (Either::Left(stream), peer) };
                    let acceptor = certificates.acceptor();
                    self.handshakes.spawn(async move {
                        let shaken = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await.ok()?;
                        Some((shaken, peer))
                    });
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    match done {
                        Ok(Some((Ok(stream), peer))) => return (Either::Right(Box::new(stream)), peer),
                        Ok(Some((Err(error), peer))) => {
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

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}
