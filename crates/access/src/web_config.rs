//! Prometheus's exporter-toolkit `web.config.yml`, read as written
//! ([`WebConfigFile`]) and checked into the settings the listeners use
//! ([`WebSettings`]).
//!
//! The file is the one Prometheus, Alertmanager and the exporters read, so
//! an operator's existing file works unchanged: `tls_server_config`,
//! `http_server_config`, `basic_auth_users` and `rate_limit`. Every value
//! that rustls (with the ring provider) cannot honour is a problem naming
//! the key and what to write instead, never a silent fallback. Paths in
//! the file are relative to the file's folder, as in exporter-toolkit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use rustls::crypto::SupportedKxGroup;
use rustls::{SupportedCipherSuite, SupportedProtocolVersion};
use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::secret::Secret;
use crate::tls;

/// The web configuration file as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfigFile {
    /// TLS on the listener; plain HTTP without a certificate.
    pub tls_server_config: Option<TlsServerConfig>,
    /// Headers added to every response.
    pub http_server_config: HttpServerConfig,
    /// Usernames and bcrypt hashes of their passwords.
    pub basic_auth_users: BTreeMap<String, Secret>,
    /// A token bucket over all requests of the listener.
    pub rate_limit: Option<RateLimitConfig>,
}

/// `tls_server_config`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsServerConfig {
    /// The certificate chain as PEM text (instead of `cert_file`).
    pub cert: String,
    /// The private key as PEM text (instead of `key_file`).
    pub key: Secret,
    /// CA certificates for client certificates as PEM text (instead of `client_ca_file`).
    pub client_ca: String,
    /// The certificate chain's PEM file.
    pub cert_file: String,
    /// The private key's PEM file.
    pub key_file: String,
    /// `NoClientCert`, `RequestClientCert`, `RequireAnyClientCert`,
    /// `VerifyClientCertIfGiven` or `RequireAndVerifyClientCert`.
    pub client_auth_type: String,
    /// CA certificates that client certificates must chain to.
    pub client_ca_file: String,
    /// Subject alternative names a client certificate must carry.
    pub client_allowed_sans: Vec<String>,
    /// `TLS12` or `TLS13`.
    pub min_version: String,
    /// `TLS12` or `TLS13`.
    pub max_version: String,
    /// TLS 1.2 cipher suites by their IANA names (TLS 1.3's are always on).
    pub cipher_suites: Vec<String>,
    /// Whether the server's order of cipher suites wins over the client's.
    pub prefer_server_cipher_suites: bool,
    /// Key-exchange groups in order of preference: `X25519`, `CurveP256`, `CurveP384`.
    pub curve_preferences: Vec<String>,
}

impl Default for TlsServerConfig {
    fn default() -> Self {
        TlsServerConfig {
            cert: String::new(),
            key: Secret::default(),
            client_ca: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            client_auth_type: String::new(),
            client_ca_file: String::new(),
            client_allowed_sans: Vec::new(),
            min_version: String::new(),
            max_version: String::new(),
            cipher_suites: Vec::new(),
            prefer_server_cipher_suites: true,
            curve_preferences: Vec::new(),
        }
    }
}

/// `http_server_config`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpServerConfig {
    /// HTTP/2 where TLS negotiates it. infersight speaks HTTP/1.1 on every
    /// listener, so either value is accepted and HTTP/1.1 is served.
    pub http2: bool,
    /// Headers set on every response: `Strict-Transport-Security`,
    /// `X-Frame-Options` (`deny`, `sameorigin`), `X-Content-Type-Options`
    /// (`nosniff`), `X-XSS-Protection`, `Content-Security-Policy`.
    pub headers: BTreeMap<String, String>,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig { http2: true, headers: BTreeMap::new() }
    }
}

/// `rate_limit`: requests over the bucket get 429.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Time between two requests (`"100ms"`); `0` turns the limit off.
    pub interval: String,
    /// Requests allowed at once above the steady rate.
    pub burst: u32,
}

/// The headers exporter-toolkit lets a file set, with the values it accepts
/// (any value where the list is empty).
const CONFIGURABLE_HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// The checked web configuration of one listener.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// TLS, when a certificate is configured.
    pub tls: Option<tls::TlsSettings>,
    /// Headers set on every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Usernames and their bcrypt hashes; empty when basic auth is off.
    pub users: BTreeMap<String, Secret>,
    /// The listener's rate limit, if any.
    pub rate_limit: Option<RateLimit>,
}

/// A checked `rate_limit`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Time between two requests at the steady rate.
    pub interval: Duration,
    /// Requests allowed at once.
    pub burst: u32,
}

/// Reads and checks the web configuration file at `path`.
///
/// # Errors
///
/// Every problem, each keyed by its place in the file
/// (`tls_server_config.min_version`).
pub fn load(path: &Path) -> Result<WebSettings, Vec<Problem>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![Problem::new("<file>", format!("cannot read {}: {e}", path.display()))])?;
    let file = parse(&text)?;
    file.validate(path.parent().unwrap_or(Path::new(".")))
}

/// Parses the YAML text of a web configuration file.
///
/// # Errors
///
/// The YAML error (syntax, an unknown key, a wrong type) with its line.
pub fn parse(text: &str) -> Result<WebConfigFile, Vec<Problem>> {
    if text.trim().is_empty() {
        return Ok(WebConfigFile::default());
    }
    serde_yaml::from_str::<Option<WebConfigFile>>(text).map(Option::unwrap_or_default).map_err(|e| {
        let key = e.location().map_or_else(|| "<file>".to_owned(), |at| format!("line {}", at.line()));
        vec![Problem::new(key, e.to_string())]
    })
}

impl WebConfigFile {
    /// Checks every value; relative paths are taken from `dir`.
    ///
    /// # Errors
    ///
    /// Every problem found.
    pub fn validate(self, dir: &Path) -> Result<WebSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let tls = self.tls_server_config.and_then(|raw| validate_tls(raw, dir, &mut problems));
        let mut headers = Vec::new();
        for (name, value) in &self.http_server_config.headers {
            let key = format!("http_server_config.headers.{name}");
            let Some((_, accepted)) = CONFIGURABLE_HEADERS.iter().find(|(known, _)| known == name) else {
                let names: Vec<&str> = CONFIGURABLE_HEADERS.iter().map(|(known, _)| *known).collect();
                problems.push(Problem::new(key, format!("this header cannot be configured; one of {names:?}")));
                continue;
            };
            if !accepted.is_empty() && !accepted.contains(&value.as_str()) {
                problems.push(Problem::new(key, format!("{value:?} is not accepted; one of {accepted:?}")));
                continue;
            }
            match HeaderValue::from_str(value) {
                Ok(header_value) if !value.is_empty() => {
                    headers.push((HeaderName::from_bytes(name.as_bytes()).expect("a known header name"), header_value));
                }
                // Blank leaves the header unset, as in exporter-toolkit.
                Ok(_) => {}
                Err(_) => problems.push(Problem::new(key, "is not a valid header value".to_owned())),
            }
        }
        for (user, hash) in &self.basic_auth_users {
            if let Err(message) = check_bcrypt(hash.expose()) {
                problems.push(Problem::new(format!("basic_auth_users.{user}"), message));
            }
        }
        let rate_limit = self.rate_limit.and_then(|raw| {
            let interval = match parse_go_duration(&raw.interval) {
                Ok(interval) => interval,
                Err(message) => {
                    problems.push(Problem::new("rate_limit.interval", message));
                    return None;
                }
            };
            (!interval.is_zero()).then_some(RateLimit { interval, burst: raw.burst.max(1) })
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(WebSettings { tls, headers, users: self.basic_auth_users, rate_limit })
    }
}

/// Whether `hash` is a bcrypt hash (`$2a$`, `$2b$`, `$2x$` or `$2y$`, a cost and 53 characters).
pub(crate) fn check_bcrypt(hash: &str) -> Result<(), String> {
    hash.parse::<bcrypt::HashParts>().map(|_| ()).map_err(|_| {
        "is not a bcrypt hash (\"$2y$10$...\"); make one with `infersight hash-password` or `htpasswd -nBC 10 \"\"`"
            .to_owned()
    })
}

/// Go's duration syntax as `rate_limit.interval` is written (`"1s"`,
/// `"100ms"`, `"1m30s"`, `"0"`).
fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (\"1s\", \"100ms\")");
    if text.is_empty() || text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| bad())?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_end..];
    }
    Ok(Duration::from_secs_f64(total))
}

fn validate_tls(raw: TlsServerConfig, dir: &Path, problems: &mut Vec<Problem>) -> Option<tls::TlsSettings> {
    let before = problems.len();
    let mut problem =
        |key: &str, message: String| problems.push(Problem::new(format!("tls_server_config.{key}"), message));
    let source = |inline: &str, file: &str, inline_key: &str, file_key: &str| -> Result<Option<tls::Source>, String> {
        match (inline.is_empty(), file.is_empty()) {
            (true, true) => Ok(None),
            (false, true) => Ok(Some(tls::Source::Inline(inline.to_owned()))),
            (true, false) => Ok(Some(tls::Source::File(resolve(dir, file)))),
            (false, false) => Err(format!("{inline_key} and {file_key} are both set; keep one")),
        }
    };
    let cert = source(&raw.cert, &raw.cert_file, "cert", "cert_file").map_err(|m| problem("cert_file", m)).ok()?;
    let key = source(raw.key.expose(), &raw.key_file, "key", "key_file").map_err(|m| problem("key_file", m)).ok()?;
    let client_ca = source(&raw.client_ca, &raw.client_ca_file, "client_ca", "client_ca_file")
        .map_err(|m| problem("client_ca_file", m))
        .ok()?;
    let (cert, key) = match (cert, key) {
        // No certificate: the listener serves plain HTTP, as exporter-toolkit does.
        (None, None) if client_ca.is_none() => return None,
        (Some(cert), Some(key)) => (cert, key),
        (None, _) => {
            problem("cert_file", "is required for TLS (with key_file)".into());
            return None;
        }
        (Some(_), None) => {
            problem("key_file", "is required for TLS (with cert_file)".into());
            return None;
        }
    };
    let client_auth = match raw.client_auth_type.as_str() {
        "" | "NoClientCert" => tls::ClientAuth::None,
        "RequestClientCert" => tls::ClientAuth::RequestAny,
        "RequireAnyClientCert" | "RequireClientCert" => tls::ClientAuth::RequireAny,
        "VerifyClientCertIfGiven" => tls::ClientAuth::VerifyIfGiven,
        "RequireAndVerifyClientCert" => tls::ClientAuth::RequireAndVerify,
        other => {
            problem(
                "client_auth_type",
                format!(
                    "{other:?} is not a client auth type; one of \"NoClientCert\", \"RequestClientCert\", \
                     \"RequireAnyClientCert\", \"VerifyClientCertIfGiven\", \"RequireAndVerifyClientCert\""
                ),
            );
            tls::ClientAuth::None
        }
    };
    let verifies = matches!(client_auth, tls::ClientAuth::VerifyIfGiven | tls::ClientAuth::RequireAndVerify);
    if verifies && client_ca.is_none() {
        problem("client_ca_file", format!("{:?} needs client_ca_file", raw.client_auth_type));
    }
    if client_ca.is_some() && client_auth == tls::ClientAuth::None {
        problem(
            "client_auth_type",
            "client_ca_file is set without a client auth type; use \"RequireAndVerifyClientCert\"".into(),
        );
    }
    let mut allowed_sans = Vec::new();
    for (i, name) in raw.client_allowed_sans.iter().enumerate() {
        match tls::allowed_san(name) {
            Ok(name) => allowed_sans.push(name),
            Err(message) => problem(&format!("client_allowed_sans[{i}]"), message),
        }
    }
    if !raw.client_allowed_sans.is_empty() && !verifies {
        problem(
            "client_allowed_sans",
            "needs verified client certificates; set client_auth_type to \"RequireAndVerifyClientCert\"".into(),
        );
    }
    let version = |key: &str, text: &str, default: &'static SupportedProtocolVersion| match text {
        "" => Ok(default),
        "TLS12" => Ok(&rustls::version::TLS12),
        "TLS13" => Ok(&rustls::version::TLS13),
        "TLS10" | "TLS11" => Err(format!("{text:?} is not supported by rustls; use \"TLS12\" or \"TLS13\"")),
        other => Err(format!("{other:?} is not a TLS version; \"TLS12\" or \"TLS13\" ({key})")),
    };
    let min =
        version("min_version", &raw.min_version, &rustls::version::TLS12).map_err(|m| problem("min_version", m)).ok();
    let max =
        version("max_version", &raw.max_version, &rustls::version::TLS13).map_err(|m| problem("max_version", m)).ok();
    let mut versions = Vec::new();
    if let (Some(min), Some(max)) = (min, max) {
        let rank = |v: &SupportedProtocolVersion| if v.version == rustls::ProtocolVersion::TLSv1_2 { 0 } else { 1 };
        if rank(min) > rank(max) {
            problem("min_version", format!("{:?} is above max_version {:?}", raw.min_version, raw.max_version));
        }
        versions = [&rustls::version::TLS12, &rustls::version::TLS13]
            .into_iter()
            .filter(|v| rank(v) >= rank(min) && rank(v) <= rank(max))
            .collect();
    }
    let mut cipher_suites: Vec<SupportedCipherSuite> = Vec::new();
    for (i, name) in raw.cipher_suites.iter().enumerate() {
        match tls::cipher_suite(name) {
            Ok(suite) => cipher_suites.push(suite),
            Err(message) => problem(&format!("cipher_suites[{i}]"), message),
        }
    }
    let mut kx_groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
    for (i, name) in raw.curve_preferences.iter().enumerate() {
        match tls::kx_group(name) {
            Ok(group) => kx_groups.push(group),
            Err(message) => problem(&format!("curve_preferences[{i}]"), message),
        }
    }
    if problems.len() > before {
        return None;
    }
    let settings = tls::TlsSettings {
        cert,
        key,
        client_ca,
        client_auth,
        allowed_sans,
        versions,
        cipher_suites,
        kx_groups,
        prefer_server_cipher_suites: raw.prefer_server_cipher_suites,
    };
    // Load once now, so that a missing file or a key that does not match
    // is reported with the configuration, not at the first handshake.
    if let Err(err) = tls::build_server_config(&settings) {
        problems.push(Problem::new("tls_server_config", err.to_string()));
        return None;
    }
    Some(settings)
}

fn resolve(dir: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() { path.to_owned() } else { dir.join(path) }
}

#[cfg(test)]
mod tests;
