//! A guarded router served over TLS on loopback, with certificates made in
//! the test: handshakes, client certificates, basic auth and tokens, roles,
//! headers, and certificates reloaded when their files change; and over
//! plain TCP, the limits and origin rules ([`limits`]).

mod limits;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use access::{AuthConfig, Certificates, Guard, Limits, Listener, Metrics, TokenConfig, WebSettings};
use axum::Router;
use axum::routing::get;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use tokio_util::sync::CancellationToken;

/// The bcrypt cost of the test's password hashes: the lowest, so tests stay fast.
const COST: u32 = 4;

/// A CA with a server certificate for `localhost` and a client certificate,
/// written as PEM files into a folder.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki { dir: tempfile::tempdir().expect("tempdir") };
        pki.issue("");
        pki
    }

    /// Makes a CA and the certificates it signs, in files named with `prefix`
    /// (the server's always as `server.pem` and `server-key.pem`).
    fn issue(&self, prefix: &str) {
        let mut ca_params = CertificateParams::new(Vec::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, format!("infersight test CA {prefix}"));
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
        let write = |name: &str, text: String| std::fs::write(self.dir.path().join(name), text).expect("write");
        write(&format!("{prefix}ca.pem"), ca.pem());

        let server_key = KeyPair::generate().expect("key");
        let mut server = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server.signed_by(&server_key, &ca).expect("server certificate");
        // Written to a new file and renamed, as cert-manager and certbot do.
        write("server.pem.tmp", server.pem());
        write("server-key.pem.tmp", server_key.serialize_pem());
        std::fs::rename(self.path("server-key.pem.tmp"), self.path("server-key.pem")).expect("rename");
        std::fs::rename(self.path("server.pem.tmp"), self.path("server.pem")).expect("rename");

        let client_key = KeyPair::generate().expect("key");
        let mut client = CertificateParams::new(vec!["prometheus.example".to_owned()]).expect("params");
        client.distinguished_name.push(DnType::CommonName, "prometheus");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client.signed_by(&client_key, &ca).expect("client certificate");
        write(&format!("{prefix}client.pem"), format!("{}{}", client.pem(), client_key.serialize_pem()));
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read")
    }

    fn web_config(&self, extra_tls: &str, rest: &str) -> WebSettings {
        let yaml =
            format!("tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n{extra_tls}{rest}");
        std::fs::write(self.path("web.yml"), yaml).expect("write");
        access::web_config::load(&self.path("web.yml")).expect("valid web config")
    }

    fn client(&self, ca: &str, identity: Option<&str>, addr: SocketAddr) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&self.read(ca)).expect("CA"))
            .resolve("localhost", addr);
        if let Some(identity) = identity {
            builder = builder.identity(reqwest::Identity::from_pem(&self.read(identity)).expect("identity"));
        }
        builder.build().expect("client")
    }
}

fn app() -> Router {
    Router::new()
        .route("/api/v1/query", get(|| async { "metrics" }))
        .route("/api/v1/infersight/exchanges", get(|| async { "exchanges" }))
        .route(
            "/whoami",
            get(|principal: Option<axum::Extension<access::Principal>>| async move {
                principal.map_or_else(|| "nobody".to_owned(), |p| p.0.name)
            }),
        )
        .route("/-/healthy", get(|| async { "ok" }))
}

/// Serves `app()` guarded by `web` and `auth` over TLS; returns the
/// address and the token that stops it.
async fn serve(web: &WebSettings, auth: AuthConfig) -> (SocketAddr, CancellationToken) {
    let metrics = Metrics::default();
    let credentials = auth.validate(&web.users).expect("valid auth");
    let guard = Arc::new(Guard::new(web, credentials, metrics.clone(), Arc::new(|| 1_750_000_000_000)));
    let certificates = web.tls.clone().map(|tls| Arc::new(Certificates::new(tls, metrics.clone()).expect("tls")));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let listener = Listener::new("api", tcp, certificates, Limits::default(), metrics);
    let addr = listener.local_addr().expect("address");
    let stop = CancellationToken::new();
    tokio::spawn(access::serve(listener, guard.protect(app()), stop.clone()));
    (addr, stop)
}

fn users(pairs: &[(&str, &str)]) -> String {
    let mut yaml = String::from("basic_auth_users:\n");
    for (user, password) in pairs {
        yaml.push_str(&format!("  {user}: {}\n", bcrypt::hash(password, COST).expect("hash")));
    }
    yaml
}

fn roles(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(user, roles)| ((*user).to_owned(), roles.iter().map(|r| (*r).to_owned()).collect())).collect()
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.expect("response").status().as_u16()
}

#[tokio::test]
async fn tls_serves_the_configured_certificate_and_headers() {
    let pki = Pki::new();
    let web = pki.web_config(
        "",
        "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n    X-Frame-Options: deny\n",
    );
    let (addr, stop) = serve(&web, AuthConfig::default()).await;
    let client = pki.client("ca.pem", None, addr);
    let response = client.get(format!("https://localhost:{}/api/v1/query", addr.port())).send().await.expect("TLS");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(response.headers()["x-frame-options"], "deny");
    assert_eq!(response.text().await.expect("body"), "metrics");
    let anonymous = client.get(format!("https://localhost:{}/whoami", addr.port())).send().await.expect("TLS");
    assert_eq!(anonymous.text().await.expect("body"), "anonymous", "no auth configured: everyone is anonymous");

    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{}/api/v1/query", addr.port())).send().await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() == 400), "plain HTTP is not served");
    stop.cancel();
}

#[tokio::test]
async fn basic_auth_and_tokens_need_the_right_password_and_role() {
    let pki = Pki::new();
    let web = pki.web_config("", &users(&[("alice", "wonderland"), ("bob", "builder")]));
    let token_hash = bcrypt::hash("grafana-token", COST).expect("hash");
    let auth = AuthConfig {
        users: roles(&[("alice", &["metrics", "exchanges"])]),
        tokens: vec![TokenConfig {
            name: "grafana".into(),
            hash: access::Secret::new(token_hash),
            roles: vec!["metrics".into()],
            expires: None,
        }],
        ..AuthConfig::default()
    };
    let (addr, stop) = serve(&web, auth).await;
    let client = pki.client("ca.pem", None, addr);
    let url = |path: &str| format!("https://localhost:{}{path}", addr.port());

    let missing = client.get(url("/api/v1/query")).send().await.expect("response");
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["www-authenticate"], "Basic realm=\"infersight\"");
    assert_eq!(status(client.get(url("/api/v1/query")).basic_auth("alice", Some("wrong"))).await, 401);
    assert_eq!(status(client.get(url("/api/v1/query")).basic_auth("mallory", Some("wonderland"))).await, 401);
    assert_eq!(status(client.get(url("/api/v1/query")).basic_auth("alice", Some("wonderland"))).await, 200);
    assert_eq!(
        status(client.get(url("/api/v1/infersight/exchanges")).basic_auth("alice", Some("wonderland"))).await,
        200
    );
    // bob has the default role, metrics: no exchange text.
    assert_eq!(status(client.get(url("/api/v1/query")).basic_auth("bob", Some("builder"))).await, 200);
    let forbidden = client.get(url("/api/v1/infersight/exchanges")).basic_auth("bob", Some("builder")).send().await;
    let forbidden = forbidden.expect("response");
    assert_eq!(forbidden.status(), 403);
    assert_eq!(forbidden.text().await.expect("body"), "\"bob\" lacks the \"exchanges\" role this endpoint needs\n");
    assert_eq!(status(client.get(url("/api/v1/query")).bearer_auth("grafana-token")).await, 200);
    assert_eq!(status(client.get(url("/api/v1/query")).bearer_auth("guessed")).await, 401);
    assert_eq!(status(client.get(url("/api/v1/infersight/exchanges")).bearer_auth("grafana-token")).await, 403);
    let whoami = client.get(url("/whoami")).bearer_auth("grafana-token").send().await.expect("response");
    assert_eq!(whoami.text().await.expect("body"), "grafana");
    // Health and readiness stay open, for load balancers and kubelets.
    assert_eq!(status(client.get(url("/-/healthy"))).await, 200);
    stop.cancel();
}

#[tokio::test]
async fn a_client_without_a_required_certificate_is_refused_at_the_handshake() {
    let pki = Pki::new();
    let web = pki.web_config("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n", "");
    let (addr, stop) = serve(&web, AuthConfig::default()).await;
    let url = format!("https://localhost:{}/api/v1/query", addr.port());

    let without = pki.client("ca.pem", None, addr).get(&url).send().await;
    assert!(without.is_err(), "no client certificate: {without:?}");
    let with = pki.client("ca.pem", Some("client.pem"), addr).get(&url).send().await.expect("mutual TLS");
    assert_eq!(with.status(), 200);

    // A certificate from another CA is refused too.
    pki.issue("other-");
    let foreign = pki.client("ca.pem", Some("other-client.pem"), addr).get(&url).send().await;
    assert!(foreign.is_err(), "a client certificate of another CA: {foreign:?}");
    stop.cancel();
}

#[tokio::test]
async fn a_client_certificate_must_name_an_allowed_san_when_sans_are_listed() {
    let pki = Pki::new();
    let verified = "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n";
    let allowed =
        pki.web_config(&format!("{verified}  client_allowed_sans: [grafana.example, prometheus.example]\n"), "");
    let (addr, stop) = serve(&allowed, AuthConfig::default()).await;
    let url = format!("https://localhost:{}/api/v1/query", addr.port());
    let named = pki.client("ca.pem", Some("client.pem"), addr).get(&url).send().await.expect("an allowed SAN");
    assert_eq!(named.status(), 200);
    stop.cancel();

    // The same certificate, from the same CA, names none of these.
    let others = pki.web_config(&format!("{verified}  client_allowed_sans: [grafana.example, 10.0.0.7]\n"), "");
    let (addr, stop) = serve(&others, AuthConfig::default()).await;
    let url = format!("https://localhost:{}/api/v1/query", addr.port());
    let unnamed = pki.client("ca.pem", Some("client.pem"), addr).get(&url).send().await;
    assert!(unnamed.is_err(), "a certificate without an allowed SAN: {unnamed:?}");
    stop.cancel();
}

#[tokio::test]
async fn renewed_certificates_are_served_from_the_next_connection() {
    let pki = Pki::new();
    let web = pki.web_config("", "");
    let (addr, stop) = serve(&web, AuthConfig::default()).await;
    let url = format!("https://localhost:{}/api/v1/query", addr.port());
    assert_eq!(status(pki.client("ca.pem", None, addr).get(&url)).await, 200);

    // A new CA signs the new server certificate: only a client trusting it connects.
    pki.issue("renewed-");
    let renewed = pki.client("renewed-ca.pem", None, addr).get(&url).send().await.expect("the renewed certificate");
    assert_eq!(renewed.status(), 200);
    let stale = pki.client("ca.pem", None, addr).get(&url).send().await;
    assert!(stale.is_err(), "the old certificate is no longer served");

    // A broken renewal keeps the last good certificate in service.
    std::fs::write(pki.path("server.pem"), "not a certificate").expect("write");
    let kept = pki.client("renewed-ca.pem", None, addr).get(&url).send().await.expect("the last good certificate");
    assert_eq!(kept.status(), 200);
    stop.cancel();
}

#[test]
fn paths_in_the_web_config_are_relative_to_its_folder() {
    let pki = Pki::new();
    let web = pki.web_config("", "");
    let tls = web.tls.expect("tls");
    assert_eq!(tls.cert, access::Source::File(pki.path("server.pem")));
    assert!(Path::new(&pki.path("web.yml")).exists());
}
