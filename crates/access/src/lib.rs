//! Who may reach what: TLS on every listener, Prometheus's exporter-toolkit
//! `web.config.yml` (certificates, client certificates, security headers,
//! bcrypt basic auth), bearer tokens, the roles each route needs, the
//! origins browsers may call from, and the limits that keep slow or
//! numerous clients from exhausting a listener.
//!
//! The binary reads the files and binds the sockets; this crate checks the
//! settings ([`web_config`], [`AuthConfig`], [`CorsOrigins`]), wraps a
//! `TcpListener` in a [`Listener`] that speaks TLS with certificates
//! reloaded when their files change ([`Certificates`]) and holds at most
//! `max_connections` ([`Limits`]), serves a router on it with header and
//! body read timeouts ([`serve`]), and guards the router ([`Guard`]):
//! state-changing requests from other sites are refused, and every request
//! but liveness and readiness needs credentials with the role of its route
//! ([`policy`]) once any user or token is configured. Handlers read the
//! [`Principal`] from the request's extensions. [`SecretHash`] and
//! [`HashChecker`] check hashed secrets for the tokens here and for the
//! gateway's keys. The crate knows nothing of what the routes do.
#![warn(missing_docs)]

mod auth;
mod error;
mod guard;
mod hash;
mod listener;
mod metrics;
mod origin;
pub mod policy;
mod secret;
mod server;
mod tls;
pub mod web_config;

use std::fmt;

pub use auth::{
    AuthConfig, Authenticator, Credentials, Principal, Role, Roles, TokenConfig, UserConfig, Verdict, random_token,
};
pub use error::{Error, Result};
pub use guard::{Clock, Guard};
pub use hash::{HashChecker, SecretHash, constant_time_eq};
pub use listener::{Connection, Listener};
pub use metrics::Metrics;
pub use origin::CorsOrigins;
pub use secret::Secret;
pub use server::{Limits, serve};
pub use tls::{Certificates, ClientAuth, Source, TlsSettings};
pub use web_config::{WebConfigFile, WebSettings};

/// The cost `infersight hash-password` hashes with, as Prometheus's
/// documentation suggests (`htpasswd -nBC 10`): about 70 ms on a server core.
pub const BCRYPT_COST: u32 = 10;

/// A bcrypt hash of `password`, for `basic_auth_users` or `[[auth.token]] hash`.
///
/// # Errors
///
/// What bcrypt reports (the system's random number generator failed).
pub fn hash_password(password: &str) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(password, BCRYPT_COST)
}

/// One invalid value of a web configuration file or of `[auth]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is: `tls_server_config.min_version`, `auth.token[0].hash`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(key: impl Into<String>, message: String) -> Problem {
        Problem { key: key.into(), message }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}
