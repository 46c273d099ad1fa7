//! Sending one item through the gateway as a streaming chat completion.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dataset::Item;

/// Most answer text kept; probes ask short questions.
const MAX_ANSWER: usize = 64 * 1024;

/// What the model answered, and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer's text.
    pub text: String,
    /// From sending the request to the first content.
    pub ttft: Option<Duration>,
    /// From sending the request to the end of the stream.
    pub duration: Duration,
}

/// Why an item got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// No answer within the probe's timeout.
    #[error("no answer within the timeout")]
    Timeout,
    /// The gateway could not be reached.
    #[error("cannot reach the gateway: {0}")]
    Connect(String),
    /// The gateway or the upstream answered an error status.
    #[error("HTTP {0}")]
    Status(u16),
    /// The stream broke, or carried no content.
    #[error("bad stream: {0}")]
    BadStream(String),
}

impl Failure {
    /// The `reason` label of `infersight_probe_failures_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connect",
            Failure::Status(status) if *status == 429 => "http_429",
            Failure::Status(status) if *status >= 500 => "http_5xx",
            Failure::Status(_) => "http_4xx",
            Failure::BadStream(_) => "bad_stream",
        }
    }
}

/// Asks `model` the item's messages through the gateway at `base_url`
/// (with `/v1`), streaming, within `timeout`.
pub(crate) async fn ask(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    model: &str,
    item: &Item,
    timeout: Duration,
) -> Result<Answer, Failure> {
    match tokio::time::timeout(timeout, ask_unbounded(http, base_url, api_key, model, item)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Timeout),
    }
}

async fn ask_unbounded(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&str>,
    model: &str,
    item: &Item,
) -> Result<Answer, Failure> {
    let body = json!({"model": model, "messages": item.messages, "stream": true, "max_tokens": 512, "temperature": 0});
    let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
    let mut request = http.post(url).header(inference::CLIENT_HEADER, "probe").json(&body);
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let start = Instant::now();
    let mut response = request.send().await.map_err(|err| Failure::Connect(err.to_string()))?;
    if !response.status().is_success() {
        return Err(Failure::Status(response.status().as_u16()));
    }
    let mut events = Events::default();
    let mut ttft = None;
    let mut done = false;
    while let Some(chunk) = response.chunk().await.map_err(|err| Failure::BadStream(err.to_string()))? {
        done |= events.feed(&chunk)?;
        if ttft.is_none() && !events.text.is_empty() {
            ttft = Some(start.elapsed());
        }
        if done {
            break;
        }
    }
    if !done && events.text.is_empty() {
        return Err(Failure::BadStream("the stream ended without content".into()));
    }
    Ok(Answer { text: events.text, ttft, duration: start.elapsed() })
}

/// Server-sent events read so far: the partial line, and the content.
#[derive(Debug, Default)]
struct Events {
    pending: Vec<u8>,
    text: String,
}

impl Events {
    /// Feeds bytes; true once `data: [DONE]` arrived.
    fn feed(&mut self, bytes: &[u8]) -> Result<bool, Failure> {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data:") else {
                continue;
            };
            let data = data.trim_start();
            if data == "[DONE]" {
                return Ok(true);
            }
            let event: Value =
                serde_json::from_str(data).map_err(|err| Failure::BadStream(format!("an event is not JSON: {err}")))?;
            if let Some(content) = event.pointer("/choices/0/delta/content").and_then(Value::as_str)
                && self.text.len() + content.len() <= MAX_ANSWER
            {
                self.text.push_str(content);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_joined_across_events_split_anywhere() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"The answer\"}}]}\n\n: keep-alive\n\n\
                      data: {\"choices\":[{\"delta\":{\"content\":\" is 42.\"}}]}\r\n\r\ndata: [DONE]\n\n";
        let mut events = Events::default();
        let mut done = false;
        for chunk in stream.as_bytes().chunks(7) {
            done |= events.feed(chunk).expect("well-formed");
        }
        assert!(done);
        assert_eq!(events.text, "The answer is 42.");
    }

    #[test]
    fn an_event_that_is_not_json_breaks_the_stream() {
        let mut events = Events::default();
        assert!(matches!(events.feed(b"data: {oops\n"), Err(Failure::BadStream(_))));
    }
}
