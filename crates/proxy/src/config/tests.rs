//! What the `[gateway]` section accepts and how it reports mistakes.

use super::*;

fn parse(toml_text: &str) -> GatewayConfig {
    #[derive(Deserialize)]
    struct File {
        gateway: GatewayConfig,
    }
    toml::from_str::<File>(toml_text).expect("valid TOML").gateway
}

#[test]
fn a_minimal_section_gets_the_documented_defaults() {
    let config = parse("[gateway]\n[[gateway.upstream]]\nname = \"a\"\nurl = \"http://10.0.0.5:8000/v1/\"\n");
    assert!(config.is_enabled());
    let settings = config.validate().expect("valid");
    assert_eq!(settings.listen, "127.0.0.1:8491".parse().expect("address"));
    assert_eq!(settings.max_body, 16 << 20);
    assert_eq!(settings.model_label_cap, 100);
    let upstream = &settings.upstreams[0];
    assert_eq!(upstream.base_url, "http://10.0.0.5:8000/v1");
    assert_eq!(upstream.server_address, "10.0.0.5:8000");
    assert_eq!(upstream.provider, "openai");
    assert_eq!(upstream.connect_timeout, Duration::from_secs(5));
    assert_eq!(upstream.timeout, Duration::from_secs(60));
    assert!(upstream.models[0].matches("anything"));
}

#[test]
fn server_address_gets_the_default_port_of_its_scheme() {
    assert_eq!(server_address("https://api.openai.com/v1"), Ok("api.openai.com:443".into()));
    assert_eq!(server_address("http://[::1]/v1"), Ok("[::1]:80".into()));
    assert_eq!(server_address("http://[::1]:9000"), Ok("[::1]:9000".into()));
    assert!(server_address("ftp://x/v1").is_err());
    assert!(server_address("http:///v1").is_err());
}

#[test]
fn every_problem_is_reported_with_its_key_path() {
    let config = parse(
        r#"
        [gateway]
        listen = "nowhere"
        max_body = "16 parsecs"
        model_label_cap = 0
        [[gateway.upstream]]
        name = "a"
        url = "10.0.0.5:8000"
        models = []
        timeout = "soon"
        [[gateway.upstream]]
        name = "a"
        url = "http://b/v1"
        "#,
    );
    let Err(Error::Config { problems }) = config.validate() else { panic!("invalid config accepted") };
    let keys: Vec<&str> = problems.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "gateway.listen",
            "gateway.max_body",
            "gateway.model_label_cap",
            "gateway.upstream[0].url",
            "gateway.upstream[0].models",
            "gateway.upstream[0].timeout",
            "gateway.upstream[1].name",
        ]
    );
}

#[test]
fn unknown_keys_are_refused_and_secrets_are_redacted() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only parsed")]
    struct File {
        gateway: GatewayConfig,
    }
    assert!(toml::from_str::<File>("[gateway]\nlisten_on = \"x\"\n").is_err());
    let config = parse("[gateway]\napi_keys = [\"sk-secret\"]\n");
    assert!(!format!("{config:?}").contains("sk-secret"));
}
