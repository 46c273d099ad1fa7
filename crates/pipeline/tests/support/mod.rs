//! What the pipeline's tests and benchmarks share: a chat exchange as the gateway hands it over.

use std::time::Duration;

use inference::{Exchange, GapSummary, Operation, Timings, Usage};

/// A successful streamed chat exchange of `model` at `time_ms`.
pub fn exchange(time_ms: i64, model: &str, prompt: &str, response: &str) -> Exchange {
    Exchange {
        id: String::new(),
        time_ms,
        operation: Operation::Chat,
        request_model: model.to_owned(),
        response_model: None,
        upstream: "a".to_owned(),
        provider: "vllm".to_owned(),
        gateway_key: String::new(),
        user: None,
        session: None,
        stream: true,
        status: 200,
        error_type: None,
        finish_reason: Some("stop".to_owned()),
        timings: Timings {
            ttft: Some(Duration::from_millis(80)),
            e2e: Duration::from_millis(900),
            gaps: GapSummary::default(),
        },
        usage: Some(Usage { input_tokens: 10, output_tokens: 20 }),
        prompt: prompt.to_owned(),
        response: response.to_owned(),
    }
}
