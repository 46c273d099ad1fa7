//! `[[gateway.key]]` end to end: who gets in, which models a key may use,
//! its limits per minute and per UTC day on the gateway's clock, and the
//! key's name (never the key) on metrics and exchanges.

use proxy::KeyConfig;

use super::*;

/// The keys the tests' clients send, and their SHA-256 (`printf %s KEY | sha256sum`).
const KEY_A: &str = "sk-team-a";
const SHA_A: &str = "sha256:8879f6a4ae35c420a15d35fed3b8dd07577207803d404f6d4cc4fa829dafa910";
const KEY_B: &str = "sk-team-b";
const SHA_B: &str = "sha256:292d075b18c9240a48b848c521422c5f418f7dd16b5c66755fe58d0fb6a43e1f";

/// Tokens of each chat through the fake: "hello there" is 2 input tokens, the answer 5 output tokens.
const TOKENS_PER_CHAT: u64 = 7;

fn key(name: &str, hash: &str) -> KeyConfig {
    KeyConfig {
        name: name.into(),
        hash: Secret::new(hash),
        models: Vec::new(),
        requests_per_minute: None,
        tokens_per_minute: None,
        daily_tokens: None,
        daily_dollars: None,
    }
}

async fn keyed(fake: &FakeUpstream, keys: Vec<KeyConfig>) -> Harness {
    start(GatewayConfig { keys, ..config(vec![upstream("a", &fake.url(), &["*"])]) }).await
}

impl Harness {
    async fn chat_as(&self, key: &str, model: &str) -> Reply {
        let body = chat(model, false).to_string().into_bytes();
        self.post_raw("/chat/completions", body, Some(&format!("Bearer {key}"))).await
    }

    /// A chat that must succeed, and its exchange's tokens (the gateway
    /// has charged the key once the exchange is out).
    async fn spend_as(&mut self, key: &str) -> u64 {
        let reply = self.chat_as(key, "m").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let usage = self.exchange().await.usage.expect("the fake reports usage");
        usage.input_tokens + usage.output_tokens
    }
}

impl Reply {
    /// Checks a 429 in OpenAI's shape with `Retry-After`, and returns its seconds.
    fn over_limit(&self, error_type: &str, code: &str) -> u64 {
        assert_eq!(self.status, 429, "{}", self.text());
        let error = self.openai_error();
        assert_eq!((error["type"].as_str(), error["code"].as_str()), (Some(error_type), Some(code)), "{error}");
        let retry_after = self.headers["retry-after"].to_str().expect("ASCII");
        retry_after.parse().expect("whole seconds")
    }
}

#[tokio::test]
async fn a_key_over_its_requests_per_minute_gets_429_with_retry_after_before_anything_goes_upstream() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway = keyed(&fake, vec![KeyConfig { requests_per_minute: Some(2), ..key("team-a", SHA_A) }]).await;
    gateway.spend_as(KEY_A).await;
    gateway.advance(Duration::from_secs(20));
    gateway.spend_as(KEY_A).await;
    let refused = gateway.chat_as(KEY_A, "m").await;
    assert_eq!(refused.over_limit("rate_limit_exceeded", "requests_per_minute"), 40);
    assert!(refused.openai_error()["message"].as_str().is_some_and(|m| m.contains("2 requests per minute")));
    assert!(refused.headers.contains_key(inference::EXCHANGE_ID_HEADER));
    assert_eq!(fake.requests().len(), 2, "the refused request never reached the upstream");
    gateway.advance(Duration::from_secs(40));
    gateway.spend_as(KEY_A).await;
    gateway.assert_metric(
        r#"infersight_gateway_requests_rejected_total{infersight_gateway_key="team-a",reason="requests_per_minute"} 1"#,
    );
    gateway.assert_metric(
        r#"infersight_gateway_requests_total{gen_ai_request_model="m",status_class="4xx",infersight_gateway_key="team-a"} 1"#,
    );
}

#[tokio::test]
async fn a_key_over_its_token_limit_gets_429_with_retry_after_once_the_usage_is_counted() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let limited = KeyConfig { tokens_per_minute: Some(10), ..key("team-a", SHA_A) };
    let mut gateway = keyed(&fake, vec![limited, key("team-b", SHA_B)]).await;
    assert_eq!(gateway.spend_as(KEY_A).await, TOKENS_PER_CHAT);
    gateway.advance(Duration::from_secs(15));
    // 7 of 10 tokens: the next request may go, and takes the minute's tokens to 14.
    gateway.spend_as(KEY_A).await;
    let refused = gateway.chat_as(KEY_A, "m").await;
    assert_eq!(refused.over_limit("rate_limit_exceeded", "tokens_per_minute"), 45, "until the first 7 tokens leave");
    // Another key's spend is its own.
    gateway.spend_as(KEY_B).await;
    gateway.advance(Duration::from_secs(44));
    assert_eq!(gateway.chat_as(KEY_A, "m").await.over_limit("rate_limit_exceeded", "tokens_per_minute"), 1);
    gateway.advance(Duration::from_secs(1));
    gateway.spend_as(KEY_A).await;
    assert_eq!(fake.requests().len(), 4, "three of team-a's, one of team-b's");
}

#[tokio::test]
async fn a_keys_spend_stops_at_its_daily_token_budget_until_midnight_utc() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let budget = 20;
    let mut gateway = keyed(&fake, vec![KeyConfig { daily_tokens: Some(budget), ..key("team-a", SHA_A) }]).await;
    let mut spent = 0;
    let refused = loop {
        let reply = gateway.chat_as(KEY_A, "m").await;
        if reply.status != 200 {
            break reply;
        }
        spent += gateway.exchange().await.usage.map_or(0, |u| u.input_tokens + u.output_tokens);
        assert!(spent <= budget + TOKENS_PER_CHAT, "{spent} tokens spent of a budget of {budget}");
        gateway.advance(Duration::from_secs(600));
    };
    assert!(spent >= budget, "refused at {spent} of {budget} tokens");
    // Three requests at 0, 7 and 14 tokens; the third took the day to 21.
    assert_eq!(spent, 3 * TOKENS_PER_CHAT);
    let until_midnight = 12 * 3600 - 3 * 600;
    assert_eq!(refused.over_limit("insufficient_quota", "daily_tokens"), until_midnight);
    assert_eq!(fake.requests().len(), 3);
    gateway.advance(Duration::from_secs(until_midnight));
    gateway.spend_as(KEY_A).await;
    gateway.assert_metric(
        r#"infersight_gateway_requests_rejected_total{infersight_gateway_key="team-a",reason="daily_tokens"} 1"#,
    );
}

#[tokio::test]
async fn a_keys_daily_dollars_are_priced_per_input_and_output_token() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let limited = KeyConfig { models: vec!["m".into()], daily_dollars: Some(0.03), ..key("team-a", SHA_A) };
    let config = GatewayConfig { keys: vec![limited], ..config(vec![upstream("a", &fake.url(), &["*"])]) };
    // 2 input tokens at $0.001 and 5 output tokens at $0.002: $0.012 a chat.
    let price = TokenPrice { model: "m".into(), input_per_token: 0.001, output_per_token: 0.002 };
    let mut gateway = start_priced(config, &[price], 64).await;
    for _ in 0..3 {
        gateway.spend_as(KEY_A).await;
    }
    let refused = gateway.chat_as(KEY_A, "m").await;
    assert_eq!(refused.over_limit("insufficient_quota", "daily_dollars"), 12 * 3600);
    assert!(refused.openai_error()["message"].as_str().is_some_and(|m| m.contains("$0.03")));
    assert_eq!(fake.requests().len(), 3, "$0.036 spent: the third request crossed the budget and finished");
}

#[tokio::test]
async fn a_key_asking_for_a_model_it_may_not_use_gets_403_and_sees_only_its_models() {
    let models = vec!["m".to_owned(), "secret-model".to_owned()];
    let fake = FakeUpstream::start(Behaviour { models, ..Behaviour::default() }).await;
    let mut gateway = keyed(&fake, vec![KeyConfig { models: vec!["m".into()], ..key("team-a", SHA_A) }]).await;
    let refused = gateway.chat_as(KEY_A, "secret-model").await;
    assert_eq!(refused.status, 403);
    let error = refused.openai_error();
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str()),
        (Some("invalid_request_error"), Some("model_not_allowed"))
    );
    assert!(fake.requests().is_empty());
    gateway.spend_as(KEY_A).await;
    let listed: Value = gateway
        .client
        .get(format!("{}/models", gateway.url))
        .bearer_auth(KEY_A)
        .send()
        .await
        .expect("answers")
        .bytes()
        .await
        .map(|bytes| serde_json::from_slice(&bytes).expect("JSON"))
        .expect("whole body");
    let ids: Vec<&str> = listed["data"].as_array().expect("list").iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, ["m"]);
    gateway.assert_metric(
        r#"infersight_gateway_requests_rejected_total{infersight_gateway_key="team-a",reason="model_not_allowed"} 1"#,
    );
}

#[tokio::test]
async fn a_wrong_or_missing_key_gets_401_and_plain_api_keys_still_work() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let bcrypt_hash = bcrypt::hash(KEY_B, 4).expect("hash");
    let mut gateway = start(GatewayConfig {
        api_keys: vec![Secret::new("gw-plain")],
        keys: vec![key("team-a", SHA_A), key("team-b", &bcrypt_hash)],
        ..config(vec![upstream("a", &fake.url(), &["m"])])
    })
    .await;
    let body = chat("m", false).to_string().into_bytes();
    for authorization in [None, Some("Bearer sk-team-c"), Some("Bearer "), Some(SHA_A)] {
        let reply = gateway.post_raw("/chat/completions", body.clone(), authorization).await;
        assert_eq!(reply.status, 401, "{authorization:?}");
        assert_eq!(reply.openai_error()["code"], "invalid_api_key");
    }
    let models = gateway.client.get(format!("{}/models", gateway.url)).bearer_auth("sk-team-c").send().await;
    assert_eq!(models.expect("answers").status(), 401);
    gateway.assert_metric(
        r#"infersight_gateway_requests_rejected_total{infersight_gateway_key="",reason="invalid_api_key"} 5"#,
    );
    assert!(fake.requests().is_empty());
    for (authorization, name) in [("gw-plain", ""), (KEY_A, "team-a"), (KEY_B, "team-b")] {
        let reply = gateway.chat_as(authorization, "m").await;
        assert_eq!(reply.status, 200, "{name}");
        assert_eq!(gateway.exchange().await.gateway_key, name);
    }
}

#[tokio::test]
async fn the_key_name_labels_metrics_and_exchanges_and_the_key_itself_appears_nowhere() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let limits = KeyConfig { requests_per_minute: Some(1), ..key("team-a", SHA_A) };
    let mut gateway = keyed(&fake, vec![limits, key("team-b", SHA_B)]).await;
    let mut request = chat("m", true);
    request["stream_options"] = json!({"include_usage": true});
    let body = request.to_string().into_bytes();
    let reply = gateway.post_raw("/chat/completions", body, Some(&format!("Bearer {KEY_A}"))).await;
    assert_eq!(reply.status, 200);
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.gateway_key, "team-a");
    let refused = gateway.chat_as(KEY_A, "m").await;
    refused.over_limit("rate_limit_exceeded", "requests_per_minute");
    let metrics = gateway.metrics();
    for line in [
        r#"infersight_gateway_requests_total{gen_ai_request_model="m",status_class="2xx",infersight_gateway_key="team-a"} 1"#,
        r#"infersight_gateway_requests_rejected_total{infersight_gateway_key="team-a",reason="requests_per_minute"} 1"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line:?} missing from\n{metrics}");
    }
    let tokens = metrics
        .lines()
        .find(|l| l.starts_with("gen_ai_client_token_usage_sum{gen_ai_token_type=\"output\""))
        .expect("token usage");
    assert!(tokens.contains("infersight_gateway_key=\"team-a\"") && tokens.ends_with(" 5.0"), "{tokens}");
    assert!(!metrics.contains("team-b"), "a key without traffic has no series");
    let hex_a = SHA_A.trim_start_matches("sha256:");
    for secret in [KEY_A, hex_a, &hex_a[..16]] {
        assert!(!metrics.contains(secret), "{secret} in /metrics");
        assert!(!refused.text().contains(secret), "{secret} in an error body");
        assert!(!format!("{exchange:?}").contains(secret), "{secret} in the exchange");
    }
    let sent_up = &fake.requests()[0].headers;
    assert!(sent_up.get("authorization").is_none(), "the gateway key is never forwarded upstream");
}
