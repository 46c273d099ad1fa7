//! `[[scrape]]` blocks: what the user writes ([`ScrapeConfig`]) and the
//! checked job the scrape manager runs ([`ScrapeJob`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::presets::{ACCEPT_OPENMETRICS, Preset, SERVING_ENGINE_LABEL};
use crate::relabel::{RelabelConfig, Rule};

/// One `[[scrape]]` block as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScrapeConfig {
    /// The `job` label of every series; defaults to the preset's name. Unique across blocks.
    pub job_name: Option<String>,
    /// An engine preset: `vllm`, `sglang`, `tgi`, `triton`, `dcgm` or `node`.
    /// Sets the default job name, port and path, adds the label
    /// `serving_engine`, and evens out the engine's quirks.
    pub preset: Option<Preset>,
    /// Targets as `host:port`; without a port, the preset's port (or 80/443).
    pub targets: Vec<String>,
    /// How often each target is scraped (`"15s"`).
    pub interval: String,
    /// How long one scrape may take; at most `interval`. Defaults to 10s, or `interval` if shorter.
    pub timeout: Option<String>,
    /// The metrics path; defaults to the preset's, else `/metrics`.
    pub path: Option<String>,
    /// `http` or `https`.
    pub scheme: Scheme,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// Sent as `Authorization: Bearer <token>`. Secret: write `${ENV_VAR}`.
    pub bearer_token: Option<Secret>,
    /// Extra labels for every series of these targets.
    pub labels: BTreeMap<String, String>,
    /// When a scraped series has a label that a target label also sets, keep
    /// the scraped value (true) or rename it to `exported_<name>` (false).
    pub honor_labels: bool,
    /// Use the timestamps a target exposes (true) or the scrape time (false).
    pub honor_timestamps: bool,
    /// Relabelling of every scraped series, after the target labels are added.
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// Files in Prometheus's file_sd format (JSON or YAML: a list of
    /// `{targets: [...], labels: {...}}`), re-read when they change.
    pub file_sd: Vec<PathBuf>,
    /// A scrape with more samples (after relabelling) is rejected whole; 0 for no limit.
    pub sample_limit: usize,
    /// A scrape with a series of more labels is rejected whole; 0 for no limit.
    pub label_limit: usize,
    /// A scrape with a longer label name is rejected whole; 0 for no limit.
    pub label_name_length_limit: usize,
    /// A scrape with a longer label value is rejected whole; 0 for no limit.
    pub label_value_length_limit: usize,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            job_name: None,
            preset: None,
            targets: Vec::new(),
            interval: "15s".into(),
            timeout: None,
            path: None,
            scheme: Scheme::Http,
            basic_auth: None,
            bearer_token: None,
            labels: BTreeMap::new(),
            honor_labels: false,
            honor_timestamps: true,
            metric_relabel_configs: Vec::new(),
            file_sd: Vec::new(),
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
        }
    }
}

/// The URL scheme of a target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP.
    #[default]
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// `basic_auth = { username = "...", password = "${ENV_VAR}" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password. Secret: write `${ENV_VAR}`.
    #[serde(default)]
    pub password: Secret,
}

/// A secret from the configuration; its `Debug` output is redacted.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a target is authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password, with `${ENV_VAR}` resolved.
        password: String,
    },
    /// A bearer token, with `${ENV_VAR}` resolved.
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// A problem with a key of a `[[scrape]]` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The full key path, like `scrape[1].interval`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Limits that reject a scrape whole; 0 means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Samples per scrape, after relabelling.
    pub sample_limit: usize,
    /// Labels per series.
    pub label_limit: usize,
    /// Bytes per label name.
    pub label_name_length_limit: usize,
    /// Bytes per label value.
    pub label_value_length_limit: usize,
}

/// A checked `[[scrape]]` block: what the scrape manager runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeJob {
    /// The `job` label.
    pub job_name: String,
    /// The preset, if any.
    pub preset: Option<Preset>,
    /// Static targets as `host:port`.
    pub targets: Vec<String>,
    /// Scrape period.
    pub interval: Duration,
    /// Deadline of one scrape.
    pub timeout: Duration,
    /// The metrics path.
    pub path: String,
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Authentication, if any.
    pub auth: Option<Auth>,
    /// Labels added to every series (including `serving_engine` from the preset).
    pub labels: BTreeMap<String, String>,
    /// See [`ScrapeConfig::honor_labels`].
    pub honor_labels: bool,
    /// See [`ScrapeConfig::honor_timestamps`].
    pub honor_timestamps: bool,
    /// The preset's relabelling steps followed by the user's.
    pub metric_relabel: Vec<Rule>,
    /// file_sd files.
    pub file_sd: Vec<PathBuf>,
    /// Limits per scrape.
    pub limits: Limits,
    /// The `Accept` header to send.
    pub accept: &'static str,
}

impl ScrapeJob {
    /// The default port of a target address without one.
    pub(crate) fn default_port(&self) -> u16 {
        self.preset.map_or_else(|| self.scheme.default_port(), Preset::default_port)
    }
}

impl ScrapeConfig {
    /// Checks the block. `key` is its path in the file (`scrape[0]`); `env`
    /// resolves `${ENV_VAR}` in secrets (the binary passes `std::env::var`).
    ///
    /// # Errors
    ///
    /// Every problem found, each with its full key path.
    pub fn validate(&self, key: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ScrapeJob, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: String| {
            problems.push(ConfigProblem { key: format!("{key}.{field}"), message });
        };
        let job_name = match (&self.job_name, self.preset) {
            (Some(name), _) => name.clone(),
            (None, Some(preset)) => preset.as_str().to_owned(),
            (None, None) => {
                problem("job_name", "required when no preset is given".into());
                String::new()
            }
        };
        if self.job_name.as_deref() == Some("") {
            problem("job_name", "must not be empty".into());
        }
        let interval = series::parse_duration(&self.interval).map_err(|m| problem("interval", m)).ok();
        if interval.is_some_and(|d| d.is_zero()) {
            problem("interval", "must be positive".into());
        }
        let timeout = match &self.timeout {
            Some(text) => series::parse_duration(text).map_err(|m| problem("timeout", m)).ok(),
            None => Some(interval.map_or(Duration::from_secs(10), |i| i.min(Duration::from_secs(10)))),
        };
        if timeout.is_some_and(|d| d.is_zero()) {
            problem("timeout", "must be positive".into());
        }
        if let (Some(interval), Some(timeout)) = (interval, timeout)
            && timeout > interval
        {
            problem("timeout", format!("{timeout:?} is longer than the interval {interval:?}"));
        }
        let path = self.path.clone().unwrap_or_else(|| self.preset.map_or("/metrics", Preset::default_path).into());
        if !path.starts_with('/') {
            problem("path", format!("{path:?} must start with '/'"));
        }
        let default_port = self.preset.map_or_else(|| self.scheme.default_port(), Preset::default_port);
        let mut targets = Vec::new();
        for (i, target) in self.targets.iter().enumerate() {
            match normalize_address(target, default_port) {
                Ok(address) => targets.push(address),
                Err(message) => problem(&format!("targets[{i}]"), message),
            }
        }
        if self.targets.is_empty() && self.file_sd.is_empty() {
            problem("targets", "no targets: give `targets` or `file_sd`".into());
        }
        let mut labels = BTreeMap::new();
        if let Some(preset) = self.preset {
            labels.insert(SERVING_ENGINE_LABEL.to_owned(), preset.as_str().to_owned());
        }
        for (name, value) in &self.labels {
            if let Err(message) = check_target_label(name) {
                problem(&format!("labels.{name}"), message);
            }
            labels.insert(name.clone(), value.clone());
        }
        let mut resolve = |field: &str, secret: &Secret| match expand_env(&secret.0, env) {
            Ok(value) => value,
            Err(message) => {
                problem(field, message);
                String::new()
            }
        };
        let auth = match (&self.basic_auth, &self.bearer_token) {
            (Some(_), Some(_)) => None,
            (Some(basic), None) => Some(Auth::Basic {
                username: basic.username.clone(),
                password: resolve("basic_auth.password", &basic.password),
            }),
            (None, Some(token)) => Some(Auth::Bearer(resolve("bearer_token", token))),
            (None, None) => None,
        };
        if self.basic_auth.is_some() && self.bearer_token.is_some() {
            problems.push(ConfigProblem {
                key: format!("{key}.bearer_token"),
                message: "give basic_auth or bearer_token, not both".into(),
            });
        }
        let mut metric_relabel = Vec::new();
        let preset_steps = self.preset.map(Preset::metric_relabel_configs).unwrap_or_default();
        for step in &preset_steps {
            // The presets' own steps are tested to compile.
            if let Ok(rule) = step.compile() {
                metric_relabel.push(rule);
            }
        }
        for (i, step) in self.metric_relabel_configs.iter().enumerate() {
            match step.compile() {
                Ok(rule) => metric_relabel.push(rule),
                Err(step_problems) => {
                    for (field, message) in step_problems {
                        problems
                            .push(ConfigProblem { key: format!("{key}.metric_relabel_configs[{i}].{field}"), message });
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let (Some(interval), Some(timeout)) = (interval, timeout) else {
            unreachable!("every failed check pushed a problem");
        };
        Ok(ScrapeJob {
            job_name,
            preset: self.preset,
            targets,
            interval,
            timeout,
            path,
            scheme: self.scheme,
            auth,
            labels,
            honor_labels: self.honor_labels,
            honor_timestamps: self.honor_timestamps,
            metric_relabel,
            file_sd: self.file_sd.clone(),
            limits: Limits {
                sample_limit: self.sample_limit,
                label_limit: self.label_limit,
                label_name_length_limit: self.label_name_length_limit,
                label_value_length_limit: self.label_value_length_limit,
            },
            accept: self.preset.map_or(ACCEPT_OPENMETRICS, Preset::accept),
        })
    }
}

/// Checks every block of the `[[scrape]]` array (`key` is its name, `scrape`)
/// and that job names are unique.
///
/// # Errors
///
/// Every problem of every block, each with its full key path.
pub fn validate_all(
    configs: &[ScrapeConfig],
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ScrapeJob>, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    let mut jobs: Vec<ScrapeJob> = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        match config.validate(&format!("{key}[{i}]"), env) {
            Ok(job) => {
                if jobs.iter().any(|j| j.job_name == job.job_name) {
                    problems.push(ConfigProblem {
                        key: format!("{key}[{i}].job_name"),
                        message: format!("job name {:?} is used by an earlier block", job.job_name),
                    });
                }
                jobs.push(job);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() { Ok(jobs) } else { Err(problems) }
}

/// `host`, `host:port` or `[v6]:port` to `host:port`.
pub(crate) fn normalize_address(target: &str, default_port: u16) -> Result<String, String> {
    let target = target.trim();
    if target.is_empty() {
        return Err("empty target".into());
    }
    if target.contains("://") {
        return Err(match reqwest::Url::parse(target) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                let host = url.host_str().unwrap_or_default();
                let address = url.port().map_or_else(|| host.to_owned(), |port| format!("{host}:{port}"));
                format!("{target:?} is a URL; write {address:?} here, and the scheme and path as `scheme` and `path`")
            }
            _ => format!("{target:?} is not an http(s) URL, and targets are host:port"),
        });
    }
    if target.contains('/') {
        return Err(format!("{target:?} must be host:port, without a path (use `path`)"));
    }
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(format!("{target:?}: unclosed '[' in IPv6 address"));
        };
        (format!("[{host}]"), after.strip_prefix(':'))
    } else {
        match target.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host.to_owned(), Some(port)),
            Some(_) => return Err(format!("{target:?}: write IPv6 addresses as [addr]:port")),
            None => (target.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(format!("{target:?} has no host"));
    }
    let port = match port {
        Some(port) => port.parse::<u16>().map_err(|_| format!("{target:?}: invalid port {port:?}"))?,
        None => default_port,
    };
    Ok(format!("{host}:{port}"))
}

fn check_target_label(name: &str) -> Result<(), String> {
    if !series::is_valid_label_name(name) {
        return Err(format!("{name:?} is not a valid label name"));
    }
    if name.starts_with("__") {
        return Err(format!("{name:?}: names starting with \"__\" are reserved"));
    }
    Ok(())
}

/// Resolves a secret written `${ENV_VAR}`; other text is taken literally.
fn expand_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    match text.strip_prefix("${").and_then(|rest| rest.strip_suffix('}')) {
        Some(var) => env(var).ok_or_else(|| format!("environment variable {var:?} is not set")),
        None => Ok(text.to_owned()),
    }
}
