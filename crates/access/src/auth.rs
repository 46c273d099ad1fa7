//! Who is asking: roles, `[auth]` (the roles of web.yml's users and the
//! bearer tokens), and the [`Authenticator`] that checks a request's
//! `Authorization` header against them.
//!
//! Passwords and tokens are kept only as hashes: bcrypt for users (as
//! web.yml writes them) and bcrypt or SHA-256 for tokens, checked by
//! [`crate::HashChecker`] (bcrypt's verdicts cached, one comparison at a time).

use std::collections::BTreeMap;
use std::fmt;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::hash::{HashChecker, SecretHash};
use crate::secret::Secret;

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The query API, `/metrics` and the dashboard's metric views.
    Metrics,
    /// Stored prompts, responses and their scores (`/api/v1/infersight/exchanges*`).
    Exchanges,
    /// Remote write, OTLP and end-user feedback.
    Ingest,
    /// Flush, reload, delete and configuration.
    Admin,
}

impl Role {
    /// Every role, in the order they are documented.
    pub const ALL: [Role; 4] = [Role::Metrics, Role::Exchanges, Role::Ingest, Role::Admin];

    /// The role's name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Metrics => "metrics",
            Role::Exchanges => "exchanges",
            Role::Ingest => "ingest",
            Role::Admin => "admin",
        }
    }

    /// A role by its name.
    ///
    /// # Errors
    ///
    /// A message naming the roles, for any other name.
    pub fn parse(name: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| format!("{name:?} is not a role; one of \"metrics\", \"exchanges\", \"ingest\", \"admin\""))
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of roles.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    /// Every role: what everyone has while no authentication is configured.
    pub const ALL: Roles = Roles(0b1111);

    /// Whether the set holds `role`.
    pub fn has(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Roles {
        Roles(iter.into_iter().fold(0, |bits, role| bits | role.bit()))
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(Role::ALL.into_iter().filter(|r| self.has(*r)).map(Role::as_str)).finish()
    }
}

/// Who made a request, as handlers see it (an extension of the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The username, the token's name, or `anonymous` without authentication.
    pub name: String,
    /// What it may do.
    pub roles: Roles,
}

impl Principal {
    /// The principal of every request while no authentication is configured.
    pub fn anonymous() -> Principal {
        Principal { name: "anonymous".to_owned(), roles: Roles::ALL }
    }
}

/// `[auth]`: roles of the web configuration's users, and bearer tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Roles of each user of `basic_auth_users` in `[server] web_config`,
    /// by username (`alice = ["metrics", "exchanges"]`). A user not listed
    /// has the `metrics` role only.
    pub users: BTreeMap<String, Vec<String>>,
    /// Users one by one (`[[auth.user]]`, the shared contract's form): the
    /// roles of a user of `basic_auth_users`, or a user of its own with a
    /// bcrypt `password_hash`.
    #[serde(rename = "user")]
    pub user_list: Vec<UserConfig>,
    /// Bearer tokens (`[[auth.token]]`), sent as `Authorization: Bearer <token>`.
    #[serde(rename = "token")]
    pub tokens: Vec<TokenConfig>,
}

/// `[[auth.token]]`: one bearer token, kept as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it: the name audits and metrics show (never the token).
    pub name: String,
    /// `"sha256:<64 hex digits>"` of the token, or a bcrypt hash
    /// (`infersight hash-password` prints one).
    pub hash: Secret,
    /// What it may do: `metrics`, `exchanges`, `ingest`, `admin`.
    pub roles: Vec<String>,
    /// When it stops working (RFC 3339, `"2026-12-31T00:00:00Z"`); never without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// `[[auth.user]]`: one user's roles, and its password where web.yml does
/// not hold it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The username of basic auth.
    pub name: String,
    /// A bcrypt hash of the password (`infersight hash-password`), for a
    /// user that web.yml's `basic_auth_users` does not list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret>,
    /// What the user may do: `metrics`, `exchanges`, `ingest`, `admin`.
    pub roles: Vec<String>,
}

/// The roles of users not listed in `[auth.users]`.
const DEFAULT_USER_ROLES: [Role; 1] = [Role::Metrics];

/// A checked token.
#[derive(Clone)]
pub struct Token {
    name: String,
    hash: SecretHash,
    roles: Roles,
    expires_ms: Option<i64>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("name", &self.name).field("roles", &self.roles).finish_non_exhaustive()
    }
}

/// The checked `[auth]` with the web configuration's users.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    users: BTreeMap<String, (Secret, Roles)>,
    tokens: Vec<Token>,
}

impl Credentials {
    /// Whether any user or token is configured: without one, every request is let in.
    pub fn is_enabled(&self) -> bool {
        !self.users.is_empty() || !self.tokens.is_empty()
    }

    /// Adds a token made up now, for infersight's own requests to itself
    /// (the self-scrape), and returns it. It lives only in this process's
    /// memory and changes at every start.
    ///
    /// # Panics
    ///
    /// If the system's random number generator fails.
    pub fn add_internal_token(&mut self, name: &str, roles: Roles) -> String {
        let token = random_token();
        let hash = SecretHash::sha256_of(&token);
        self.tokens.push(Token { name: name.to_owned(), hash, roles, expires_ms: None });
        token
    }
}

/// A secret made up now (256 random bits as 64 hex digits), for
/// infersight's own requests to itself: it lives only in this process's
/// memory and changes at every start.
///
/// # Panics
///
/// If the system's random number generator fails.
pub fn random_token() -> String {
    let mut bytes = [0; 32];
    SystemRandom::new().fill(&mut bytes).expect("the system random number generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AuthConfig {
    /// Checks the roles and tokens against the web configuration's users
    /// (`web_users`, username to bcrypt hash). Keys start with `auth.`.
    ///
    /// # Errors
    ///
    /// Every problem: an unknown role, roles for a user the web
    /// configuration does not have, a hash that is neither form, a bad
    /// expiry, a duplicate token name.
    pub fn validate(self, web_users: &BTreeMap<String, Secret>) -> Result<Credentials, Vec<Problem>> {
        let mut problems = Vec::new();
        let roles_of = |key: &str, names: &[String], problems: &mut Vec<Problem>| -> Roles {
            names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| {
                    Role::parse(name).map_err(|m| problems.push(Problem::new(format!("{key}[{i}]"), m))).ok()
                })
                .collect()
        };
        // Each user's roles, by the key that gave them: `[auth.users]` or `[[auth.user]]`.
        let mut listed: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for (user, names) in self.users {
            listed.insert(user.clone(), (format!("auth.users.{user}"), names));
        }
        let mut own_passwords = BTreeMap::new();
        for (i, raw) in self.user_list.into_iter().enumerate() {
            let key = format!("auth.user[{i}]");
            if raw.name.is_empty() {
                problems.push(Problem::new(format!("{key}.name"), "must not be empty".into()));
                continue;
            }
            if let Some((other, _)) = listed.get(&raw.name) {
                problems.push(Problem::new(format!("{key}.name"), format!("{:?} is also given by {other}", raw.name)));
                continue;
            }
            if raw.roles.is_empty() {
                problems.push(Problem::new(format!("{key}.roles"), "must name at least one role".into()));
            }
            if let Some(hash) = raw.password_hash {
                if web_users.contains_key(&raw.name) {
                    problems.push(Problem::new(
                        format!("{key}.password_hash"),
                        format!(
                            "{:?} has a password in basic_auth_users of [server] web_config too; keep one",
                            raw.name
                        ),
                    ));
                } else if !hash.expose().starts_with("$2") {
                    problems.push(Problem::new(
                        format!("{key}.password_hash"),
                        "is not a bcrypt hash; `infersight hash-password` prints one".into(),
                    ));
                } else {
                    own_passwords.insert(raw.name.clone(), hash);
                }
            }
            listed.insert(raw.name, (format!("{key}.roles"), raw.roles));
        }
        for (user, (key, _)) in &listed {
            if !web_users.contains_key(user) && !own_passwords.contains_key(user) {
                let message = if let Some(entry) = key.strip_suffix(".roles") {
                    (
                        format!("{entry}.name"),
                        format!(
                            "{user:?} has no password: set password_hash, or list the user in basic_auth_users of \
                         [server] web_config"
                        ),
                    )
                } else if web_users.is_empty() {
                    (key.clone(), "has roles but [server] web_config has no basic_auth_users".to_owned())
                } else {
                    (
                        key.clone(),
                        format!("is not a user of basic_auth_users in [server] web_config ({:?})", web_users.keys()),
                    )
                };
                problems.push(Problem::new(message.0, message.1));
            }
        }
        let mut users = BTreeMap::new();
        for (user, hash) in web_users.iter().chain(&own_passwords) {
            let roles = match listed.get(user) {
                Some((key, names)) => roles_of(key, names, &mut problems),
                None => DEFAULT_USER_ROLES.into_iter().collect(),
            };
            users.insert(user.clone(), (hash.clone(), roles));
        }
        let mut tokens = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for (i, raw) in self.tokens.into_iter().enumerate() {
            let key = format!("auth.token[{i}]");
            if raw.name.is_empty() {
                problems.push(Problem::new(format!("{key}.name"), "must not be empty".into()));
            } else if !names.insert(raw.name.clone()) {
                problems.push(Problem::new(format!("{key}.name"), format!("{:?} names two tokens", raw.name)));
            }
            let roles = roles_of(&format!("{key}.roles"), &raw.roles, &mut problems);
            if raw.roles.is_empty() {
                problems.push(Problem::new(format!("{key}.roles"), "must name at least one role".into()));
            }
            let hash = match SecretHash::parse(raw.hash.expose()) {
                Ok(hash) => Some(hash),
                Err(message) => {
                    problems.push(Problem::new(format!("{key}.hash"), message));
                    None
                }
            };
            let expires = raw.expires.as_deref().unwrap_or_default();
            let expires_ms = match raw.expires.as_deref().map(chrono::DateTime::parse_from_rfc3339).transpose() {
                Ok(at) => at.map(|at| at.timestamp_millis()),
                Err(e) => {
                    problems.push(Problem::new(
                        format!("{key}.expires"),
                        format!("{expires:?} is not an RFC 3339 time (\"2026-12-31T00:00:00Z\"): {e}"),
                    ));
                    None
                }
            };
            if let Some(hash) = hash {
                tokens.push(Token { name: raw.name, hash, roles, expires_ms });
            }
        }
        if problems.is_empty() { Ok(Credentials { users, tokens }) } else { Err(problems) }
    }
}

/// What a request's credentials come to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Known, with these roles.
    Allowed(Principal),
    /// No `Authorization` header (or one of another scheme).
    Missing,
    /// Wrong password, unknown user or token.
    Invalid,
    /// A token past its expiry.
    Expired,
}

/// What a request presents.
#[derive(Clone, PartialEq, Eq)]
enum Presented {
    Basic { user: String, password: String },
    Bearer(String),
}

/// Checks credentials against the configured users and tokens.
pub struct Authenticator {
    credentials: Credentials,
    checker: HashChecker,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator").field("credentials", &self.credentials).finish_non_exhaustive()
    }
}

/// A bcrypt hash of a password no one has, compared when the user is
/// unknown so that unknown and known users take the same time (made with
/// `infersight hash-password`, its password thrown away).
const DECOY_HASH: &str = "$2b$10$.ir0s5HArMv4ec87TKgQ9O90m3UIvO6N9TnpKCz5zX7bUj.55BPBW";

impl Authenticator {
    /// An authenticator over `credentials`.
    ///
    /// # Panics
    ///
    /// If the system's random number generator fails.
    pub fn new(credentials: Credentials) -> Authenticator {
        Authenticator { credentials, checker: HashChecker::new() }
    }

    /// Whether any user or token is configured.
    pub fn is_enabled(&self) -> bool {
        self.credentials.is_enabled()
    }

    /// The verdict on `headers` at `now_ms`. May run bcrypt (tens of
    /// milliseconds): call it off the async threads.
    pub fn authenticate(&self, headers: &HeaderMap, now_ms: i64) -> Verdict {
        let Some(presented) = presented(headers) else { return Verdict::Missing };
        match presented {
            Presented::Basic { user, password } => {
                let known = self.credentials.users.get(&user);
                let hash = known.map_or(DECOY_HASH, |(hash, _)| hash.expose());
                let ok = self.checker.bcrypt_matches(hash, &password) && known.is_some();
                match known {
                    Some((_, roles)) if ok => Verdict::Allowed(Principal { name: user, roles: *roles }),
                    _ => Verdict::Invalid,
                }
            }
            Presented::Bearer(token) => {
                for known in &self.credentials.tokens {
                    if self.checker.matches(&known.hash, &token) {
                        if known.expires_ms.is_some_and(|at| now_ms >= at) {
                            return Verdict::Expired;
                        }
                        return Verdict::Allowed(Principal { name: known.name.clone(), roles: known.roles });
                    }
                }
                Verdict::Invalid
            }
        }
    }
}

fn presented(headers: &HeaderMap) -> Option<Presented> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        return Some(Presented::Basic { user: user.to_owned(), password: password.to_owned() });
    }
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Some(Presented::Bearer(rest.to_owned()));
    }
    None
}

#[cfg(test)]
mod tests;
