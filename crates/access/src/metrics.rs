//! Self-metrics of access control: refused requests, TLS handshakes and
//! certificate reloads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Counters shared by every listener's guard and TLS acceptor.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    refused: Family<ReasonLabels, Counter>,
    handshake_failures: Counter,
    reloads: Family<ResultLabels, Counter>,
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
    /// `infersight_tls_handshake_failures_total` and
    /// `infersight_tls_reloads_total{result}`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics::default();
        registry.register(
            "infersight_http_requests_refused",
            "HTTP requests refused before reaching a handler, by reason (missing, invalid, expired, forbidden, \
             rate_limited)",
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
        metrics
    }

    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub(crate) fn handshake_failed(&self) {
        self.handshake_failures.inc();
    }

    pub(crate) fn reloaded(&self, ok: bool) {
        self.reloads.get_or_create(&ResultLabels { result: if ok { "success" } else { "failure" } }).inc();
    }
}
