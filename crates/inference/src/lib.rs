//! The inference exchange: one request to a model and its answer, as the gateway measured it.
//!
//! The gateway (crate `proxy`) builds an [`Exchange`] for every request it
//! forwards and hands it on through a bounded channel; the quality pipeline
//! samples, redacts, stores and scores it. Nothing here is a metric label:
//! an exchange carries the per-request detail (text, timings) that labels
//! must never carry.

mod label_cap;
mod recent;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use label_cap::{LabelCap, OTHER};
pub use recent::Recent;

/// The response header that carries an exchange's id to the client, for
/// feedback (`POST /api/v1/infersight/exchanges/{id}/feedback`).
pub const EXCHANGE_ID_HEADER: &str = "x-infersight-exchange-id";

/// The header by which infersight's own clients (judges, probes) say who
/// they are, so their traffic is never counted as a user's.
pub const CLIENT_HEADER: &str = "x-infersight-client";

/// The request header by which a client names the conversation or session a
/// request belongs to, kept as the exchange's [`Exchange::session`] so that
/// a session's exchanges can be found and erased together.
pub const SESSION_HEADER: &str = "x-infersight-session";

/// The longest user or session id kept, in bytes; the gateway refuses
/// longer ones (an id, not a text).
pub const MAX_SUBJECT_ID_BYTES: usize = 256;

/// What kind of request it was, named as OpenTelemetry's `gen_ai.operation.name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/completions`.
    TextCompletion,
    /// `POST /v1/embeddings`.
    Embeddings,
}

impl Operation {
    /// The value of the `gen_ai_operation_name` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Chat => "chat",
            Operation::TextCompletion => "text_completion",
            Operation::Embeddings => "embeddings",
        }
    }
}

/// Token counts from the upstream's `usage` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// `prompt_tokens`.
    pub input_tokens: u64,
    /// `completion_tokens`.
    pub output_tokens: u64,
}

/// The gaps between consecutive content chunks of a stream, summarised.
///
/// Keeping a summary rather than every gap bounds an exchange's size for
/// streams of any length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GapSummary {
    /// Number of gaps (content chunks minus one).
    pub count: u32,
    /// Mean gap.
    #[serde(with = "seconds")]
    pub mean: Duration,
    /// Longest gap.
    #[serde(with = "seconds")]
    pub max: Duration,
}

impl GapSummary {
    /// Adds one gap.
    pub fn record(&mut self, gap: Duration) {
        let n = self.count + 1;
        // Incremental mean: exact enough for durations far below 2^53 ns.
        let mean = self.mean.as_secs_f64() + (gap.as_secs_f64() - self.mean.as_secs_f64()) / f64::from(n);
        self.mean = Duration::from_secs_f64(mean.max(0.0));
        self.max = self.max.max(gap);
        self.count = n;
    }
}

/// When things happened, measured by the gateway from the moment the
/// client's request was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Time to the first content token, for streams that produced one.
    #[serde(with = "seconds::option", default)]
    pub ttft: Option<Duration>,
    /// Time to the end of the response (or to the failure).
    #[serde(with = "seconds")]
    pub e2e: Duration,
    /// Gaps between content chunks after the first.
    pub gaps: GapSummary,
}

impl Timings {
    /// Time per output token as OpenTelemetry defines it: (e2e − TTFT) /
    /// (output tokens − 1), for streams with a TTFT and at least two tokens.
    pub fn time_per_output_token(&self, output_tokens: u64) -> Option<Duration> {
        let ttft = self.ttft?;
        if output_tokens < 2 {
            return None;
        }
        let decode = self.e2e.checked_sub(ttft)?;
        Some(decode.div_f64((output_tokens - 1) as f64))
    }
}

/// One request through the gateway and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// The gateway's id of it, sent to the client in
    /// [`EXCHANGE_ID_HEADER`]; empty for exchanges from elsewhere. Named
    /// `gateway_id` in JSON, where `id` is the records store's.
    #[serde(default, rename = "gateway_id")]
    pub id: String,
    /// Start of the request, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// What kind of request.
    pub operation: Operation,
    /// The `model` the client asked for.
    pub request_model: String,
    /// The `model` the upstream answered with, when it said.
    pub response_model: Option<String>,
    /// Name of the upstream that served it (`[[gateway.upstream]] name`).
    pub upstream: String,
    /// The upstream's provider (`gen_ai_provider_name`).
    pub provider: String,
    /// The name of the `[[gateway.key]]` the client sent (never the key
    /// itself), so that cost and quality can be split by team; empty
    /// without one and for exchanges from elsewhere.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gateway_key: String,
    /// The end user the client named in the request's `user` field (OpenAI's
    /// end-user id), as sent. User data: kept only in the records store,
    /// where it finds the exchanges of a data-subject request; never a
    /// label or a log field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The session the client named in the [`SESSION_HEADER`] header, as
    /// sent. User data, as [`Exchange::user`] is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// HTTP status the client received.
    pub status: u16,
    /// Why it failed, when it did: an HTTP status class of the upstream
    /// (`"500"`), `"stream_interrupted"`, `"cancelled"`, `"timeout"`,
    /// `"connect"`.
    pub error_type: Option<String>,
    /// `finish_reason` of the (first) choice.
    pub finish_reason: Option<String>,
    /// Timings measured by the gateway.
    pub timings: Timings,
    /// Token counts, when the upstream reported them.
    pub usage: Option<Usage>,
    /// The request's text: chat messages as `role: content` lines, or the
    /// completion prompt. Unredacted: only the records store may keep it,
    /// after redaction.
    pub prompt: String,
    /// The response's text (the first choice), assembled from the stream.
    pub response: String,
}

impl Exchange {
    /// Whether the request failed, for the client or on the way.
    pub fn is_error(&self) -> bool {
        self.error_type.is_some() || self.status >= 400
    }
}

/// Serde for durations as fractional seconds, the unit of every
/// OpenTelemetry GenAI duration.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&d.as_secs_f64()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            Option::<f64>::deserialize(d)?
                .map(|secs| Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange() -> Exchange {
        Exchange {
            id: String::new(),
            time_ms: 1_700_000_000_000,
            operation: Operation::Chat,
            request_model: "llama-3-8b".into(),
            response_model: Some("meta-llama/Llama-3-8B".into()),
            upstream: "vllm-a".into(),
            provider: "vllm".into(),
            gateway_key: String::new(),
            user: None,
            session: None,
            stream: true,
            status: 200,
            error_type: None,
            finish_reason: Some("stop".into()),
            timings: Timings {
                ttft: Some(Duration::from_millis(120)),
                e2e: Duration::from_millis(1120),
                gaps: GapSummary::default(),
            },
            usage: Some(Usage { input_tokens: 12, output_tokens: 101 }),
            prompt: "user: hi".into(),
            response: "hello".into(),
        }
    }

    #[test]
    fn time_per_output_token_spreads_decode_time_over_tokens_after_the_first() {
        let e = exchange();
        let tpot = e.timings.time_per_output_token(101).expect("stream with tokens");
        assert_eq!(tpot, Duration::from_millis(10));
        assert_eq!(e.timings.time_per_output_token(1), None);
        let no_ttft = Timings { ttft: None, ..e.timings };
        assert_eq!(no_ttft.time_per_output_token(101), None);
    }

    #[test]
    fn gap_summary_keeps_mean_and_max() {
        let mut gaps = GapSummary::default();
        for ms in [10, 20, 30] {
            gaps.record(Duration::from_millis(ms));
        }
        assert_eq!(gaps.count, 3);
        assert!((gaps.mean.as_secs_f64() - 0.020).abs() < 1e-9);
        assert_eq!(gaps.max, Duration::from_millis(30));
    }

    #[test]
    fn errors_are_failed_statuses_or_named_failures() {
        let mut e = exchange();
        assert!(!e.is_error());
        e.error_type = Some("stream_interrupted".into());
        assert!(e.is_error());
        e.error_type = None;
        e.status = 502;
        assert!(e.is_error());
    }

    #[test]
    fn durations_serialise_as_seconds() {
        let json = serde_json::to_value(exchange()).expect("serialises");
        assert_eq!(json["timings"]["ttft"], 0.12);
        assert_eq!(json["operation"], "chat");
        let back: Exchange = serde_json::from_value(json).expect("round-trips");
        assert_eq!(back, exchange());
    }
}
