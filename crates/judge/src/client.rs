//! One chat completion from an OpenAI-compatible judge, with retries: 429
//! and 5xx and broken connections are tried again after a backoff that
//! doubles (and honours `Retry-After`), anything else fails at once.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use serde_json::{Value, json};

use crate::{Failure, Message};

/// First backoff; it doubles per retry, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A judge model's answer and the tokens it used, as an OpenAI-compatible
/// endpoint reports them (or an in-process judge, [`crate::Judge::in_process`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The message the model wrote.
    pub text: String,
    /// Tokens of the request.
    pub input_tokens: u64,
    /// Tokens of the answer.
    pub output_tokens: u64,
}

/// Where and how to call.
#[derive(Debug)]
pub(crate) struct Endpoint<'a> {
    pub(crate) url: &'a str,
    pub(crate) model: &'a str,
    pub(crate) api_key: Option<&'a str>,
    pub(crate) retries: u32,
    pub(crate) json_mode: bool,
}

pub(crate) async fn complete(
    http: &reqwest::Client,
    endpoint: &Endpoint<'_>,
    messages: &[Message],
) -> Result<Completion, Failure> {
    let mut body = json!({
        "model": endpoint.model,
        "messages": messages,
        "temperature": 0,
        "max_tokens": 256,
    });
    if endpoint.json_mode {
        body["response_format"] = json!({"type": "json_object"});
    }
    let url = format!("{}/chat/completions", endpoint.url.trim_end_matches('/'));
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        let mut request = http.post(&url).header("x-infersight-client", "judge").json(&body);
        if let Some(key) = endpoint.api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        let failure = match request.send().await {
            Ok(response) if response.status().is_success() => {
                let value: Value = response.json().await.map_err(|err| Failure::BadResponse(err.to_string()))?;
                return completion_of(&value);
            }
            Ok(response) => {
                let status = response.status();
                let wait = retry_after(response.headers());
                let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
                if !retryable || attempt >= endpoint.retries {
                    return Err(if status == StatusCode::TOO_MANY_REQUESTS {
                        Failure::RateLimited
                    } else {
                        Failure::Status(status.as_u16())
                    });
                }
                wait
            }
            Err(err) if err.is_timeout() => return Err(Failure::Timeout),
            Err(err) => {
                if attempt >= endpoint.retries {
                    return Err(Failure::Connect(without_url(&err)));
                }
                None
            }
        };
        tokio::time::sleep(failure.unwrap_or(backoff).min(MAX_BACKOFF)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        attempt += 1;
    }
}

/// The wait a `Retry-After` header asks for (delay-seconds form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// The error's text without the URL, which may carry credentials.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "the judge");
    }
    text
}

fn completion_of(value: &Value) -> Result<Completion, Failure> {
    let text = value
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::BadResponse("no choices[0].message.content".to_string()))?;
    let tokens = |field: &str| value.pointer(&format!("/usage/{field}")).and_then(Value::as_u64).unwrap_or(0);
    Ok(Completion {
        text: text.to_string(),
        input_tokens: tokens("prompt_tokens"),
        output_tokens: tokens("completion_tokens"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_ignores_the_rest() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "2".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn completions_need_a_message() {
        let ok =
            json!({"choices": [{"message": {"content": "{}"}}], "usage": {"prompt_tokens": 7, "completion_tokens": 3}});
        let completion = completion_of(&ok).expect("a completion");
        assert_eq!((completion.input_tokens, completion.output_tokens), (7, 3));
        assert!(completion_of(&json!({"choices": []})).is_err());
    }
}
