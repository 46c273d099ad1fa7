//! The gateway: an OpenAI-compatible proxy that measures every request.
//!
//! Clients call the gateway as they would call OpenAI
//! (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
//! `/v1/models`); it routes each request by its `model` to one of the
//! configured upstreams, with round robin and failover, and passes the
//! answer back as it arrives: streams chunk by chunk, other bodies byte for
//! byte. On the way it measures the request (OpenTelemetry GenAI metrics in
//! [`Metrics`]) and hands an [`inference::Exchange`] to a bounded channel for
//! the quality pipeline.
//!
//! Clients present a plain `api_keys` key or a named `[[gateway.key]]`
//! (kept as a hash) with its own models, requests and tokens per minute and
//! daily budgets in tokens or dollars (`keys`); its name labels the
//! request's metrics and exchange.
//!
//! The gateway fails open: whatever goes wrong with measuring, the client's
//! request goes on. It does not bind sockets or read the config file (the
//! binary does, and passes a listener to [`serve`]), and does not know what
//! consumes the exchanges.
#![warn(missing_docs)]

mod config;
mod error;
mod gateway;
mod keys;
mod measure;
mod metrics;
mod openai;
mod route;
pub mod sse;

pub use config::{
    GatewayConfig, GatewaySettings, KeyConfig, KeySettings, Limits, Secret, TokenPrice, UpstreamConfig,
    UpstreamSettings,
};
pub use error::{ConfigProblem, ConfigProblems, Error, Result};
pub use gateway::{Gateway, serve};
pub use metrics::{ExchangeLabels, Metrics, NO_MODEL, OTHER_MODEL, UNKNOWN_MODEL};
pub use route::ModelPattern;

/// The time now, in milliseconds since the Unix epoch: the gateway's
/// minute windows and UTC days run on it, so tests can move it.
pub type Clock = std::sync::Arc<dyn Fn() -> i64 + Send + Sync>;

/// The infersight clients the gateway tells apart from users, by their
/// `x-infersight-client` header: their requests carry `infersight_client`
/// on the gateway's metrics and are not handed to the quality pipeline.
pub const CLIENTS: &[&str] = &["probe"];
