//! `[gateway]`, `[[gateway.upstream]]` and `[[gateway.key]]`: what the
//! user wrote ([`GatewayConfig`]) and the checked settings the gateway runs
//! on ([`GatewaySettings`]).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use access::SecretHash;
use serde::{Deserialize, Serialize};

use crate::error::{ConfigProblem, ConfigProblems, Error, Result};
use crate::route::ModelPattern;

/// `[gateway]`: the OpenAI-compatible proxy in front of the upstream models.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address the gateway listens on. The gateway runs only when at least
    /// one `[[gateway.upstream]]` is configured.
    pub listen: String,
    /// Keys a client must send as `Authorization: Bearer <key>`, written
    /// in plain and without limits; when empty and no `[[gateway.key]]` is
    /// configured, every client is let in. Secret: written as
    /// `${ENV_VAR}`. Gateway keys are never forwarded upstream.
    pub api_keys: Vec<Secret>,
    /// Named client keys, kept as hashes, each with its models and limits
    /// (`[[gateway.key]]`). They are accepted beside `api_keys`.
    #[serde(rename = "key")]
    pub keys: Vec<KeyConfig>,
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
            keys: Vec::new(),
            max_body: "16MiB".into(),
            model_label_cap: 100,
            upstreams: Vec::new(),
        }
    }
}

/// `[[gateway.key]]`: one client key, kept as a hash, with the models it
/// may ask for and its limits. A request over a limit gets 429 before
/// anything is sent upstream.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Who holds it (a team, an application): unique, the
    /// `infersight_gateway_key` label of the gateway's series and the
    /// `gateway_key` of its exchanges. Never the key itself.
    pub name: String,
    /// `"sha256:<64 hex digits>"` of the key (`printf %s KEY | sha256sum`),
    /// or a bcrypt hash (`infersight hash-password`). SHA-256 suits long
    /// random keys and costs nothing per request; bcrypt costs tens of
    /// milliseconds the first time each key is presented. `key_hash` in the
    /// file (`hash` is read too).
    #[serde(rename = "key_hash", alias = "hash")]
    pub hash: Secret,
    /// Models it may ask for: exact names or globs with `*` and `?`; empty
    /// for every model. A request for another model gets 403.
    #[serde(default)]
    pub models: Vec<String>,
    /// Requests admitted in any 60 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u64>,
    /// Input plus output tokens in any 60 seconds, from the upstream's
    /// `usage` of each finished request; a request is refused while the
    /// last minute's tokens are at or over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    /// Input plus output tokens per UTC day. Once the day's tokens are at
    /// or over it, requests get 429 `insufficient_quota` until midnight UTC;
    /// requests in flight then may finish, so the day's spend can pass it
    /// by what they use.
    #[serde(default, rename = "daily_budget_tokens", alias = "daily_tokens", skip_serializing_if = "Option::is_none")]
    pub daily_tokens: Option<u64>,
    /// Dollars per UTC day, at the prices of `[[cost.model]]`; as
    /// `daily_tokens`, otherwise. Each of `models` must then be an exact
    /// name with a price.
    #[serde(
        default,
        rename = "daily_budget_dollars",
        alias = "daily_dollars",
        skip_serializing_if = "Option::is_none"
    )]
    pub daily_dollars: Option<f64>,
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

/// A secret from the configuration, such as an API key: `access`'s, whose
/// `Debug` output is redacted so that it never reaches a log.
pub use access::Secret;

/// Checked `[gateway]` settings.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Plain keys accepted from clients, without limits.
    pub api_keys: Vec<Secret>,
    /// Named keys with their models and limits.
    pub keys: Vec<KeySettings>,
    /// Token prices, for `daily_dollars`.
    pub prices: Vec<TokenPrice>,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Distinct model names kept as label values.
    pub model_label_cap: usize,
    /// The upstreams, in the order written.
    pub upstreams: Vec<UpstreamSettings>,
}

impl GatewaySettings {
    /// Whether clients must send a key: some `api_keys` or `[[gateway.key]]`
    /// is configured. Without, every client is let in.
    pub fn checks_keys(&self) -> bool {
        !self.api_keys.is_empty() || !self.keys.is_empty()
    }
}

/// Checked `[[gateway.key]]` settings.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// Unique name, the label value.
    pub name: String,
    /// The key's hash.
    pub hash: SecretHash,
    /// Models it may ask for; empty for all.
    pub models: Vec<ModelPattern>,
    /// Its limits.
    pub limits: Limits,
}

/// The limits of one key; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Requests in any 60 seconds.
    pub requests_per_minute: Option<u64>,
    /// Input plus output tokens in any 60 seconds.
    pub tokens_per_minute: Option<u64>,
    /// Input plus output tokens per UTC day.
    pub daily_tokens: Option<u64>,
    /// Dollars per UTC day.
    pub daily_dollars: Option<f64>,
}

/// A model's token prices, from the binary's `[[cost.model]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPrice {
    /// The model as clients ask for it (`gen_ai_request_model`).
    pub model: String,
    /// Dollars per input token.
    pub input_per_token: f64,
    /// Dollars per output token.
    pub output_per_token: f64,
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
    /// `prices` are the models' token prices (`[[cost.model]]`), which
    /// `daily_dollars` needs.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing every problem with its key path (under `gateway.`).
    pub fn validate(&self, prices: &[TokenPrice]) -> Result<GatewaySettings> {
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
        let keys = self.validate_keys(prices, &mut problem);
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
            keys,
            prices: prices.to_vec(),
            max_body,
            model_label_cap: self.model_label_cap,
            upstreams,
        })
    }
}

impl GatewayConfig {
    /// Checks `[[gateway.key]]`, calling `problem` with each key path and message.
    fn validate_keys(&self, prices: &[TokenPrice], problem: &mut impl FnMut(String, String)) -> Vec<KeySettings> {
        let mut keys = Vec::with_capacity(self.keys.len());
        let mut names = HashSet::new();
        let mut hashes: Vec<(usize, SecretHash)> = Vec::new();
        for (i, key) in self.keys.iter().enumerate() {
            let at = |field: &str| format!("gateway.key[{i}].{field}");
            if key.name.is_empty() {
                problem(at("name"), "must not be empty: it names the key in labels and exchanges".into());
            } else if !names.insert(key.name.as_str()) {
                problem(at("name"), format!("{:?} is the name of an earlier key", key.name));
            }
            let hash = match SecretHash::parse(key.hash.expose()) {
                Ok(hash) => {
                    if let Some((earlier, _)) = hashes.iter().find(|(_, other)| *other == hash) {
                        problem(
                            at("key_hash"),
                            format!("is the hash of gateway.key[{earlier}] too: each key needs its own"),
                        );
                    }
                    hashes.push((i, hash.clone()));
                    Some(hash)
                }
                Err(message) => {
                    problem(at("key_hash"), message);
                    None
                }
            };
            let mut models = Vec::with_capacity(key.models.len());
            for (j, model) in key.models.iter().enumerate() {
                if model.is_empty() {
                    problem(format!("gateway.key[{i}].models[{j}]"), "must not be empty".into());
                }
                models.push(ModelPattern::new(model));
            }
            for (field, value) in [
                ("requests_per_minute", key.requests_per_minute),
                ("tokens_per_minute", key.tokens_per_minute),
                ("daily_budget_tokens", key.daily_tokens),
            ] {
                if value == Some(0) {
                    problem(at(field), "must be at least 1; leave it out for no limit".into());
                }
            }
            if let Some(dollars) = key.daily_dollars {
                if !dollars.is_finite() || dollars <= 0.0 {
                    problem(
                        at("daily_budget_dollars"),
                        format!("{dollars} is not a budget: write dollars, more than 0"),
                    );
                }
                if key.models.is_empty() {
                    problem(
                        at("models"),
                        "must name the key's models when daily_budget_dollars is set, each with a price in [[cost.model]]"
                            .into(),
                    );
                }
                for (j, model) in models.iter().enumerate() {
                    let key_path = format!("gateway.key[{i}].models[{j}]");
                    match model.literal() {
                        None => problem(
                            key_path,
                            format!(
                                "{:?} is a glob; daily_budget_dollars needs exact model names, each priced in [[cost.model]]",
                                key.models[j]
                            ),
                        ),
                        Some(name) if !name.is_empty() && !prices.iter().any(|price| price.model == name) => problem(
                            key_path,
                            format!("{name:?} has no price in [[cost.model]], which daily_budget_dollars needs"),
                        ),
                        Some(_) => {}
                    }
                }
            }
            let limits = Limits {
                requests_per_minute: key.requests_per_minute,
                tokens_per_minute: key.tokens_per_minute,
                daily_tokens: key.daily_tokens,
                daily_dollars: key.daily_dollars,
            };
            if let Some(hash) = hash {
                keys.push(KeySettings { name: key.name.clone(), hash, models, limits });
            }
        }
        keys
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
