//! Tests of web.config.yml parsing and checking.

use std::path::Path;

use super::*;

/// A folder with a self-signed certificate and its key, as `cert.pem` and `key.pem`.
fn certificates() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    std::fs::write(dir.path().join("cert.pem"), made.cert.pem()).expect("write");
    std::fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem()).expect("write");
    std::fs::write(dir.path().join("ca.pem"), made.cert.pem()).expect("write");
    dir
}

fn validate(yaml: &str, dir: &Path) -> Result<WebSettings, Vec<String>> {
    parse(yaml)
        .and_then(|file| file.validate(dir))
        .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

/// `yaml` is rejected with each of `expected` (a prefix of a problem).
#[track_caller]
fn check_problems(yaml: &str, expected: &[&str]) {
    let dir = certificates();
    let got = validate(yaml, dir.path()).expect_err("invalid");
    for expected in expected {
        assert!(got.iter().any(|p| p.starts_with(expected)), "{expected}\nin {got:#?}");
    }
}

const TLS: &str = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n";

#[test]
fn an_empty_file_serves_plain_http_without_auth() {
    let dir = certificates();
    for yaml in ["", "# nothing\n", "tls_server_config:\nhttp_server_config:\n"] {
        let settings = validate(yaml, dir.path()).expect("valid");
        assert!(settings.tls.is_none() && settings.users.is_empty() && settings.headers.is_empty(), "{yaml:?}");
    }
}

#[test]
fn prometheus_files_load_unchanged() {
    let dir = certificates();
    let yaml = format!(
        "{TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  min_version: TLS12\n  \
         max_version: TLS13\n  cipher_suites:\n    - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n    - \
         TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305\n  prefer_server_cipher_suites: false\n  curve_preferences: [X25519, \
         CurveP256]\nhttp_server_config:\n  http2: false\n  headers:\n    Strict-Transport-Security: max-age=31536000\n    \
         X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n    X-XSS-Protection: '1; mode=block'\n    \
         Content-Security-Policy: \"default-src 'self'\"\nbasic_auth_users:\n  alice: \
         $2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG\nrate_limit:\n  interval: 100ms\n  burst: 5\n"
    );
    let settings = validate(&yaml, dir.path()).expect("valid");
    let tls = settings.tls.expect("tls");
    assert_eq!(tls.client_auth, tls::ClientAuth::RequireAndVerify);
    assert_eq!(tls.cert, tls::Source::File(dir.path().join("cert.pem")));
    assert_eq!(tls.versions.len(), 2);
    assert_eq!(tls.cipher_suites.len(), 2);
    assert_eq!(tls.kx_groups.len(), 2);
    assert!(!tls.prefer_server_cipher_suites);
    assert_eq!(settings.headers.len(), 5);
    assert_eq!(settings.users.len(), 1);
    assert_eq!(settings.rate_limit, Some(RateLimit { interval: Duration::from_millis(100), burst: 5 }));
}

#[test]
fn inline_certificates_load() {
    let dir = certificates();
    let indent = |path: &str| {
        std::fs::read_to_string(dir.path().join(path))
            .expect("read")
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let yaml = format!("tls_server_config:\n  cert: |\n{}  key: |\n{}", indent("cert.pem"), indent("key.pem"));
    let settings = validate(&yaml, Path::new("/nonexistent")).expect("valid");
    assert!(matches!(settings.tls.expect("tls").cert, tls::Source::Inline(_)));
}

#[test]
fn allowed_client_sans_are_dns_names_or_ip_addresses_of_verified_certificates() {
    check_problems(
        &format!(
            "{TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  \
             client_allowed_sans: [prometheus.example, 10.0.0.7, ops@example.com, spiffe://example/prom, \"not a name\"]\n"
        ),
        &[
            "tls_server_config.client_allowed_sans[2]: \"ops@example.com\" is an e-mail address or a URI",
            "tls_server_config.client_allowed_sans[3]: \"spiffe://example/prom\" is an e-mail address or a URI",
            "tls_server_config.client_allowed_sans[4]: \"not a name\" is neither a DNS name nor an IP address",
        ],
    );
    let yaml = format!(
        "{TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  \
         client_allowed_sans: [prometheus.example, 10.0.0.7]\n"
    );
    let settings = validate(&yaml, certificates().path()).expect("valid");
    assert_eq!(settings.tls.expect("tls").allowed_sans.len(), 2);
}

#[test]
fn every_value_rustls_cannot_honour_is_a_precise_problem() {
    check_problems(
        &format!(
            "{TLS}  min_version: TLS10\n  max_version: TLS14\n  client_auth_type: RequireClientCertPlease\n  \
             cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_MADE_UP]\n  curve_preferences: [CurveP521, Ed448]\n  \
             client_allowed_sans: [client.example]\n"
        ),
        &[
            "tls_server_config.min_version: \"TLS10\" is not supported by rustls; use \"TLS12\" or \"TLS13\"",
            "tls_server_config.max_version: \"TLS14\" is not a TLS version",
            "tls_server_config.client_auth_type: \"RequireClientCertPlease\" is not a client auth type",
            "tls_server_config.cipher_suites[0]: \"TLS_RSA_WITH_AES_128_CBC_SHA\" is not supported by rustls",
            "tls_server_config.cipher_suites[1]: \"TLS_MADE_UP\" is not a cipher suite",
            "tls_server_config.curve_preferences[0]: \"CurveP521\" is not supported by rustls's ring provider",
            "tls_server_config.curve_preferences[1]: \"Ed448\" is not a curve",
            "tls_server_config.client_allowed_sans: needs verified client certificates",
        ],
    );
    check_problems(
        &format!("{TLS}  min_version: TLS13\n  max_version: TLS12\n"),
        &["tls_server_config.min_version: \"TLS13\" is above max_version \"TLS12\""],
    );
    check_problems(
        &format!("{TLS}  client_auth_type: RequireAndVerifyClientCert\n"),
        &["tls_server_config.client_ca_file: \"RequireAndVerifyClientCert\" needs client_ca_file"],
    );
    check_problems(
        &format!("{TLS}  client_ca_file: ca.pem\n"),
        &["tls_server_config.client_auth_type: client_ca_file is set without a client auth type"],
    );
    check_problems("tls_server_config:\n  key_file: key.pem\n", &["tls_server_config.cert_file: is required for TLS"]);
    check_problems("tls_server_config:\n  cert_file: cert.pem\n", &["tls_server_config.key_file: is required for TLS"]);
    check_problems(
        "tls_server_config:\n  cert_file: missing.pem\n  key_file: key.pem\n",
        &["tls_server_config: cannot read"],
    );
    check_problems("tls_server_config:\n  cert_file: key.pem\n  key_file: key.pem\n", &["tls_server_config: "]);
}

#[test]
fn headers_users_and_limits_are_checked_as_exporter_toolkit_checks_them() {
    check_problems(
        "http_server_config:\n  headers:\n    X-Frame-Options: allow\n    Server: infersight\n",
        &[
            "http_server_config.headers.X-Frame-Options: \"allow\" is not accepted; one of [\"deny\", \"sameorigin\"]",
            "http_server_config.headers.Server: this header cannot be configured",
        ],
    );
    check_problems("basic_auth_users:\n  alice: wonderland\n", &["basic_auth_users.alice: is not a bcrypt hash"]);
    check_problems("rate_limit:\n  interval: soon\n", &["rate_limit.interval: \"soon\" is not a duration"]);
    check_problems(
        "tls_server_config:\n  certfile: cert.pem\n",
        &["line 2: tls_server_config: unknown field `certfile`"],
    );
}

#[test]
fn problems_never_show_a_password_hash_or_inline_key() {
    let dir = certificates();
    let key = std::fs::read_to_string(dir.path().join("key.pem")).expect("read");
    let indented: String = key.lines().map(|l| format!("    {l}\n")).collect();
    let yaml =
        format!("tls_server_config:\n  key: |\n{indented}  min_version: TLS10\nbasic_auth_users:\n  alice: hunter2\n");
    let got = validate(&yaml, dir.path()).expect_err("invalid").join("\n");
    assert!(!got.contains("hunter2") && !got.contains("PRIVATE KEY"), "{got}");
}
