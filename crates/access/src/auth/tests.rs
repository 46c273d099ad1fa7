//! Tests of roles, tokens and the authenticator.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use ring::digest;

use super::*;

/// The bcrypt cost of hashes made in tests: the lowest, so tests stay fast.
const COST: u32 = 4;

fn basic(user: &str, password: &str) -> HeaderMap {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    header(&format!("Basic {encoded}"))
}

fn header(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("header"));
    headers
}

fn sha256_hex(text: &str) -> String {
    digest::digest(&digest::SHA256, text.as_bytes()).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn web_users() -> BTreeMap<String, Secret> {
    BTreeMap::from([
        ("alice".to_owned(), Secret::new(bcrypt::hash("wonderland", COST).expect("hash"))),
        ("bob".to_owned(), Secret::new(bcrypt::hash("builder", COST).expect("hash"))),
    ])
}

fn config(toml_users: &[(&str, &[&str])], tokens: Vec<TokenConfig>) -> AuthConfig {
    AuthConfig {
        users: toml_users
            .iter()
            .map(|(user, roles)| ((*user).to_owned(), roles.iter().map(|r| (*r).to_owned()).collect()))
            .collect(),
        tokens,
        ..AuthConfig::default()
    }
}

fn token(name: &str, hash: String, roles: &[&str], expires: Option<&str>) -> TokenConfig {
    TokenConfig {
        name: name.into(),
        hash: Secret::new(hash),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        expires: expires.map(str::to_owned),
    }
}

fn roles(list: &[Role]) -> Roles {
    list.iter().copied().collect()
}

#[test]
fn the_decoy_hash_is_a_bcrypt_hash_of_the_usual_cost() {
    let parts: bcrypt::HashParts = DECOY_HASH.parse().expect("a bcrypt hash");
    assert_eq!(parts.get_cost(), crate::BCRYPT_COST);
}

#[test]
fn users_and_tokens_authenticate_with_their_roles() {
    let tokens = vec![
        token("grafana", format!("sha256:{}", sha256_hex("grafana-secret")), &["metrics"], None),
        token("ci", bcrypt::hash("ci-secret", COST).expect("hash"), &["ingest", "admin"], None),
        token("old", format!("sha256:{}", sha256_hex("old-secret")), &["metrics"], Some("2020-01-01T00:00:00Z")),
    ];
    let credentials = config(&[("alice", &["metrics", "exchanges"])], tokens).validate(&web_users()).expect("valid");
    let auth = Authenticator::new(credentials);
    let now = chrono::DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z").expect("time").timestamp_millis();
    let allowed = |name: &str, list: &[Role]| Verdict::Allowed(Principal { name: name.into(), roles: roles(list) });

    assert_eq!(
        auth.authenticate(&basic("alice", "wonderland"), now),
        allowed("alice", &[Role::Metrics, Role::Exchanges])
    );
    // A user without roles in [auth.users] may read metrics only.
    assert_eq!(auth.authenticate(&basic("bob", "builder"), now), allowed("bob", &[Role::Metrics]));
    assert_eq!(auth.authenticate(&basic("alice", "wrong"), now), Verdict::Invalid);
    // Twice, from the cache: the same verdict.
    assert_eq!(auth.authenticate(&basic("alice", "wrong"), now), Verdict::Invalid);
    assert_eq!(auth.authenticate(&basic("mallory", "wonderland"), now), Verdict::Invalid);
    assert_eq!(auth.authenticate(&header("Bearer grafana-secret"), now), allowed("grafana", &[Role::Metrics]));
    assert_eq!(auth.authenticate(&header("bearer ci-secret"), now), allowed("ci", &[Role::Ingest, Role::Admin]));
    assert_eq!(auth.authenticate(&header("Bearer old-secret"), now), Verdict::Expired);
    assert_eq!(auth.authenticate(&header("Bearer unknown"), now), Verdict::Invalid);
    assert_eq!(auth.authenticate(&HeaderMap::new(), now), Verdict::Missing);
    assert_eq!(auth.authenticate(&header("Digest abc"), now), Verdict::Missing);
    assert_eq!(auth.authenticate(&header("Basic !!!"), now), Verdict::Missing);
}

#[test]
fn every_mistake_in_auth_names_its_key() {
    let tokens = vec![
        token("", "sha256:00".into(), &[], None),
        token("a", "plain-text-token".into(), &["metric"], Some("tomorrow")),
        token("a", format!("sha256:{}", sha256_hex("x")), &["admin"], None),
    ];
    let problems =
        config(&[("alice", &["root"]), ("carol", &["metrics"])], tokens).validate(&web_users()).expect_err("invalid");
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "auth.users.alice[0]: \"root\" is not a role; one of \"metrics\", \"exchanges\", \"ingest\", \"admin\"",
        "auth.users.carol: is not a user of basic_auth_users",
        "auth.token[0].name: must not be empty",
        "auth.token[0].roles: must name at least one role",
        "auth.token[0].hash: \"sha256:\" must be followed by 64 hex digits",
        "auth.token[1].roles[0]: \"metric\" is not a role",
        "auth.token[1].hash: is neither",
        "auth.token[1].expires: \"tomorrow\" is not an RFC 3339 time",
        "auth.token[2].name: \"a\" names two tokens",
    ] {
        assert!(got.iter().any(|p| p.starts_with(expected)), "{expected}\nin {got:#?}");
    }
    let no_web = config(&[("alice", &["metrics"])], vec![]).validate(&BTreeMap::new()).expect_err("invalid");
    assert_eq!(no_web[0].to_string(), "auth.users.alice: has roles but [server] web_config has no basic_auth_users");
}

#[test]
fn users_one_by_one_give_roles_to_web_users_or_bring_their_own_password() {
    let user = |name: &str, password_hash: Option<String>, roles: &[&str]| UserConfig {
        name: name.into(),
        password_hash: password_hash.map(Secret::new),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let auth = AuthConfig {
        user_list: vec![
            user("alice", None, &["metrics", "exchanges"]),
            user("ci", Some(bcrypt::hash("ci-password", COST).expect("hash")), &["admin"]),
        ],
        ..AuthConfig::default()
    };
    let auth = Authenticator::new(auth.validate(&web_users()).expect("valid"));
    let allowed = |name: &str, list: &[Role]| Verdict::Allowed(Principal { name: name.into(), roles: roles(list) });
    assert_eq!(
        auth.authenticate(&basic("alice", "wonderland"), 0),
        allowed("alice", &[Role::Metrics, Role::Exchanges])
    );
    assert_eq!(auth.authenticate(&basic("bob", "builder"), 0), allowed("bob", &[Role::Metrics]));
    assert_eq!(auth.authenticate(&basic("ci", "ci-password"), 0), allowed("ci", &[Role::Admin]));
    assert_eq!(auth.authenticate(&basic("ci", "wrong"), 0), Verdict::Invalid);

    let wrong = AuthConfig {
        users: BTreeMap::from([("alice".to_owned(), vec!["metrics".to_owned()])]),
        user_list: vec![
            user("alice", None, &["admin"]),
            user("dave", None, &["metrics"]),
            user("erin", Some("plain".into()), &[]),
            user("bob", Some(bcrypt::hash("other", COST).expect("hash")), &["metrics"]),
        ],
        ..AuthConfig::default()
    };
    let problems: Vec<String> =
        wrong.validate(&web_users()).expect_err("invalid").iter().map(ToString::to_string).collect();
    for expected in [
        "auth.user[0].name: \"alice\" is also given by auth.users.alice",
        "auth.user[1].name: \"dave\" has no password: set password_hash",
        "auth.user[2].roles: must name at least one role",
        "auth.user[2].password_hash: is not a bcrypt hash",
        "auth.user[3].password_hash: \"bob\" has a password in basic_auth_users",
    ] {
        assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected}\nin {problems:#?}");
    }
}

#[test]
fn nothing_configured_means_authentication_is_off() {
    let credentials = AuthConfig::default().validate(&BTreeMap::new()).expect("valid");
    assert!(!credentials.is_enabled());
}

#[test]
fn debug_output_shows_no_hash() {
    let hash = format!("sha256:{}", sha256_hex("grafana-secret"));
    let credentials =
        config(&[], vec![token("grafana", hash.clone(), &["metrics"], None)]).validate(&web_users()).expect("valid");
    let shown = format!("{:?}", Authenticator::new(credentials));
    assert!(!shown.contains(&hash[7..]) && !shown.contains("$2b$"), "{shown}");
}
