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
    let settings = config.validate(&[]).expect("valid");
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
    let Err(Error::Config { problems }) = config.validate(&[]) else { panic!("invalid config accepted") };
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

const SHA_A: &str = "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
const SHA_B: &str = "sha256:81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9";

fn price(model: &str) -> TokenPrice {
    TokenPrice { model: model.into(), input_per_token: 1e-6, output_per_token: 2e-6 }
}

#[test]
fn keys_come_with_their_models_and_limits() {
    let config = parse(&format!(
        r#"
        [[gateway.upstream]]
        name = "a"
        url = "http://10.0.0.5:8000/v1"
        [[gateway.key]]
        name = "team-a"
        hash = "{SHA_A}"
        models = ["gpt-4o", "llama-*"]
        requests_per_minute = 60
        tokens_per_minute = 100000
        daily_budget_tokens = 2000000
        [[gateway.key]]
        name = "team-b"
        hash = "{SHA_B}"
        models = ["gpt-4o"]
        daily_budget_dollars = 12.5
        "#
    ));
    let settings = config.validate(&[price("gpt-4o")]).expect("valid");
    assert!(settings.checks_keys());
    let [a, b] = &settings.keys[..] else { panic!("two keys: {:?}", settings.keys) };
    assert_eq!((a.name.as_str(), b.name.as_str()), ("team-a", "team-b"));
    assert!(a.models[1].matches("llama-3") && !a.models[1].matches("gpt-4o-mini"));
    assert_eq!(
        a.limits,
        Limits {
            requests_per_minute: Some(60),
            tokens_per_minute: Some(100_000),
            daily_tokens: Some(2_000_000),
            daily_dollars: None
        }
    );
    assert_eq!(b.limits.daily_dollars, Some(12.5));
    assert_eq!(settings.prices, [price("gpt-4o")]);
    assert!(!format!("{settings:?}").contains("2bb80d53"), "hashes stay out of Debug output");
}

#[test]
fn every_key_problem_names_its_key_path() {
    let config = parse(&format!(
        r#"
        [[gateway.upstream]]
        name = "a"
        url = "http://10.0.0.5:8000/v1"
        [[gateway.key]]
        name = ""
        hash = "sk-plain"
        requests_per_minute = 0
        [[gateway.key]]
        name = "team-b"
        hash = "{SHA_B}"
        models = ["gpt-4o", "llama-*", "unpriced", ""]
        daily_budget_dollars = 10.0
        [[gateway.key]]
        name = "team-b"
        hash = "{SHA_B}"
        daily_budget_dollars = -1.0
        daily_budget_tokens = 0
        "#
    ));
    let Err(Error::Config { problems }) = config.validate(&[price("gpt-4o")]) else {
        panic!("invalid config accepted")
    };
    let found: Vec<String> = problems.0.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
    let expected = [
        "gateway.key[0].name: must not be empty: it names the key in labels and exchanges",
        "gateway.key[0].key_hash: is neither \"sha256:<64 hex digits>\" (`printf %s TOKEN | sha256sum`) nor a bcrypt hash (`infersight hash-password`)",
        "gateway.key[0].requests_per_minute: must be at least 1; leave it out for no limit",
        "gateway.key[1].models[3]: must not be empty",
        "gateway.key[1].models[1]: \"llama-*\" is a glob; daily_budget_dollars needs exact model names, each priced in [[cost.model]]",
        "gateway.key[1].models[2]: \"unpriced\" has no price in [[cost.model]], which daily_budget_dollars needs",
        "gateway.key[2].name: \"team-b\" is the name of an earlier key",
        "gateway.key[2].key_hash: is the hash of gateway.key[1] too: each key needs its own",
        "gateway.key[2].daily_budget_tokens: must be at least 1; leave it out for no limit",
        "gateway.key[2].daily_budget_dollars: -1 is not a budget: write dollars, more than 0",
        "gateway.key[2].models: must name the key's models when daily_budget_dollars is set, each with a price in [[cost.model]]",
    ];
    assert_eq!(found, expected);
    assert!(!problems.to_string().contains("sk-plain"), "the written hash is never echoed");
}
