//! The gateway's metrics: OpenTelemetry GenAI histograms (in their
//! Prometheus names and with their recommended buckets) and the gateway's
//! own counters.
//!
//! Label values are bounded: model names beyond the configured cap are
//! counted under `_other`, gateway keys by their configured names only, and
//! nothing per request ever becomes a label.

use std::sync::Arc;

use inference::{Exchange, LabelCap, Operation};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The label value of models past the cap.
pub const OTHER_MODEL: &str = inference::OTHER;
/// The label value of requests whose model no upstream serves.
pub const UNKNOWN_MODEL: &str = "_unknown";
/// The label value of requests without a model.
pub const NO_MODEL: &str = "_none";

/// `gen_ai.client.operation.duration` buckets, seconds.
const DURATION_BUCKETS: [f64; 14] =
    [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/// `gen_ai.client.token.usage` buckets, tokens.
const TOKEN_BUCKETS: [f64; 14] = [
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
    67108864.0,
];
/// `gen_ai.server.time_to_first_token` buckets, seconds.
const TTFT_BUCKETS: [f64; 16] =
    [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
/// `gen_ai.server.time_per_output_token` buckets, seconds.
const TPOT_BUCKETS: [f64; 13] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

/// Makes histograms with fixed buckets for a [`Family`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Buckets(&'static [f64]);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// Labels of `gen_ai_client_operation_duration_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    pub gen_ai_operation_name: &'static str,
    pub gen_ai_provider_name: String,
    pub gen_ai_request_model: String,
    pub gen_ai_response_model: String,
    pub server_address: String,
    /// Empty for users, which Prometheus reads as no label; `probe` for
    /// infersight's own probes.
    pub infersight_client: &'static str,
    /// The `[[gateway.key]]` name the client used; empty without one.
    pub infersight_gateway_key: String,
    /// Empty on success.
    pub error_type: String,
}

/// Labels of the token, TTFT and TPOT histograms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ModelLabels {
    pub gen_ai_operation_name: &'static str,
    pub gen_ai_provider_name: String,
    pub gen_ai_request_model: String,
    pub gen_ai_response_model: String,
    pub server_address: String,
    /// Empty for users; `probe` for infersight's own probes.
    pub infersight_client: &'static str,
    /// The `[[gateway.key]]` name the client used; empty without one.
    pub infersight_gateway_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct TokenLabels {
    pub gen_ai_token_type: &'static str,
    // The derive supports a flattened set only as the last field.
    #[prometheus(flatten)]
    pub model: ModelLabels,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    gen_ai_request_model: String,
    status_class: &'static str,
    infersight_gateway_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RejectedLabels {
    infersight_gateway_key: String,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct UpstreamLabels {
    upstream: String,
}

/// The gateway's metrics, registered in the binary's registry. Cloning shares them.
#[derive(Debug, Clone)]
pub struct Metrics {
    operation_duration: Family<OperationLabels, Histogram, Buckets>,
    token_usage: Family<TokenLabels, Histogram, Buckets>,
    time_to_first_token: Family<ModelLabels, Histogram, Buckets>,
    time_per_output_token: Family<ModelLabels, Histogram, Buckets>,
    requests: Family<RequestLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
    in_flight: Gauge,
    connect_errors: Family<UpstreamLabels, Counter>,
    malformed_events: Family<UpstreamLabels, Counter>,
    exchanges_dropped: Counter,
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &mut Registry) -> Metrics {
        let metrics = Metrics {
            operation_duration: Family::new_with_constructor(Buckets(&DURATION_BUCKETS)),
            token_usage: Family::new_with_constructor(Buckets(&TOKEN_BUCKETS)),
            time_to_first_token: Family::new_with_constructor(Buckets(&TTFT_BUCKETS)),
            time_per_output_token: Family::new_with_constructor(Buckets(&TPOT_BUCKETS)),
            requests: Family::default(),
            rejected: Family::default(),
            in_flight: Gauge::default(),
            connect_errors: Family::default(),
            malformed_events: Family::default(),
            exchanges_dropped: Counter::default(),
        };
        registry.register(
            "gen_ai_client_operation_duration_seconds",
            "GenAI operation duration, from the client's request to the end of the response",
            metrics.operation_duration.clone(),
        );
        registry.register(
            "gen_ai_client_token_usage",
            "Tokens used per request, from the upstream's usage, by gen_ai_token_type",
            metrics.token_usage.clone(),
        );
        registry.register(
            "gen_ai_server_time_to_first_token_seconds",
            "Time from the client's request to the first content chunk of a successful stream",
            metrics.time_to_first_token.clone(),
        );
        registry.register(
            "gen_ai_server_time_per_output_token_seconds",
            "Decode time per output token after the first, of successful streams",
            metrics.time_per_output_token.clone(),
        );
        // The text encoder adds `_total` to counter names.
        registry.register(
            "infersight_gateway_requests",
            "Requests answered by the gateway, by requested model, HTTP status class and gateway key",
            metrics.requests.clone(),
        );
        registry.register(
            "infersight_gateway_requests_rejected",
            "Requests the gateway refused for their key, by key name and reason: invalid_api_key, \
             model_not_allowed, requests_per_minute, tokens_per_minute, daily_tokens, daily_dollars",
            metrics.rejected.clone(),
        );
        registry.register(
            "infersight_gateway_requests_in_flight",
            "Requests the gateway is answering now",
            metrics.in_flight.clone(),
        );
        registry.register(
            "infersight_gateway_upstream_connect_errors",
            "Failed attempts to connect to an upstream",
            metrics.connect_errors.clone(),
        );
        registry.register(
            "infersight_gateway_malformed_sse_events",
            "Server-sent events from an upstream whose data was not JSON; they were passed through",
            metrics.malformed_events.clone(),
        );
        registry.register(
            "infersight_gateway_exchanges_dropped",
            "Exchanges not handed to the quality pipeline because its queue was full or closed",
            metrics.exchanges_dropped.clone(),
        );
        metrics
    }

    /// Records what the gateway measures of one finished request, from its
    /// exchange: the operation's duration, its tokens, and for successful
    /// streams TTFT and time per output token. `content_chunks` stands in
    /// for output tokens when the upstream reported no usage.
    pub fn observe(&self, exchange: &Exchange, labels: &ExchangeLabels<'_>, content_chunks: u64) {
        self.count_request(labels.request_model, labels.key, exchange.status);
        let model = ModelLabels {
            gen_ai_operation_name: exchange.operation.as_str(),
            gen_ai_provider_name: exchange.provider.clone(),
            gen_ai_request_model: labels.request_model.to_owned(),
            gen_ai_response_model: labels.response_model.to_owned(),
            server_address: labels.server_address.to_owned(),
            infersight_client: labels.client,
            infersight_gateway_key: labels.key.to_owned(),
        };
        let operation = OperationLabels {
            gen_ai_operation_name: model.gen_ai_operation_name,
            gen_ai_provider_name: model.gen_ai_provider_name.clone(),
            gen_ai_request_model: model.gen_ai_request_model.clone(),
            gen_ai_response_model: model.gen_ai_response_model.clone(),
            server_address: model.server_address.clone(),
            error_type: exchange.error_type.clone().unwrap_or_default(),
            infersight_client: labels.client,
            infersight_gateway_key: model.infersight_gateway_key.clone(),
        };
        self.observe_duration(&operation, exchange.timings.e2e.as_secs_f64());
        if let Some(usage) = exchange.usage {
            self.observe_tokens(&model, "input", usage.input_tokens);
            if exchange.operation != Operation::Embeddings {
                self.observe_tokens(&model, "output", usage.output_tokens);
            }
        }
        if exchange.error_type.is_none() {
            if let Some(ttft) = exchange.timings.ttft {
                self.observe_ttft(&model, ttft.as_secs_f64());
            }
            let output_tokens = exchange.usage.map_or(content_chunks, |usage| usage.output_tokens);
            if let Some(tpot) = exchange.timings.time_per_output_token(output_tokens) {
                self.observe_tpot(&model, tpot.as_secs_f64());
            }
        }
    }

    pub(crate) fn observe_duration(&self, labels: &OperationLabels, seconds: f64) {
        self.operation_duration.get_or_create(labels).observe(seconds);
    }

    pub(crate) fn observe_tokens(&self, labels: &ModelLabels, token_type: &'static str, tokens: u64) {
        let labels = TokenLabels { model: labels.clone(), gen_ai_token_type: token_type };
        self.token_usage.get_or_create(&labels).observe(tokens as f64);
    }

    pub(crate) fn observe_ttft(&self, labels: &ModelLabels, seconds: f64) {
        self.time_to_first_token.get_or_create(labels).observe(seconds);
    }

    pub(crate) fn observe_tpot(&self, labels: &ModelLabels, seconds: f64) {
        self.time_per_output_token.get_or_create(labels).observe(seconds);
    }

    pub(crate) fn count_request(&self, model_label: &str, key: &str, status: u16) {
        let status_class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                gen_ai_request_model: model_label.to_owned(),
                status_class,
                infersight_gateway_key: key.to_owned(),
            })
            .inc();
    }

    /// Counts a request refused for its key: `key` is a configured name, or
    /// empty for a key the gateway does not know.
    pub(crate) fn count_rejected(&self, key: &str, reason: &'static str) {
        self.rejected.get_or_create(&RejectedLabels { infersight_gateway_key: key.to_owned(), reason }).inc();
    }

    pub(crate) fn count_connect_error(&self, upstream: &str) {
        self.connect_errors.get_or_create(&UpstreamLabels { upstream: upstream.to_owned() }).inc();
    }

    pub(crate) fn count_malformed_events(&self, upstream: &str, n_events: u64) {
        self.malformed_events.get_or_create(&UpstreamLabels { upstream: upstream.to_owned() }).inc_by(n_events);
    }

    pub(crate) fn count_exchange_dropped(&self) {
        self.exchanges_dropped.inc();
    }

    /// Counts a request in flight until the guard drops.
    pub(crate) fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }
}

/// The label values of an exchange's metrics, after the model-label cap.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeLabels<'a> {
    /// `gen_ai_request_model`.
    pub request_model: &'a str,
    /// `gen_ai_response_model` (empty when the upstream did not say).
    pub response_model: &'a str,
    /// `server_address`: the upstream's `host:port`.
    pub server_address: &'a str,
    /// `infersight_client`: empty for users.
    pub client: &'static str,
    /// `infersight_gateway_key`: the configured name of the client's key, or empty.
    pub key: &'a str,
}

/// One request in flight; dropping it ends it.
#[derive(Debug)]
pub(crate) struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Model names admitted as label values, at most `cap` of them; the first
/// `cap` distinct names seen keep their own series, later ones become
/// [`OTHER_MODEL`]. Clones share the admitted names.
#[derive(Debug, Clone)]
pub(crate) struct ModelNames(Arc<LabelCap>);

impl ModelNames {
    pub fn new(cap: usize) -> ModelNames {
        ModelNames(Arc::new(LabelCap::new(cap)))
    }

    /// The label value for `model`: itself while the cap allows, else [`OTHER_MODEL`].
    pub fn label(&self, model: &str) -> String {
        self.0.value(model).to_owned()
    }
}

#[cfg(test)]
mod tests;
