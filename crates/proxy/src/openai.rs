//! The parts of the OpenAI API the gateway reads: the request's model and
//! stream options, the texts of requests and responses, `usage`, and the
//! error shape it answers with.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use inference::{MAX_SUBJECT_ID_BYTES, Operation, Usage};
use serde::Deserialize;

/// The request fields the gateway routes and measures by.
#[derive(Debug, Deserialize)]
pub(crate) struct RequestHead<'a> {
    #[serde(borrow, default)]
    pub model: Option<Cow<'a, str>>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Chat's messages, read for their shape only.
    #[serde(borrow, default)]
    messages: Option<Vec<MessageShape<'a>>>,
    /// A completion's prompt, read for its shape only.
    #[serde(default)]
    #[allow(dead_code)]
    prompt: Option<TextShape>,
    /// An embedding's input, read for its shape only.
    #[serde(default)]
    input: Option<TextShape>,
    /// The end user's id (OpenAI's `user`), kept with the exchange only.
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
}

/// A chat message as far as its shape goes: a string role, and content that
/// is a string, a list of parts, or null.
#[derive(Debug, Deserialize)]
struct MessageShape<'a> {
    #[serde(borrow)]
    #[allow(dead_code)]
    role: Cow<'a, str>,
    #[serde(default)]
    #[allow(dead_code)]
    content: Option<TextShape>,
}

/// A value that is a string, a list (of strings, token ids or parts) or
/// null, read without copying it.
#[derive(Debug)]
struct TextShape;

impl<'de> Deserialize<'de> for TextShape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<TextShape, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TextShape;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array")
            }

            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<TextShape, E> {
                Ok(TextShape)
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<TextShape, E> {
                Ok(TextShape)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<TextShape, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(TextShape)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// Why a request was refused before reaching an upstream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadRequest {
    NotJson(String),
    NoModel,
}

impl RequestHead<'_> {
    /// Reads the head of a JSON request body.
    pub fn parse(body: &[u8]) -> Result<RequestHead<'_>, BadRequest> {
        // serde would read a JSON array into the struct too; only an object is a request.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(BadRequest::NotJson("the request body must be a JSON object".into()));
        }
        let head: RequestHead<'_> = serde_json::from_slice(body).map_err(|error| {
            BadRequest::NotJson(if error.is_data() {
                format!("the request is not one the API takes: {error}")
            } else {
                format!("the request body is not valid JSON: {error}")
            })
        })?;
        match &head.model {
            Some(model) if !model.is_empty() => Ok(head),
            _ => Err(BadRequest::NoModel),
        }
    }

    /// Refuses what no upstream of `operation` could answer: chat without
    /// a list of messages, embeddings without input, or a prompt, input or
    /// message content that is neither text nor a list; and a `user` too
    /// long to be an id (the message never repeats it).
    pub fn check(&self, operation: Operation) -> Result<(), BadRequest> {
        if self.user.as_ref().is_some_and(|user| user.len() > MAX_SUBJECT_ID_BYTES) {
            return Err(BadRequest::NotJson(format!("`user` must be at most {MAX_SUBJECT_ID_BYTES} bytes")));
        }
        match operation {
            Operation::Chat if self.messages.is_none() => {
                Err(BadRequest::NotJson("`messages` is required: a list of {\"role\", \"content\"} objects".into()))
            }
            Operation::Embeddings if self.input.is_none() => {
                Err(BadRequest::NotJson("`input` is required: a string or a list".into()))
            }
            _ => Ok(()),
        }
    }

    /// The end user's id the client sent, if it sent a non-empty one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref().filter(|user| !user.is_empty())
    }

    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// Whether the client asked for the usage chunk of a stream itself.
    pub fn asks_usage(&self) -> bool {
        self.stream_options.as_ref().and_then(|o| o.include_usage) == Some(true)
    }
}

/// The body to send upstream for a stream request whose client did not ask
/// for usage: the same request with `stream_options.include_usage` set.
/// Where the request has no `stream_options`, the field is spliced in after
/// the opening brace and every other byte stays as the client sent it.
pub(crate) fn with_usage_requested(body: &Bytes, head: &RequestHead<'_>) -> Option<Bytes> {
    const FIELD: &[u8] = br#""stream_options":{"include_usage":true},"#;
    // `"stream_options": null` reads as absent too; splicing would then send the key twice.
    if head.stream_options.is_none() && memchr::memmem::find(body, b"\"stream_options\"").is_none() {
        let brace = body.iter().position(|&b| b == b'{')?;
        let mut out = Vec::with_capacity(body.len() + FIELD.len());
        out.extend_from_slice(&body[..=brace]);
        out.extend_from_slice(FIELD);
        out.extend_from_slice(&body[brace + 1..]);
        return Some(Bytes::from(out));
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let options = value.as_object_mut()?.entry("stream_options").or_insert(serde_json::Value::Null);
    if !options.is_object() {
        *options = serde_json::Value::Object(serde_json::Map::new());
    }
    options.as_object_mut()?.insert("include_usage".into(), serde_json::Value::Bool(true));
    serde_json::to_vec(&value).ok().map(Bytes::from)
}

/// An error response in OpenAI's shape:
/// `{"error":{"message","type","param","code"}}`.
pub(crate) fn error_response(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = serde_json::json!({
        "error": { "message": message, "type": kind, "param": null, "code": code }
    });
    (status, [(CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// The text of a request: chat messages as `role: content` lines, the
/// completion prompt, or the embedding input.
pub(crate) fn request_text(operation: Operation, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Request {
        #[serde(default)]
        messages: Vec<Message>,
        #[serde(default)]
        prompt: Option<serde_json::Value>,
        #[serde(default)]
        input: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Message {
        #[serde(default)]
        role: String,
        #[serde(default)]
        content: Option<serde_json::Value>,
    }
    let Ok(request) = serde_json::from_slice::<Request>(body) else { return String::new() };
    let mut out = String::new();
    match operation {
        Operation::Chat => {
            for message in &request.messages {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&message.role);
                out.push_str(": ");
                if let Some(content) = &message.content {
                    push_texts(&mut out, content);
                }
            }
        }
        Operation::TextCompletion => push_texts(&mut out, request.prompt.as_ref().unwrap_or(&serde_json::Value::Null)),
        Operation::Embeddings => push_texts(&mut out, request.input.as_ref().unwrap_or(&serde_json::Value::Null)),
    }
    out
}

/// Appends the strings in a content value: a string, a list of strings,
/// or a list of `{"type": "text", "text": ...}` parts. Token ids are skipped.
fn push_texts(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(text) => out.push_str(text),
        serde_json::Value::Array(items) => {
            let mut first = true;
            for item in items {
                let text = match item {
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Object(part) => match part.get("text") {
                        Some(serde_json::Value::String(text)) => text,
                        _ => continue,
                    },
                    _ => continue,
                };
                if !first {
                    out.push('\n');
                }
                out.push_str(text);
                first = false;
            }
        }
        _ => {}
    }
}

/// `usage` as OpenAI-compatible servers send it.
#[derive(Debug, Deserialize)]
pub(crate) struct UsageJson {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl UsageJson {
    pub fn to_usage(&self) -> Usage {
        Usage { input_tokens: self.prompt_tokens, output_tokens: self.completion_tokens }
    }
}

/// One `data:` event of a streamed chat or completion.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamChunk<'a> {
    #[serde(borrow, default)]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub choices: Option<Vec<StreamChoice<'a>>>,
    #[serde(default)]
    pub usage: Option<UsageJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamChoice<'a> {
    #[serde(default)]
    pub index: u32,
    #[serde(borrow, default)]
    pub delta: Option<Delta<'a>>,
    /// Completions stream `text` instead of a delta.
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta<'a> {
    #[serde(borrow, default)]
    pub content: Option<Cow<'a, str>>,
    /// Reasoning models (vLLM, DeepSeek) stream their thinking here first;
    /// it is output, so it ends the wait for the first token.
    #[serde(borrow, default)]
    pub reasoning_content: Option<Cow<'a, str>>,
}

/// A whole (non-streamed) response.
#[derive(Debug, Deserialize)]
pub(crate) struct WholeResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<WholeChoice>,
    #[serde(default)]
    pub usage: Option<UsageJson>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WholeChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub message: Option<WholeMessage>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WholeMessage {
    #[serde(default)]
    pub content: Option<String>,
}

#[cfg(test)]
mod tests;
