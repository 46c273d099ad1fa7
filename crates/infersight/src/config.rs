//! The configuration file: what the user wrote ([`RawConfig`]) and the
//! checked settings the runtime uses ([`Config`]).
//!
//! Parsing has two stages, so a user sees every problem at once: serde
//! reads the TOML into `RawConfig` (`read` goes on past each unknown key
//! and wrong type, leaving it out), then [`RawConfig::validate`] checks
//! every value. Each problem has its key path and, where the file has the
//! key, its line. `serve`'s flags add to `RawConfig` between the two
//! stages (`flags`), and [`RawConfig::to_toml`] prints the result as a file
//! that reads back to the same `RawConfig`.

mod cost;
mod flags;
mod judge;
mod probes;
mod quality;
mod read;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use series::parse_duration;
pub use series::parse_size;

pub use self::flags::{Overrides, ScrapeFlag};
pub use self::judge::default_judge;

use self::quality::RawQuality;

/// The embedded default configuration: what `serve` runs with no file.
pub const DEFAULT_TOML: &str = "";

/// The comment `serve --print-config` starts its output with.
pub const PRINTED_HEADER: &str = "\
# infersight configuration printed by `infersight serve --print-config`:
# the file and flags it ran with, every key with its effective value.
# Save it and run `infersight serve --config FILE`; the server's own
# self-scrape job is added from [server] and is not listed under [[scrape]].

";

/// The configuration file as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The HTTP server: API, remote write, self-metrics.
    #[serde(default)]
    pub server: RawServer,
    /// The embedded time-series store.
    #[serde(default)]
    pub storage: RawStorage,
    /// The PromQL engine's limits.
    #[serde(default)]
    pub query: RawQuery,
    /// The online quality pipeline.
    #[serde(default)]
    pub quality: RawQuality,
    /// Collectors of the machine itself: NVIDIA GPUs, the host.
    #[serde(default)]
    pub collectors: collectors::local::LocalConfig,
    /// Targets to scrape (`[[scrape]]`).
    #[serde(default)]
    pub scrape: Vec<collectors::scrape::ScrapeConfig>,
    /// The OpenAI-compatible gateway (`[gateway]`, `[[gateway.upstream]]`).
    #[serde(default)]
    pub gateway: proxy::GatewayConfig,
    /// Recording and alerting rules (`[[rule_files]]`).
    #[serde(default)]
    pub rule_files: Vec<rules::RuleFilesConfig>,
    /// Rule evaluation and notifications (`[alerting]`).
    #[serde(default)]
    pub alerting: rules::AlertingConfig,
    /// Golden probes asked of the gateway's models (`[[probes]]`).
    #[serde(default)]
    pub probes: Vec<probes::RawProbe>,
    /// Roles of the web configuration's users, and bearer tokens (`[auth]`, `[[auth.token]]`).
    #[serde(default)]
    pub auth: access::AuthConfig,
    /// Prices of hosted models, GPUs and machines (`[[cost.model]]`, `[[cost.gpu]]`, `[[cost.instance]]`),
    /// from which cost recording rules are generated.
    #[serde(default)]
    pub cost: cost::RawCost,
}

/// `[query]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawQuery {
    /// A query running longer is stopped with a `timeout` error (a request's
    /// `timeout` parameter can only shorten it).
    pub timeout: String,
    /// A query that would load more samples is stopped with an `execution` error.
    pub max_samples: usize,
    /// How far back an instant selector looks for the latest sample.
    pub lookback_delta: String,
}

impl Default for RawQuery {
    fn default() -> Self {
        RawQuery { timeout: "2m".into(), max_samples: 50_000_000, lookback_delta: "5m".into() }
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    /// Address of the HTTP API, remote write receiver and `/metrics`.
    pub listen: String,
    /// Largest remote-write body accepted, after snappy decompression.
    pub remote_write_max_bytes: String,
    /// Scrape the server's own `/metrics` into its own store (job `infersight`).
    pub self_scrape: bool,
    /// How often the self-scrape runs.
    pub self_scrape_interval: String,
    /// Prometheus's exporter-toolkit web configuration (`web.yml`): TLS,
    /// client certificates, response headers and `basic_auth_users`, for
    /// the API and the gateway's listener. Paths in it are relative to its folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_config: Option<PathBuf>,
    /// Serve without authentication on an address other than loopback.
    /// Without it, such a `listen` (or gateway `listen` without
    /// `api_keys`) is refused while no user, token or client certificate
    /// is configured.
    pub allow_unauthenticated: bool,
    /// Time a client has to send a request's headers, on this listener and
    /// the gateway's; an idle keep-alive connection is closed after it too.
    /// Slow clients (slowloris) are disconnected rather than holding a
    /// connection open.
    pub read_header_timeout: String,
    /// Time a client has to send a request's body once its headers arrived,
    /// on both listeners; a handler reading it past that gets an error
    /// (remote write answers 400) and the connection is closed.
    pub read_timeout: String,
    /// Connections each listener (API and dashboard, gateway) holds open at
    /// once, TLS handshakes included; more are closed on arrival and
    /// counted in `infersight_http_connections_rejected_total`.
    pub max_connections: usize,
    /// Browser origins allowed to call the listeners from another site
    /// (CORS), each as `"https://grafana.example.com"`: they get
    /// `Access-Control-Allow-Origin`, and their POSTs pass the cross-site
    /// check. None by default: no page of another origin can read an answer
    /// or send a request that changes state.
    pub cors_origins: Vec<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: "127.0.0.1:8490".into(),
            remote_write_max_bytes: "32MiB".into(),
            self_scrape: true,
            self_scrape_interval: "15s".into(),
            web_config: None,
            allow_unauthenticated: false,
            read_header_timeout: "10s".into(),
            read_timeout: "60s".into(),
            max_connections: 1024,
            cors_origins: Vec::new(),
        }
    }
}

/// `[storage]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStorage {
    /// Data directory (created if missing).
    pub path: PathBuf,
    /// How long samples are kept, by the wall clock (`"15d"`).
    pub retention: String,
    /// Cap on blocks plus WAL on disk (`"64GiB"`); `"0"` for no cap.
    pub retention_size: String,
    /// How often the write-ahead log is synced to disk. Acknowledged writes
    /// survive a crash of the process at any setting; this bounds what a
    /// power loss can take.
    pub wal_fsync_interval: String,
    /// How long sampled exchanges are kept in the records store.
    pub records_retention: String,
    /// Cap on the records store; the oldest exchanges go first. "0" disables the cap.
    pub records_retention_size: String,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            path: PathBuf::from("./infersight-data"),
            retention: "15d".into(),
            retention_size: "64GiB".into(),
            wal_fsync_interval: "1s".into(),
            records_retention: "30d".into(),
            records_retention_size: "1GiB".into(),
        }
    }
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// Remote-write receiver limits.
    pub remote_write: receivers::RemoteWriteConfig,
    /// OTLP receiver limits.
    pub otlp: receivers::OtlpConfig,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Store options.
    pub storage: tsdb::Options,
    /// WAL sync period.
    pub wal_fsync_interval: Duration,
    /// Query engine limits.
    pub query: promql::EngineOptions,
    /// How long sampled exchanges are kept.
    pub records_retention: Duration,
    /// Cap on the records store, if any.
    pub records_retention_size: Option<u64>,
    /// The online quality pipeline.
    pub quality: pipeline::Config,
    /// The local collectors.
    pub local: collectors::local::LocalSettings,
    /// Scrape jobs, the self-scrape included.
    pub scrape: Vec<collectors::scrape::ScrapeJob>,
    /// The gateway, when upstreams are configured.
    pub gateway: Option<proxy::GatewaySettings>,
    /// Rule files to load.
    pub rule_files: Vec<rules::RuleFiles>,
    /// Rule evaluation and notification settings.
    pub alerting: rules::AlertingSettings,
    /// The LLM judges, built at start with the records store as their cache.
    pub judges: Vec<judge::JudgeSpec>,
    /// The golden probes, when any are configured.
    pub probes: Option<probes::Probes>,
    /// The rubrics of `[quality] rubric_files` by name, those that need a
    /// reference included (`infersight judge-eval` uses them).
    pub rubrics: std::collections::HashMap<String, ::judge::Rubric>,
    /// Who may reach the listeners.
    pub access: Access,
    /// Prices; their recording rules are in `rule_files` as `generated/cost.yml`.
    pub cost: cost::CostSettings,
}

/// Checked `[server] web_config`, `allow_unauthenticated`, the listeners'
/// limits and origins, and `[auth]`.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The web configuration: TLS, headers, basic-auth users.
    pub web: access::WebSettings,
    /// Each listener's read timeouts and connection limit.
    pub limits: access::Limits,
    /// The origins allowed to call across origins.
    pub cors: access::CorsOrigins,
    /// Users with their roles, and tokens (the self-scrape's included).
    pub credentials: access::Credentials,
    /// Listeners not on loopback that serve without authentication, on
    /// purpose (`allow_unauthenticated`): each is warned about at start.
    pub unauthenticated: Vec<String>,
    /// The self-scrape reads the registry in process instead of through
    /// the listener: the listener speaks TLS (perhaps asking for client
    /// certificates), which the scraper, as a client of its own server,
    /// would have to be given keys for.
    pub self_scrape_in_process: bool,
}

/// What a non-loopback listener without authentication is told.
const CONFIGURE_AUTH: &str = "set [server] web_config to a web.yml with basic_auth_users (bcrypt hashes from \
     `infersight hash-password`) or client certificates (RequireAndVerifyClientCert), add [[auth.token]], \
     or set [server] allow_unauthenticated = true to serve everyone on purpose";

/// The web configuration and `[auth]`, checked; `None` after pushing each problem.
fn validate_access(
    web_config: Option<&Path>,
    auth: access::AuthConfig,
    problems: &mut Vec<Problem>,
) -> Option<(access::WebSettings, access::Credentials)> {
    let web =
        match web_config {
            None => access::WebSettings::default(),
            Some(path) => match access::web_config::load(path) {
                Ok(web) => web,
                Err(found) => {
                    problems.extend(found.into_iter().map(|f| Problem {
                        key: "server.web_config".into(),
                        message: format!("{}: {f}", path.display()),
                    }));
                    return None;
                }
            },
        };
    match auth.validate(&web.users) {
        Ok(credentials) => Some((web, credentials)),
        Err(found) => {
            problems.extend(found.into_iter().map(|f| Problem { key: f.key, message: f.message }));
            None
        }
    }
}

/// `[server] read_header_timeout`, `read_timeout` and `max_connections`,
/// checked; `None` after pushing each problem.
fn validate_limits(server: &RawServer, problems: &mut Vec<Problem>) -> Option<access::Limits> {
    let mut positive = |key: &str, text: &str| {
        let duration = check(problems, key, parse_duration(text))?;
        if duration.is_zero() {
            problems.push(Problem { key: key.into(), message: "must be positive".into() });
            return None;
        }
        Some(duration)
    };
    let read_header_timeout = positive("server.read_header_timeout", &server.read_header_timeout);
    let read_timeout = positive("server.read_timeout", &server.read_timeout);
    if server.max_connections == 0 {
        problems.push(Problem { key: "server.max_connections".into(), message: "must be at least 1".into() });
        return None;
    }
    Some(access::Limits {
        read_header_timeout: read_header_timeout?,
        read_timeout: read_timeout?,
        max_connections: server.max_connections,
    })
}

/// A problem with a key of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, like `storage.retention`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why a configuration cannot be used: every problem found.
#[derive(Debug)]
pub struct ConfigError {
    /// The file, if one was read.
    pub file: Option<PathBuf>,
    /// Each problem with its key path.
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) => writeln!(f, "invalid configuration in {}:", file.display())?,
            None => writeln!(f, "invalid configuration:")?,
        }
        for problem in &self.problems {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The gateway's settings: `Some(None)` when no upstream is configured (the
/// gateway stays off), `None` after pushing each problem. Secrets written as
/// `${ENV_VAR}` are read from the environment first.
fn validate_gateway(
    mut gateway: proxy::GatewayConfig,
    prices: &[proxy::TokenPrice],
    problems: &mut Vec<Problem>,
) -> Option<Option<proxy::GatewaySettings>> {
    if !gateway.is_enabled() {
        return Some(None);
    }
    let before = problems.len();
    for (i, key) in gateway.api_keys.iter_mut().enumerate() {
        if let Some(value) = check(problems, &format!("gateway.api_keys[{i}]"), expand_env(key.expose())) {
            *key = proxy::Secret::new(value);
        }
    }
    for (i, upstream) in gateway.upstreams.iter_mut().enumerate() {
        if let Some(key) = &mut upstream.api_key
            && let Some(value) = check(problems, &format!("gateway.upstream[{i}].api_key"), expand_env(key.expose()))
        {
            *key = proxy::Secret::new(value);
        }
    }
    if problems.len() > before {
        return None;
    }
    match gateway.validate(prices) {
        Ok(settings) => Some(Some(settings)),
        Err(proxy::Error::Config { problems: found }) => {
            problems.extend(found.0.into_iter().map(|p| Problem { key: p.key, message: p.message }));
            None
        }
        Err(other) => {
            problems.push(Problem { key: "gateway".into(), message: other.to_string() });
            None
        }
    }
}

/// `value` with every `${NAME}` replaced by environment variable `NAME`.
fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| "unclosed \"${\"".to_owned())?;
        let name = &after[..end];
        let found = std::env::var(name).map_err(|_| format!("environment variable {name:?} is not set"))?;
        out.push_str(&found);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The address to call a listener on: loopback when it listens on every
/// address (`0.0.0.0` or `[::]`).
pub(crate) fn loopback_if_unspecified(listen: SocketAddr) -> SocketAddr {
    let mut target = listen;
    if target.ip().is_unspecified() {
        target.set_ip(if listen.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
    }
    target
}

/// The self-scrape's job name.
pub(crate) const SELF_SCRAPE_JOB: &str = "infersight";

/// The name of the token the self-scrape sends when authentication is on.
const SELF_SCRAPE_TOKEN: &str = "infersight-self-scrape";

/// The scrape job of the server's own `/metrics`: on loopback when it
/// listens on every address.
fn self_scrape(listen: SocketAddr, interval: String) -> collectors::scrape::ScrapeConfig {
    collectors::scrape::ScrapeConfig {
        job_name: Some(SELF_SCRAPE_JOB.into()),
        targets: vec![loopback_if_unspecified(listen).to_string()],
        interval,
        ..collectors::scrape::ScrapeConfig::default()
    }
}

/// The value of `result`, or `None` after pushing its problem under `key`.
pub(crate) fn check<T>(problems: &mut Vec<Problem>, key: &str, result: Result<T, String>) -> Option<T> {
    result.map_err(|message| problems.push(Problem { key: key.into(), message })).ok()
}

impl RawConfig {
    /// Parses TOML text.
    ///
    /// # Errors
    ///
    /// Every structural problem (syntax, unknown keys, wrong types, missing
    /// keys) with its key path and line.
    pub fn parse(text: &str) -> Result<RawConfig, Vec<Problem>> {
        let mut reading = read::read(text);
        match reading.raw {
            Some(raw) if reading.problems.is_empty() => Ok(raw),
            _ => {
                read::add_lines(text, &mut reading.problems);
                Err(reading.problems)
            }
        }
    }

    /// The configuration as a TOML file: every key, defaults included, in
    /// the form [`RawConfig::parse`] reads back to an equal `RawConfig`.
    /// Secrets are printed as written, so `${ENV_VAR}` stays a reference.
    ///
    /// # Panics
    ///
    /// Never: every value of a `RawConfig` has a TOML form (paths came from
    /// TOML text, so they are UTF-8).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("every value of the configuration has a TOML form")
    }

    /// Checks every value; returns the runtime settings or every problem.
    ///
    /// # Errors
    ///
    /// All problems found, each with its key path.
    pub fn validate(self) -> Result<Config, Vec<Problem>> {
        let mut problems = Vec::new();
        let p = &mut problems;
        let listen = check(
            p,
            "server.listen",
            self.server
                .listen
                .parse::<SocketAddr>()
                .map_err(|e| format!("{:?} is not an address: {e}", self.server.listen)),
        );
        let max_bytes = check(p, "server.remote_write_max_bytes", parse_size(&self.server.remote_write_max_bytes));
        let retention = check(p, "storage.retention", parse_duration(&self.storage.retention));
        let retention_size = check(p, "storage.retention_size", parse_size(&self.storage.retention_size));
        let fsync = check(p, "storage.wal_fsync_interval", parse_duration(&self.storage.wal_fsync_interval));
        let query_timeout = check(p, "query.timeout", parse_duration(&self.query.timeout));
        let lookback = check(p, "query.lookback_delta", parse_duration(&self.query.lookback_delta));
        let records_retention = check(p, "storage.records_retention", parse_duration(&self.storage.records_retention));
        let records_size = check(p, "storage.records_retention_size", parse_size(&self.storage.records_retention_size));
        let mut raw_quality = self.quality;
        let raw_judges = std::mem::take(&mut raw_quality.judge);
        let rubric_files = std::mem::take(&mut raw_quality.rubric_files);
        let quality = raw_quality.validate(p);
        let access = validate_access(self.server.web_config.as_deref(), self.auth, p);
        let upstream_names: Vec<String> = self.gateway.upstreams.iter().map(|u| u.name.clone()).collect();
        let priced: Vec<String> = self.cost.model.iter().map(|price| price.model.clone()).collect();
        let cost = cost::validate(self.cost, p);
        // With problems in [cost] the file is refused anyway; its models stand
        // priced so that the gateway reports only models with no entry at all.
        let prices = match &cost {
            Some(cost) => cost.token_prices(),
            None => priced
                .into_iter()
                .map(|model| proxy::TokenPrice { model, input_per_token: 0.0, output_per_token: 0.0 })
                .collect(),
        };
        let mut gateway = validate_gateway(self.gateway, &prices, p);
        let rubrics = judge::read_rubrics(&rubric_files, p);
        let judges =
            judge::validate(raw_judges, &rubrics, gateway.as_ref().and_then(Option::as_ref), &upstream_names, p);
        let judged = probes::Judging { judges: judges.as_deref(), rubrics: &rubrics };
        // Probes send a plain key; with named keys only, they get one made at start.
        if !self.probes.is_empty()
            && let Some(Some(gateway)) = &mut gateway
            && gateway.api_keys.is_empty()
            && !gateway.keys.is_empty()
        {
            gateway.api_keys.push(proxy::Secret::new(access::random_token()));
        }
        let probes = probes::validate(self.probes, gateway.as_ref().and_then(Option::as_ref), &judged, p);
        let to_problems = |found: Vec<rules::ConfigProblem>| -> Vec<Problem> {
            found.into_iter().map(|(key, message)| Problem { key, message }).collect()
        };
        let rule_files =
            rules::validate_rule_files(&self.rule_files).map_err(|found| p.extend(to_problems(found))).ok();
        let alerting = self.alerting.validate("alerting").map_err(|found| p.extend(to_problems(found))).ok();
        let mut scrape_configs = self.scrape;
        let limits = validate_limits(&self.server, p);
        let cors = access::CorsOrigins::new(&self.server.cors_origins)
            .map_err(|found| {
                p.extend(
                    found.into_iter().map(|(i, message)| Problem { key: format!("server.cors_origins[{i}]"), message }),
                );
            })
            .ok();
        let mut access = access.map(|(web, credentials)| Access {
            web,
            limits: access::Limits::default(),
            cors: access::CorsOrigins::default(),
            credentials,
            unauthenticated: Vec::new(),
            self_scrape_in_process: false,
        });
        if self.server.self_scrape
            && let Some(listen) = listen
        {
            let mut job = self_scrape(listen, self.server.self_scrape_interval);
            match &mut access {
                Some(access) if access.web.tls.is_some() => access.self_scrape_in_process = true,
                Some(access) if access.credentials.is_enabled() => {
                    let token = access
                        .credentials
                        .add_internal_token(SELF_SCRAPE_TOKEN, [access::Role::Metrics].into_iter().collect());
                    job.bearer_token = Some(collectors::scrape::Secret(token));
                }
                _ => {}
            }
            scrape_configs.push(job);
        }
        if let (Some(access), Some(listen)) = (&mut access, listen) {
            let authenticated = access.credentials.is_enabled()
                || access.web.tls.as_ref().is_some_and(|tls| tls.client_auth == access::ClientAuth::RequireAndVerify);
            let mut exposed = Vec::new();
            if !authenticated && !listen.ip().is_loopback() {
                exposed.push(("server.listen", format!("{listen}")));
            }
            if let Some(Some(gateway)) = &gateway
                && !gateway.checks_keys()
                && !gateway.listen.ip().is_loopback()
            {
                exposed.push((
                    "gateway.listen",
                    format!("{} (the gateway, without api_keys or [[gateway.key]])", gateway.listen),
                ));
            }
            for (key, what) in exposed {
                if self.server.allow_unauthenticated {
                    access.unauthenticated.push(what);
                } else {
                    p.push(Problem {
                        key: key.into(),
                        message: format!(
                            "{what} is not a loopback address and no authentication is configured; {CONFIGURE_AUTH}"
                        ),
                    });
                }
            }
        }
        let scrape = collectors::scrape::validate_all(&scrape_configs, "scrape", &|name| std::env::var(name).ok())
            .map_err(|found| p.extend(found.into_iter().map(|f| Problem { key: f.key, message: f.message })))
            .ok();
        let local = self
            .collectors
            .validate()
            .map_err(|found| {
                p.extend(found.into_iter().map(|(key, message)| Problem { key: format!("collectors.{key}"), message }));
            })
            .ok();
        for (key, value) in [("query.timeout", query_timeout), ("query.lookback_delta", lookback)] {
            if value.is_some_and(|d| d.is_zero()) {
                problems.push(Problem { key: key.into(), message: "must be positive".into() });
            }
        }
        if self.query.max_samples == 0 {
            problems.push(Problem { key: "query.max_samples".into(), message: "must be positive".into() });
        }
        if let Some(d) = retention.filter(|d| *d < Duration::from_secs(2 * 3600)) {
            problems.push(Problem {
                key: "storage.retention".into(),
                message: format!("{d:?} is shorter than one 2h block; use at least \"2h\""),
            });
        }
        if fsync.is_some_and(|d| d.is_zero()) {
            problems.push(Problem { key: "storage.wal_fsync_interval".into(), message: "must be positive".into() });
        }
        if self.storage.path.as_os_str().is_empty() {
            problems.push(Problem { key: "storage.path".into(), message: "must not be empty".into() });
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let (
            Some(listen),
            Some(max_bytes),
            Some(retention),
            Some(retention_size),
            Some(fsync),
            Some(query_timeout),
            Some(lookback),
            Some(records_retention),
            Some(records_size),
            Some(quality),
            Some(local),
            Some(scrape),
            Some(gateway),
            Some(rule_files),
            Some(mut alerting),
            Some(judges),
            Some(probes),
            Some(mut access),
            Some(cost),
            Some(limits),
            Some(cors),
        ) = (
            listen,
            max_bytes,
            retention,
            retention_size,
            fsync,
            query_timeout,
            lookback,
            records_retention,
            records_size,
            quality,
            local,
            scrape,
            gateway,
            rule_files,
            alerting,
            judges,
            probes,
            access,
            cost,
            limits,
            cors,
        )
        else {
            unreachable!("every failed check pushed a problem");
        };
        access.limits = limits;
        access.cors = cors;
        if alerting.external_url.is_empty() {
            alerting.external_url = format!("http://{listen}");
        }
        let mut rule_files = rule_files;
        if let Some(yaml) = cost.rule_file() {
            rule_files.push(rules::RuleFiles {
                source: rules::RuleSource::Generated { file: "generated/cost.yml".into(), yaml },
                interval: None,
            });
        }
        Ok(Config {
            listen,
            remote_write: receivers::RemoteWriteConfig {
                max_decompressed_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            },
            otlp: receivers::OtlpConfig {
                max_decompressed_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
                ..receivers::OtlpConfig::default()
            },
            data_dir: self.storage.path,
            storage: tsdb::Options {
                retention,
                retention_size: (retention_size > 0).then_some(retention_size),
                ..tsdb::Options::default()
            },
            wal_fsync_interval: fsync,
            query: promql::EngineOptions {
                timeout: query_timeout,
                max_samples: self.query.max_samples,
                lookback_delta: lookback,
                ..promql::EngineOptions::default()
            },
            records_retention,
            records_retention_size: (records_size > 0).then_some(records_size),
            quality,
            local,
            scrape,
            gateway,
            rule_files,
            alerting,
            judges,
            probes,
            rubrics,
            access,
            cost,
        })
    }
}

/// Loads and validates a configuration file, or the embedded default.
///
/// # Errors
///
/// A [`ConfigError`] with every problem found, or the file's read error.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    load_with(file, &Overrides::default()).map(|(_, config)| config)
}

/// Loads a configuration file (or the embedded default), adds what the
/// flags say, and validates the result; returns it both as written (for
/// `--print-config`) and checked.
///
/// # Errors
///
/// A [`ConfigError`] with every problem found, or the file's read error.
pub fn load_with(file: Option<&Path>, overrides: &Overrides) -> Result<(RawConfig, Config), ConfigError> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_owned()),
            problems: vec![Problem { key: "<file>".into(), message: format!("cannot read: {e}") }],
        })?,
        None => DEFAULT_TOML.to_owned(),
    };
    load_text(&text, overrides).map_err(|problems| ConfigError { file: file.map(Path::to_owned), problems })
}

/// Parses and validates configuration text with the flags' additions:
/// every problem at once, structural ones first, each with its key path
/// and line. A value problem that only follows from a key left out for a
/// structural problem (a block left without a key it needs) is not repeated.
///
/// # Errors
///
/// Every problem found.
pub fn load_text(text: &str, overrides: &Overrides) -> Result<(RawConfig, Config), Vec<Problem>> {
    let reading = read::read(text);
    let mut problems = reading.problems;
    if let Some(mut raw) = reading.raw {
        overrides.apply(&mut raw);
        match raw.clone().validate() {
            Ok(config) if problems.is_empty() => return Ok((raw, config)),
            Ok(_) => {}
            Err(found) => problems.extend(
                found
                    .into_iter()
                    .filter(|problem| !reading.removed.caused(&problem.key))
                    .map(|problem| Problem { key: reading.removed.map_key(&problem.key), message: problem.message }),
            ),
        }
    }
    read::add_lines(text, &mut problems);
    Err(problems)
}

#[cfg(test)]
mod tests;
