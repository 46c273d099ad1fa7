//! `[gateway]` and `[[gateway.upstream]]`: what the user wrote
//! ([`GatewayConfig`]) and the checked settings the gateway runs on
//! ([`GatewaySettings`]).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigProblem, ConfigProblems, Error, Result};
use crate::route::ModelPattern;

/// `[gateway]`: the OpenAI-compatible proxy in front of the upstream models.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address the gateway listens on. The gateway runs only when at least
    /// one `[[gateway.upstream]]` is configured.
    pub listen: String,
    /// Keys a client must send as `Authorization: Bearer <key>`; when empty,
    /// every client is let in. Secret: written as `${ENV_VAR}`. These keys are
    /// never forwarded upstream.
    pub api_keys: Vec<Secret>,
    /// Largest request body accepted (`"16MiB"`); larger requests get 413.
    pub max_body: String,
    /// How many distinct model names become label values; requests for
    /// further models are counted under `_other`.
    pub model_label_cap: usize,
    /// The upstream servers.
    #[serde(rename = "upstream")]
    pub upstreams: Vec<UpstreamConfig>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: "127.0.0.1:8491".into(),
            api_keys: Vec::new(),
            max_body: "16MiB".into(),
            model_label_cap: 100,
            upstreams: Vec::new(),
        }
    }
}

/// `[[gateway.upstream]]`: one OpenAI-compatible server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Unique name, used in exchanges and the `upstream` label.
    pub name: String,
    /// Base URL of its OpenAI API, as OpenAI's `base_url`, with the `/v1`:
    /// `"http://10.0.0.5:8000/v1"`. The gateway appends `/chat/completions`
    /// and the other endpoints.
    pub url: String,
    /// Models it serves: exact names or globs with `*` and `?`
    /// (`"llama-*"`). Several upstreams serving a model share its requests
    /// in turn and stand in for each other when one cannot be reached.
    #[serde(default = "all_models")]
    pub models: Vec<String>,
    /// Key sent upstream as `Authorization: Bearer <key>` instead of the
    /// client's own `Authorization`. Secret: written as `${ENV_VAR}`.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// Value of `gen_ai_provider_name` for its requests (`openai`, `vllm`, …).
    #[serde(default = "openai")]
    pub provider: String,
    /// Longest wait for a TCP (and TLS) connection; past it the next upstream is tried.
    #[serde(default = "connect_timeout")]
    pub connect_timeout: String,
    /// Longest wait for the response to start (its status line and
    /// headers); past it the client gets 504. A stream may then last as long as it needs.
    #[serde(default = "first_byte_timeout")]
    pub timeout: String,
}

fn all_models() -> Vec<String> {
    vec!["*".into()]
}

fn openai() -> String {
    "openai".into()
}

fn connect_timeout() -> String {
    "5s".into()
}

fn first_byte_timeout() -> String {
    "60s".into()
}

/// A secret from the configuration, such as an API key. Its `Debug` output
/// is redacted so that it never reaches a log.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret, for the config loader after expanding `${ENV_VAR}`.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Checked `[gateway]` settings.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Keys accepted from clients; empty lets every client in.
    pub api_keys: Vec<Secret>,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Distinct model names kept as label values.
    pub model_label_cap: usize,
    /// The upstreams, in the order written.
    pub upstreams: Vec<UpstreamSettings>,
}

/// Checked `[[gateway.upstream]]` settings.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// Unique name.
    pub name: String,
    /// Base URL, without a trailing slash.
    pub base_url: String,
    /// `host:port` of the URL, the `server_address` label.
    pub server_address: String,
    /// Models served.
    pub models: Vec<ModelPattern>,
    /// Key sent upstream instead of the client's.
    pub api_key: Option<Secret>,
    /// `gen_ai_provider_name`.
    pub provider: String,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest wait for the response to start.
    pub timeout: Duration,
}

impl GatewayConfig {
    /// Whether the gateway should run: at least one upstream is configured.
    pub fn is_enabled(&self) -> bool {
        !self.upstreams.is_empty()
    }

    /// Checks every value and returns the settings the gateway runs on.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing every problem with its key path (under `gateway.`).
    pub fn validate(&self) -> Result<GatewaySettings> {
        let mut problems = Vec::new();
        let mut problem = |key: String, message: String| problems.push(ConfigProblem { key, message });
        let listen = self.listen.parse().unwrap_or_else(|_| {
            problem("gateway.listen".into(), format!("invalid address {:?}: expected host:port", self.listen));
            SocketAddr::from(([127, 0, 0, 1], 8491))
        });
        let max_body = series::parse_size(&self.max_body)
            .and_then(|n| usize::try_from(n).map_err(|_| format!("size {:?} is too large", self.max_body)))
            .unwrap_or_else(|message| {
                problem("gateway.max_body".into(), message);
                0
            });
        if self.model_label_cap == 0 {
            problem("gateway.model_label_cap".into(), "must be at least 1".into());
        }
        for (i, key) in self.api_keys.iter().enumerate() {
            if key.expose().is_empty() {
                problem(format!("gateway.api_keys[{i}]"), "must not be empty".into());
            }
        }
        let mut upstreams = Vec::with_capacity(self.upstreams.len());
        for (i, upstream) in self.upstreams.iter().enumerate() {
            let at = |key: &str| format!("gateway.upstream[{i}].{key}");
            if upstream.name.is_empty() {
                problem(at("name"), "must not be empty".into());
            } else if self.upstreams[..i].iter().any(|other| other.name == upstream.name) {
                problem(at("name"), format!("{:?} is the name of an earlier upstream", upstream.name));
            }
            let server_address = server_address(&upstream.url).unwrap_or_else(|message| {
                problem(at("url"), message);
                String::new()
            });
            if upstream.models.is_empty() {
                problem(at("models"), "must name at least one model or glob".into());
            }
            let mut models = Vec::with_capacity(upstream.models.len());
            for (j, model) in upstream.models.iter().enumerate() {
                if model.is_empty() {
                    problem(format!("gateway.upstream[{i}].models[{j}]"), "must not be empty".into());
                }
                models.push(ModelPattern::new(model));
            }
            if upstream.provider.is_empty() {
                problem(at("provider"), "must not be empty".into());
            }
            let mut duration = |key: &str, text: &str| {
                series::parse_duration(text).unwrap_or_else(|message| {
                    problem(at(key), message);
                    Duration::ZERO
                })
            };
            let connect_timeout = duration("connect_timeout", &upstream.connect_timeout);
            let timeout = duration("timeout", &upstream.timeout);
            upstreams.push(UpstreamSettings {
                name: upstream.name.clone(),
                base_url: upstream.url.trim_end_matches('/').to_owned(),
                server_address,
                models,
                api_key: upstream.api_key.clone().filter(|key| !key.expose().is_empty()),
                provider: upstream.provider.clone(),
                connect_timeout,
                timeout,
            });
        }
        if !problems.is_empty() {
            return Err(Error::Config { problems: ConfigProblems(problems) });
        }
        Ok(GatewaySettings {
            listen,
            api_keys: self.api_keys.clone(),
            max_body,
            model_label_cap: self.model_label_cap,
            upstreams,
        })
    }
}

/// `host:port` of an `http` or `https` URL, with the scheme's default port when none is written.
fn server_address(url: &str) -> Result<String, String> {
    let invalid = || format!("{url:?} is not an http(s) URL; expected http://host:port/v1 or https://host/v1");
    let (rest, default_port) = if let Some(rest) = url.strip_prefix("http://") {
        (rest, 80)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (rest, 443)
    } else {
        return Err(invalid());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(invalid());
    }
    reqwest::Url::parse(url).map_err(|_| invalid())?;
    // A bracketed IPv6 address ends with `]` unless a port follows it.
    let has_port = authority.rsplit_once(':').is_some_and(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()));
    Ok(if has_port { authority.to_owned() } else { format!("{authority}:{default_port}") })
}

#[cfg(test)]
mod tests;
