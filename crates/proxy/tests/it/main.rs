//! The gateway end to end: real sockets on loopback, a fake upstream
//! (testkit), and an HTTP client, checking what the client sees, what the
//! upstream received, the exchanges and the metrics.

mod keys;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use inference::{Exchange, Operation};
use prometheus_client::registry::Registry;
use proxy::{Clock, Gateway, GatewayConfig, Metrics, Secret, TokenPrice, UpstreamConfig};
use serde_json::{Value, json};
use testkit::upstream::{Behaviour, FakeUpstream, UsageMode};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Noon UTC of some day, in milliseconds: where the harness's clock starts.
const NOON_MS: i64 = 20_000 * 86_400_000 + 43_200_000;

struct Harness {
    url: String,
    registry: Registry,
    /// The gateway's clock, which only [`Harness::advance`] moves.
    now: Arc<AtomicI64>,
    exchanges: mpsc::Receiver<Exchange>,
    client: reqwest::Client,
    _stop: DropGuard,
}

fn upstream(name: &str, url: &str, models: &[&str]) -> UpstreamConfig {
    UpstreamConfig {
        name: name.into(),
        url: url.into(),
        models: models.iter().map(|m| (*m).to_owned()).collect(),
        api_key: None,
        provider: "vllm".into(),
        connect_timeout: "1s".into(),
        timeout: "10s".into(),
    }
}

fn config(upstreams: Vec<UpstreamConfig>) -> GatewayConfig {
    GatewayConfig { upstreams, ..GatewayConfig::default() }
}

async fn start(config: GatewayConfig) -> Harness {
    start_with_queue(config, 64).await
}

async fn start_with_queue(config: GatewayConfig, queue: usize) -> Harness {
    start_priced(config, &[], queue).await
}

async fn start_priced(config: GatewayConfig, prices: &[TokenPrice], queue: usize) -> Harness {
    let settings = config.validate(prices).expect("valid config");
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let (sender, exchanges) = mpsc::channel(queue);
    let now = Arc::new(AtomicI64::new(NOON_MS));
    let read = Arc::clone(&now);
    let clock: Clock = Arc::new(move || read.load(Ordering::SeqCst));
    let gateway = Gateway::with_clock(settings, metrics, sender, clock).expect("gateway builds");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback port");
    let url = format!("http://{}/v1", listener.local_addr().expect("bound"));
    let stop = CancellationToken::new();
    tokio::spawn(proxy::serve(listener, gateway.router(), stop.clone()));
    Harness { url, registry, now, exchanges, client: reqwest::Client::new(), _stop: stop.drop_guard() }
}

/// A port nothing listens on.
async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback port");
    let addr = listener.local_addr().expect("bound");
    drop(listener);
    format!("http://{addr}/v1")
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// Checks the body is an OpenAI error and returns its `error` object.
    fn openai_error(&self) -> Value {
        let error = self.json()["error"].clone();
        for key in ["message", "type", "param", "code"] {
            assert!(error.get(key).is_some(), "error without {key}: {error}");
        }
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        error
    }
}

impl Harness {
    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, body.to_string().into_bytes(), None).await
    }

    async fn post_raw(&self, path: &str, body: Vec<u8>, authorization: Option<&str>) -> Reply {
        self.post_with(path, body, authorization.map(|value| ("authorization", value))).await
    }

    async fn post_with(&self, path: &str, body: Vec<u8>, header: Option<(&str, &str)>) -> Reply {
        let mut request =
            self.client.post(format!("{}{path}", self.url)).header("content-type", "application/json").body(body);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("whole body").to_vec();
        Reply { status, headers, body }
    }

    /// Moves the gateway's clock on.
    fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    async fn exchange(&mut self) -> Exchange {
        tokio::time::timeout(Duration::from_secs(5), self.exchanges.recv())
            .await
            .expect("an exchange within 5s")
            .expect("channel open")
    }

    fn metrics(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encodable");
        text
    }

    fn assert_metric(&self, line: &str) {
        let text = self.metrics();
        assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
    }
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hello there"}], "stream": stream})
}

/// The events of an SSE body, each with its blank line.
fn events(body: &[u8]) -> Vec<String> {
    String::from_utf8(body.to_vec()).expect("UTF-8").split_inclusive("\n\n").map(str::to_owned).collect()
}

#[tokio::test]
async fn probe_traffic_is_labelled_as_such_and_kept_from_the_quality_pipeline() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let body = chat("m", false).to_string().into_bytes();
    let reply = gateway.post_with("/chat/completions", body.clone(), Some(("x-infersight-client", "probe"))).await;
    assert_eq!(reply.status, 200);
    assert!(
        gateway.metrics().contains("infersight_client=\"probe\",infersight_gateway_key=\"\",error_type=\"\"} 1"),
        "{}",
        gateway.metrics()
    );
    // An unknown client name is a user: the label's values stay bounded.
    let reply = gateway.post_with("/chat/completions", body, Some(("x-infersight-client", "someone"))).await;
    assert_eq!(reply.status, 200);
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.status, 200);
    assert!(gateway.exchanges.try_recv().is_err(), "only the user's exchange reaches the pipeline");
    assert!(!gateway.metrics().contains("someone"));
}

#[tokio::test]
async fn non_streamed_chat_passes_through_byte_for_byte() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let reply = gateway.post("/chat/completions", &chat("m", false)).await;
    assert_eq!(reply.status, 200);
    let requests = fake.requests();
    assert_eq!(reply.body, requests[0].sent());
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(requests[0].body, chat("m", false), "the request went up unchanged");

    let exchange = gateway.exchange().await;
    assert_eq!(exchange.operation, Operation::Chat);
    assert_eq!((exchange.status, exchange.error_type.as_deref(), exchange.stream), (200, None, false));
    assert_eq!(exchange.upstream, "a");
    assert_eq!(exchange.provider, "vllm");
    assert_eq!(exchange.prompt, "user: hello there");
    assert_eq!(exchange.response, "tok0 tok1 tok2 tok3 tok4 ");
    assert_eq!(exchange.finish_reason.as_deref(), Some("stop"));
    assert_eq!(exchange.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((2, 5)));
    assert_eq!(exchange.timings.ttft, None);
    let labels = format!(
        "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"vllm\",gen_ai_request_model=\"m\",\
         gen_ai_response_model=\"m\",server_address=\"{}\",infersight_client=\"\",infersight_gateway_key=\"\"",
        fake.addr()
    );
    gateway.assert_metric(&format!("gen_ai_client_token_usage_count{{gen_ai_token_type=\"input\",{labels}}} 1"));
    gateway.assert_metric(&format!("gen_ai_client_token_usage_sum{{gen_ai_token_type=\"output\",{labels}}} 5.0"));
    gateway.assert_metric(&format!("gen_ai_client_operation_duration_seconds_count{{{labels},error_type=\"\"}} 1"));
    gateway.assert_metric(
        r#"infersight_gateway_requests_total{gen_ai_request_model="m",status_class="2xx",infersight_gateway_key=""} 1"#,
    );
    gateway.assert_metric("infersight_gateway_requests_in_flight 0");
}

#[tokio::test]
async fn streamed_chat_is_timed_from_the_first_content_chunk() {
    let behaviour =
        Behaviour { ttft: Duration::from_millis(60), pace: Duration::from_millis(5), ..Behaviour::default() };
    let fake = FakeUpstream::start(behaviour).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let mut request = chat("m", true);
    request["stream_options"] = json!({"include_usage": true});
    let reply = gateway.post("/chat/completions", &request).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["content-type"], "text/event-stream");
    let requests = fake.requests();
    assert_eq!(requests[0].body, request, "a client asking usage itself is not rewritten");
    assert_eq!(reply.body, requests[0].sent(), "the stream passes through byte for byte");

    let exchange = gateway.exchange().await;
    let ttft = exchange.timings.ttft.expect("a content chunk came");
    // The role chunk (empty content) arrives at once; the first token after 60 ms.
    assert!(ttft >= Duration::from_millis(60), "{ttft:?}");
    // Four more tokens, due 5 ms apart (a late first token shortens the rest).
    assert!(exchange.timings.e2e >= ttft + Duration::from_millis(10), "{:?}", exchange.timings);
    assert_eq!(exchange.timings.gaps.count, 4);
    assert!(exchange.timings.gaps.max >= Duration::from_millis(2), "{:?}", exchange.timings);
    assert_eq!(exchange.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((2, 5)));
    assert_eq!(exchange.response, "tok0 tok1 tok2 tok3 tok4 ");
    assert_eq!((exchange.stream, exchange.finish_reason.as_deref()), (true, Some("stop")));
    let text = gateway.metrics();
    assert!(text.contains("gen_ai_server_time_to_first_token_seconds_count{"), "{text}");
    assert!(text.contains("gen_ai_server_time_per_output_token_seconds_count{"), "{text}");
}

#[tokio::test]
async fn usage_is_requested_for_the_gateway_and_stripped_from_the_clients_stream() {
    // Events cut mid-line put the usage chunk across reads.
    let fake = FakeUpstream::start(Behaviour { split_events: true, ..Behaviour::default() }).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;

    // What the upstream streams to a client that does not ask for usage, asked directly.
    let direct = gateway
        .client
        .post(format!("{}/chat/completions", fake.url()))
        .header("content-type", "application/json")
        .body(chat("m", true).to_string())
        .send()
        .await
        .expect("fake answers")
        .bytes()
        .await
        .expect("whole body");
    assert!(!direct.windows(8).any(|w| w == b"\"usage\":"), "the fake sends usage only when asked");

    let reply = gateway.post("/chat/completions", &chat("m", true)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), String::from_utf8_lossy(&direct), "the client sees what it would have seen directly");

    let through = &fake.requests()[1];
    assert!(through.asks_usage(), "the gateway asked for usage");
    let sent = events(&through.sent());
    let usage_events: Vec<&String> = sent.iter().filter(|e| e.contains("\"choices\":[]")).collect();
    assert_eq!(usage_events.len(), 1, "the upstream sent one usage chunk");
    let without_usage: String = sent.iter().filter(|e| !e.contains("\"choices\":[]")).map(String::as_str).collect();
    assert_eq!(reply.text(), without_usage, "only the usage chunk was removed");
    assert!(reply.headers.get("content-length").is_none());

    let exchange = gateway.exchange().await;
    assert_eq!(exchange.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((2, 5)));
    assert_eq!(exchange.response, "tok0 tok1 tok2 tok3 tok4 ");
}

#[tokio::test]
async fn a_stream_without_usage_still_gets_timed() {
    let fake = FakeUpstream::start(Behaviour { usage: UsageMode::Never, ..Behaviour::default() }).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let reply = gateway.post("/chat/completions", &chat("m", true)).await;
    assert_eq!(reply.body, fake.requests()[0].sent());
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.usage, None);
    assert!(exchange.timings.ttft.is_some());
    assert_eq!(exchange.response, "tok0 tok1 tok2 tok3 tok4 ");
}

#[tokio::test]
async fn completions_stream_and_answer_whole() {
    let fake = FakeUpstream::start(Behaviour { tokens: 3, ..Behaviour::default() }).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let request = json!({"model": "m", "prompt": "once upon a time", "stream": true});
    let reply = gateway.post("/completions", &request).await;
    assert_eq!(reply.status, 200);
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.operation, Operation::TextCompletion);
    assert_eq!(exchange.prompt, "once upon a time");
    assert_eq!(exchange.response, "tok0 tok1 tok2 ");
    assert_eq!(exchange.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((4, 3)));
    assert!(exchange.timings.ttft.is_some());
    assert!(!reply.text().contains("\"usage\""));

    let reply = gateway.post("/completions", &json!({"model": "m", "prompt": "hi"})).await;
    assert_eq!(reply.body, fake.requests()[1].sent());
    let exchange = gateway.exchange().await;
    assert_eq!((exchange.response.as_str(), exchange.stream), ("tok0 tok1 tok2 ", false));
}

#[tokio::test]
async fn embeddings_pass_through_and_count_input_tokens_only() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["e5"])])).await;
    let reply = gateway.post("/embeddings", &json!({"model": "e5", "input": ["a b", "c"]})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, fake.requests()[0].sent());
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.operation, Operation::Embeddings);
    assert_eq!(exchange.prompt, "a b\nc");
    assert_eq!(exchange.usage.map(|u| u.input_tokens), Some(3));
    let text = gateway.metrics();
    assert!(
        text.contains(
            "gen_ai_client_token_usage_count{gen_ai_token_type=\"input\",gen_ai_operation_name=\"embeddings\""
        )
    );
    assert!(!text.contains("gen_ai_token_type=\"output\""), "{text}");
}

#[tokio::test]
async fn models_are_merged_across_upstreams() {
    let a = FakeUpstream::start(Behaviour { models: vec!["m1".into(), "m2".into()], ..Behaviour::default() }).await;
    let b = FakeUpstream::start(Behaviour { models: vec!["m2".into(), "m3".into()], ..Behaviour::default() }).await;
    let down = closed_port_url().await;
    let gateway = start(config(vec![
        upstream("a", &a.url(), &["*"]),
        upstream("down", &down, &["*"]),
        upstream("b", &b.url(), &["*"]),
    ]))
    .await;
    let response = gateway.client.get(format!("{}/models", gateway.url)).send().await.expect("answers");
    assert_eq!(response.status(), 200);
    let list: Value = serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON");
    let ids: Vec<&str> = list["data"].as_array().expect("data").iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert_eq!(list["object"], "list");
}

#[tokio::test]
async fn requests_take_turns_between_upstreams_of_a_model() {
    let a = FakeUpstream::start(Behaviour::default()).await;
    let b = FakeUpstream::start(Behaviour::default()).await;
    let gateway = start(config(vec![upstream("a", &a.url(), &["m"]), upstream("b", &b.url(), &["m"])])).await;
    for _ in 0..4 {
        assert_eq!(gateway.post("/chat/completions", &chat("m", false)).await.status, 200);
    }
    assert_eq!((a.requests().len(), b.requests().len()), (2, 2));
}

#[tokio::test]
async fn an_unreachable_upstream_is_skipped_and_counted() {
    let down = closed_port_url().await;
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway = start(config(vec![upstream("down", &down, &["m"]), upstream("up", &fake.url(), &["m"])])).await;
    for _ in 0..2 {
        let reply = gateway.post("/chat/completions", &chat("m", true)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(gateway.exchange().await.upstream, "up");
    }
    assert_eq!(fake.requests().len(), 2);
    // Round robin starts one of the two requests at the down upstream.
    gateway.assert_metric(r#"infersight_gateway_upstream_connect_errors_total{upstream="down"} 1"#);
}

#[tokio::test]
async fn a_failing_upstream_is_skipped_before_its_first_byte_and_the_last_failure_passes_through() {
    let failing = FakeUpstream::start(Behaviour { fail_status: Some(503), ..Behaviour::default() }).await;
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway =
        start(config(vec![upstream("failing", &failing.url(), &["m"]), upstream("ok", &fake.url(), &["m"])])).await;
    for _ in 0..2 {
        assert_eq!(gateway.post("/chat/completions", &chat("m", false)).await.status, 200);
        assert_eq!(gateway.exchange().await.upstream, "ok");
    }
    assert_eq!(failing.requests().len(), 1);

    let mut gateway2 = start(config(vec![upstream("failing", &failing.url(), &["m"])])).await;
    let reply = gateway2.post("/chat/completions", &chat("m", false)).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.body, failing.requests()[1].sent(), "the last upstream's failure reaches the client");
    assert_eq!(reply.openai_error()["message"], "fake failure");
    let exchange = gateway2.exchange().await;
    assert_eq!((exchange.status, exchange.error_type.as_deref()), (503, Some("503")));
}

#[tokio::test]
async fn all_upstreams_down_is_a_502_in_openai_shape() {
    let mut gateway = start(config(vec![
        upstream("a", &closed_port_url().await, &["m"]),
        upstream("b", &closed_port_url().await, &["m"]),
    ]))
    .await;
    let reply = gateway.post("/chat/completions", &chat("m", true)).await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.openai_error()["type"], "server_error");
    let exchange = gateway.exchange().await;
    assert_eq!((exchange.status, exchange.error_type.as_deref()), (502, Some("connect")));
    assert!(gateway.metrics().contains("error_type=\"connect\"} 1"));
}

#[tokio::test]
async fn bad_requests_are_refused_without_calling_an_upstream() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let gateway =
        start(GatewayConfig { max_body: "1KiB".into(), ..config(vec![upstream("a", &fake.url(), &["m"])]) }).await;
    let not_json = gateway.post_raw("/chat/completions", b"{\"model\": ".to_vec(), None).await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.openai_error()["type"], "invalid_request_error");
    let no_model = gateway.post("/chat/completions", &json!({"messages": []})).await;
    assert_eq!(no_model.status, 400);
    assert!(no_model.openai_error()["message"].as_str().is_some_and(|m| m.contains("model")));
    let unknown = gateway.post("/chat/completions", &chat("nobody-serves-this", false)).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.openai_error()["code"], "model_not_found");
    let big = json!({"model": "m", "prompt": "x".repeat(2000)});
    let too_large = gateway.post("/completions", &big).await;
    assert_eq!(too_large.status, 413);
    too_large.openai_error();
    assert!(fake.requests().is_empty());
    gateway.assert_metric(r#"infersight_gateway_requests_total{gen_ai_request_model="_none",status_class="4xx",infersight_gateway_key=""} 3"#);
    gateway.assert_metric(r#"infersight_gateway_requests_total{gen_ai_request_model="_unknown",status_class="4xx",infersight_gateway_key=""} 1"#);
}

#[tokio::test]
async fn an_interrupted_stream_reaches_the_client_as_far_as_it_came() {
    let fake = FakeUpstream::start(Behaviour { tokens: 10, cut_after: Some(4), ..Behaviour::default() }).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let mut request = chat("m", true);
    request["stream_options"] = json!({"include_usage": true});
    let mut response = gateway
        .client
        .post(format!("{}/chat/completions", gateway.url))
        .header("content-type", "application/json")
        .body(request.to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let mut received = Vec::new();
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break "cleanly",
            Err(_) => break "with an error",
        }
    };
    assert_eq!(ended, "with an error", "the client sees the stream break as the upstream's did");
    assert_eq!(received, fake.requests()[0].sent());
    assert_eq!(events(&received).len(), 4);
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.error_type.as_deref(), Some("stream_interrupted"));
    assert_eq!(exchange.response, "tok0 tok1 tok2 ");
}

#[tokio::test]
async fn a_client_going_away_cancels_the_upstream_request() {
    let behaviour = Behaviour { tokens: 1000, pace: Duration::from_millis(5), ..Behaviour::default() };
    let fake = FakeUpstream::start(behaviour).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let mut response = gateway
        .client
        .post(format!("{}/chat/completions", gateway.url))
        .header("content-type", "application/json")
        .body(chat("m", true).to_string())
        .send()
        .await
        .expect("answers");
    let first = response.chunk().await.expect("readable").expect("a chunk");
    assert!(first.starts_with(b"data: "));
    drop(response);
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.error_type.as_deref(), Some("cancelled"));
    for _ in 0..100 {
        if fake.n_cancelled() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.n_cancelled(), 1, "the upstream saw its reader go");
    gateway.assert_metric("infersight_gateway_requests_in_flight 0");
}

#[tokio::test]
async fn malformed_events_pass_through_and_are_counted() {
    let fake = FakeUpstream::start(Behaviour { malformed_before: Some(2), ..Behaviour::default() }).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let mut request = chat("m", true);
    request["stream_options"] = json!({"include_usage": true});
    let reply = gateway.post("/chat/completions", &request).await;
    assert_eq!(reply.body, fake.requests()[0].sent());
    assert!(reply.text().contains("data: {not json\n\n"));
    let exchange = gateway.exchange().await;
    assert_eq!((exchange.error_type, exchange.response.as_str()), (None, "tok0 tok1 tok2 tok3 tok4 "));
    gateway.assert_metric(r#"infersight_gateway_malformed_sse_events_total{upstream="a"} 1"#);
}

#[tokio::test]
async fn model_labels_past_the_cap_collapse_into_other() {
    let fake = FakeUpstream::start(Behaviour { response_model: Some("served".into()), ..Behaviour::default() }).await;
    let gateway =
        start(GatewayConfig { model_label_cap: 3, ..config(vec![upstream("a", &fake.url(), &["model-*"])]) }).await;
    for i in 0..5 {
        assert_eq!(gateway.post("/chat/completions", &chat(&format!("model-{i}"), false)).await.status, 200);
    }
    for model in ["model-0", "model-1", "_other"] {
        let n = if model == "_other" { 3 } else { 1 };
        gateway.assert_metric(&format!(
            "infersight_gateway_requests_total{{gen_ai_request_model=\"{model}\",status_class=\"2xx\",infersight_gateway_key=\"\"}} {n}"
        ));
    }
    assert!(!gateway.metrics().contains("model-2"), "the response model took the third place");
}

#[tokio::test]
async fn gateway_keys_guard_the_gateway_and_stay_out_of_upstream_requests() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let gateway = start(GatewayConfig {
        api_keys: vec![Secret::new("gw-key")],
        ..config(vec![upstream("a", &fake.url(), &["m"])])
    })
    .await;
    let body = chat("m", false).to_string().into_bytes();
    let missing = gateway.post_raw("/chat/completions", body.clone(), None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.openai_error()["code"], "invalid_api_key");
    let wrong = gateway.post_raw("/chat/completions", body.clone(), Some("Bearer nope")).await;
    assert_eq!(wrong.status, 401);
    let models = gateway.client.get(format!("{}/models", gateway.url)).send().await.expect("answers");
    assert_eq!(models.status(), 401);
    let ok = gateway.post_raw("/chat/completions", body, Some("Bearer gw-key")).await;
    assert_eq!(ok.status, 200);
    assert_eq!(fake.requests().len(), 1);
    assert!(fake.requests()[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn the_clients_authorization_passes_through_unless_the_upstream_has_a_key() {
    let open = FakeUpstream::start(Behaviour::default()).await;
    let keyed = FakeUpstream::start(Behaviour::default()).await;
    let gateway = start(config(vec![
        upstream("open", &open.url(), &["m"]),
        UpstreamConfig { api_key: Some(Secret::new("up-key")), ..upstream("keyed", &keyed.url(), &["k"]) },
    ]))
    .await;
    let body = |model| chat(model, false).to_string().into_bytes();
    assert_eq!(gateway.post_raw("/chat/completions", body("m"), Some("Bearer client-key")).await.status, 200);
    assert_eq!(gateway.post_raw("/chat/completions", body("k"), Some("Bearer client-key")).await.status, 200);
    assert_eq!(open.requests()[0].headers["authorization"], "Bearer client-key");
    assert_eq!(keyed.requests()[0].headers["authorization"], "Bearer up-key");
}

#[tokio::test]
async fn an_upstream_slow_to_answer_times_out_with_504() {
    let fake = FakeUpstream::start(Behaviour { header_delay: Duration::from_secs(2), ..Behaviour::default() }).await;
    let mut gateway =
        start(config(vec![UpstreamConfig { timeout: "100ms".into(), ..upstream("a", &fake.url(), &["m"]) }])).await;
    let reply = gateway.post("/chat/completions", &chat("m", true)).await;
    assert_eq!(reply.status, 504);
    reply.openai_error();
    assert_eq!(gateway.exchange().await.error_type.as_deref(), Some("timeout"));
}

#[tokio::test]
async fn a_full_exchange_queue_drops_and_counts_without_slowing_requests() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let gateway = start_with_queue(config(vec![upstream("a", &fake.url(), &["m"])]), 1).await;
    for _ in 0..3 {
        assert_eq!(gateway.post("/chat/completions", &chat("m", true)).await.status, 200);
    }
    gateway.assert_metric("infersight_gateway_exchanges_dropped_total 2");
}

#[tokio::test]
async fn a_client_leaving_before_the_response_starts_is_recorded_as_cancelled() {
    let fake =
        FakeUpstream::start(Behaviour { header_delay: Duration::from_millis(500), ..Behaviour::default() }).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().expect("client builds");
    let sent = impatient
        .post(format!("{}/chat/completions", gateway.url))
        .header("content-type", "application/json")
        .body(chat("m", true).to_string())
        .send()
        .await;
    assert!(sent.is_err(), "the client gave up");
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.error_type.as_deref(), Some("cancelled"));
    gateway.assert_metric("infersight_gateway_requests_in_flight 0");
}

#[tokio::test]
async fn every_answer_carries_an_exchange_id_that_the_exchange_and_the_recent_ids_share() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let settings = config(vec![upstream("a", &fake.url(), &["m"])]).validate(&[]).expect("valid config");
    let mut registry = Registry::default();
    let (sender, mut exchanges) = mpsc::channel(8);
    let gateway = Gateway::new(settings, Metrics::new(&mut registry), sender).expect("gateway builds");
    let recent = gateway.recent();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("loopback port");
    let url = format!("http://{}/v1", listener.local_addr().expect("bound"));
    let stop = CancellationToken::new();
    tokio::spawn(proxy::serve(listener, gateway.router(), stop.clone()));
    let _stop = stop.drop_guard();
    let client = reqwest::Client::new();

    let mut ids = Vec::new();
    for stream in [false, true] {
        let response = client
            .post(format!("{url}/chat/completions"))
            .header("content-type", "application/json")
            .body(chat("m", stream).to_string())
            .send()
            .await
            .expect("answers");
        let id = response.headers()[inference::EXCHANGE_ID_HEADER].to_str().expect("ASCII").to_owned();
        let _ = response.bytes().await;
        assert_eq!(id.len(), 16, "{id}");
        let exchange =
            tokio::time::timeout(Duration::from_secs(5), exchanges.recv()).await.expect("in time").expect("open");
        assert_eq!(exchange.id, id);
        assert_eq!(recent.model(&id).as_deref(), Some("m"));
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    for body in [json!({"model": "nobody-serves-this", "messages": []}), json!({"messages": []})] {
        let response = client
            .post(format!("{url}/chat/completions"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("answers");
        assert!(response.status().is_client_error());
        assert!(response.headers().contains_key(inference::EXCHANGE_ID_HEADER), "errors carry an id too");
    }
}

#[tokio::test]
async fn issue_20_the_user_and_session_a_client_names_land_in_the_exchange_and_nowhere_else() {
    let fake = FakeUpstream::start(Behaviour::default()).await;
    let mut gateway = start(config(vec![upstream("a", &fake.url(), &["m"])])).await;
    let mut body = chat("m", true);
    body["user"] = json!("alice-3c9e@example.com");
    let reply = gateway
        .post_with("/chat/completions", body.to_string().into_bytes(), Some(("x-infersight-session", "chat-7f01")))
        .await;
    assert_eq!(reply.status, 200);
    let exchange = gateway.exchange().await;
    assert_eq!(exchange.user.as_deref(), Some("alice-3c9e@example.com"));
    assert_eq!(exchange.session.as_deref(), Some("chat-7f01"));
    assert_eq!(fake.requests()[0].body["user"], "alice-3c9e@example.com", "the upstream gets the request as sent");

    // Without either, the exchange names no one.
    let reply = gateway.post("/completions", &json!({"model": "m", "prompt": "hi"})).await;
    assert_eq!(reply.status, 200);
    let exchange = gateway.exchange().await;
    assert_eq!((exchange.user, exchange.session), (None, None));

    // Ids too long to be ids are refused before any upstream is called, without repeating them.
    let long = "secret-session-".repeat(20);
    let reply = gateway
        .post_with(
            "/chat/completions",
            chat("m", false).to_string().into_bytes(),
            Some(("x-infersight-session", &long)),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.openai_error()["message"], "the x-infersight-session header must be at most 256 bytes");
    let reply =
        gateway.post("/embeddings", &json!({"model": "m", "input": "x", "user": "secret-user-".repeat(30)})).await;
    assert_eq!(reply.status, 400);
    assert!(!reply.text().contains("secret-user"), "{}", reply.text());
    assert_eq!(fake.requests().len(), 2, "refused requests never go upstream");
    let metrics = gateway.metrics();
    for id in ["alice", "chat-7f01", "secret-"] {
        assert!(!metrics.contains(id), "{id} in the metrics:\n{metrics}");
    }
}
