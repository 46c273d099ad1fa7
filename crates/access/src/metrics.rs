//! Self-metrics of access control: refused requests, TLS handshakes,
//! certificate reloads, and each listener's connections and read timeouts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters shared by every listener's guard and TLS acceptor.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    refused: Family<ReasonLabels, Counter>,
    handshake_failures: Counter,
    reloads: Family<ResultLabels, Counter>,
    connections: Family<ListenerLabels, Gauge>,
    connections_rejected: Family<ListenerLabels, Counter>,
    read_timeouts: Family<TimeoutLabels, Counter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ListenerLabels {
    listener: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TimeoutLabels {
    listener: &'static str,
    phase: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

impl Metrics {
    /// Registers `infersight_http_requests_refused_total{reason}`,
    /// `infersight_tls_handshake_failures_total`,
    /// `infersight_tls_reloads_total{result}`, and per listener
    /// `infersight_http_connections{listener}`,
    /// `infersight_http_connections_rejected_total{listener}` and
    /// `infersight_http_read_timeouts_total{listener,phase}`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics::default();
        registry.register(
            "infersight_http_requests_refused",
            "HTTP requests refused before reaching a handler, by reason (missing, invalid, expired, forbidden, \
             rate_limited, cross_origin)",
            metrics.refused.clone(),
        );
        registry.register(
            "infersight_tls_handshake_failures",
            "TLS handshakes that failed or timed out (a client without a required certificate included)",
            metrics.handshake_failures.clone(),
        );
        registry.register(
            "infersight_tls_reloads",
            "Reloads of TLS certificates after their files changed, by result (success, failure)",
            metrics.reloads.clone(),
        );
        registry.register(
            "infersight_http_connections",
            "Connections open on a listener (api, gateway), TLS handshakes in progress included",
            metrics.connections.clone(),
        );
        registry.register(
            "infersight_http_connections_rejected",
            "Connections closed on arrival because the listener had [server] max_connections open",
            metrics.connections_rejected.clone(),
        );
        registry.register(
            "infersight_http_read_timeouts",
            "Connections closed because the first request's headers (phase=header) or a request's body \
             (phase=body) did not arrive within [server] read_header_timeout or read_timeout; idle keep-alive \
             connections closed after read_header_timeout are not counted",
            metrics.read_timeouts.clone(),
        );
        metrics
    }

    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub(crate) fn handshake_failed(&self) {
        self.handshake_failures.inc();
    }

    /// The gauge of connections open on `listener`.
    pub(crate) fn open_connections(&self, listener: &'static str) -> Gauge {
        self.connections.get_or_create(&ListenerLabels { listener }).clone()
    }

    /// The counter of connections `listener` closed on arrival.
    pub(crate) fn rejected_connections(&self, listener: &'static str) -> Counter {
        self.connections_rejected.get_or_create(&ListenerLabels { listener }).clone()
    }

    /// The counter of `listener`'s connections closed by the read timeout of `phase` (`header`, `body`).
    pub(crate) fn read_timeouts(&self, listener: &'static str, phase: &'static str) -> Counter {
        self.read_timeouts.get_or_create(&TimeoutLabels { listener, phase }).clone()
    }

    pub(crate) fn reloaded(&self, ok: bool) {
        self.reloads.get_or_create(&ResultLabels { result: if ok { "success" } else { "failure" } }).inc();
    }
}
