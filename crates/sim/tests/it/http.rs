//! Each replica serves the OpenAI API with tokens at simulated times, its `/metrics`, and the node's DCGM page.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sim::server::SimServer;
use sim::{Clock, EngineKind, Fleet};
use tokio_util::sync::CancellationToken;

use crate::support::{LLAMA, T0, config, replica};

async fn post(client: &reqwest::Client, url: String, body: Value) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request sent")
}

/// The `data:` payloads of an SSE body, checking each event is one `data:` line followed by a blank line.
fn sse_events(body: &str) -> Vec<String> {
    assert!(body.ends_with("\n\n"), "events end with a blank line");
    body.trim_end_matches("\n\n")
        .split("\n\n")
        .map(|event| event.strip_prefix("data: ").expect("every event is a data line").to_owned())
        .inspect(|data| assert!(!data.contains('\n'), "one line per event"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_stream_sse_with_usage_answer_plainly_serve_metrics_and_go_down_on_a_crash() {
    let mut config = config(&[LLAMA], vec![replica("vllm-0", EngineKind::Vllm, LLAMA, "us-east-1a")], vec![]);
    config.internal_traffic = false;
    config.models[0].refusal_rate = 0.0;
    let fleet = Fleet::new(config, Clock::scaled(T0, 20.0)).expect("valid config");
    let server = SimServer::bind(&fleet).await.expect("ephemeral ports bind");
    let bound = server.replicas()[0].clone();
    assert_ne!(bound.api.port(), 0);
    assert_eq!(fleet.replicas()[0].instance, bound.api.to_string());
    let control = server.control_addr();
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(server.run(shutdown.clone()));
    let client = reqwest::Client::new();
    let api = format!("http://{}", bound.api);

    // Streaming chat with usage.
    let started = Instant::now();
    let request = json!({
        "model": LLAMA,
        "messages": [{"role": "user", "content": "What is the capital of Australia?"}],
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": 60,
    });
    let response = post(&client, format!("{api}/v1/chat/completions"), request).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let body = response.text().await.expect("whole stream");
    let elapsed = started.elapsed();
    let events = sse_events(&body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> =
        events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).expect("chunks are JSON")).collect();
    let usage_chunk = chunks.last().expect("usage chunk");
    assert_eq!(usage_chunk["choices"], json!([]));
    let completion_tokens = usage_chunk["usage"]["completion_tokens"].as_u64().expect("usage");
    assert!(usage_chunk["usage"]["prompt_tokens"].as_u64().expect("prompt tokens") > 0);
    let first = &chunks[0];
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    assert!(first["id"].as_str().expect("id").starts_with("chatcmpl-"));
    assert_eq!(first["model"], LLAMA);
    let content: Vec<&str> = chunks[1..chunks.len() - 2]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().expect("content delta"))
        .collect();
    assert_eq!(content.len() as u64, completion_tokens);
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c["usage"].is_null() && c["choices"][0]["index"] == 0));
    let finish = &chunks[chunks.len() - 2]["choices"][0];
    assert!(finish["finish_reason"] == "stop" || finish["finish_reason"] == "length", "{finish}");
    assert!(!content.concat().trim().is_empty());
    // At 20× a 60-token answer takes a few simulated seconds: well under a real second or two, but not instant.
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(elapsed > Duration::from_millis(5), "{elapsed:?}");

    // Non-streaming completion with usage.
    let response =
        post(&client, format!("{api}/v1/completions"), json!({"model": LLAMA, "prompt": "Say hi", "max_tokens": 5}))
            .await;
    assert_eq!(response.status(), 200);
    let completion: Value = serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert_eq!(completion["object"], "text_completion");
    assert_eq!(completion["usage"]["completion_tokens"], 5);
    assert_eq!(completion["choices"][0]["finish_reason"], "length");

    // Unknown model, models list, metrics pages.
    let response = post(&client, format!("{api}/v1/chat/completions"), json!({"model": "nope", "messages": []})).await;
    assert_eq!(response.status(), 404);
    let models: Value = serde_json::from_str(
        &client.get(format!("{api}/v1/models")).send().await.expect("models").text().await.expect("body"),
    )
    .expect("JSON");
    assert_eq!(models["data"][0]["id"], LLAMA);
    let page = client.get(format!("{api}/metrics")).send().await.expect("metrics").text().await.expect("page");
    let families = crate::support::parse(&page);
    assert!(crate::prom::sum(&families, "vllm:request_success_total") >= 2.0);
    let dcgm =
        client.get(format!("http://{}/metrics", bound.dcgm)).send().await.expect("dcgm").text().await.expect("page");
    assert!(dcgm.contains("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\""));

    // A crash triggered at run time: 503 everywhere on the replica, then recovery.
    let response = post(
        &client,
        format!("http://{control}/sim/scenario"),
        json!({"name": "xid_crash", "target": "vllm-0", "duration": "40s"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client.get(format!("{api}/metrics")).send().await.expect("metrics").status(), 503);
    assert_eq!(client.get(format!("{api}/v1/models")).send().await.expect("models").status(), 503);
    assert!(
        client
            .get(format!("http://{}/metrics", bound.dcgm))
            .send()
            .await
            .expect("dcgm")
            .text()
            .await
            .expect("page")
            .contains("err_code=\"79\"")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.get(format!("{api}/metrics")).send().await.expect("metrics").status() != 200 {
        assert!(Instant::now() < deadline, "replica recovers after the incident");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let response =
        post(&client, format!("http://{control}/sim/scenario"), json!({"name": "meltdown", "target": "vllm-0"})).await;
    assert_eq!(response.status(), 400);

    shutdown.cancel();
    serving.await.expect("server task").expect("server ran cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_sends_the_profile_over_http() {
    let mut config = config(&[LLAMA], vec![replica("vllm-0", EngineKind::Vllm, LLAMA, "us-east-1a")], vec![]);
    config.load.models = vec![crate::support::load(LLAMA, 5.0)];
    config.load.models[0].output_tokens_median = 30.0;
    config.internal_traffic = false;
    let fleet = Fleet::new(config, Clock::scaled(T0, 20.0)).expect("valid config");
    let server = SimServer::bind(&fleet).await.expect("ephemeral ports bind");
    let api = format!("http://{}", server.replicas()[0].api);
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(server.run(shutdown.clone()));
    let loadgen = sim::loadgen::LoadGen::new(fleet.clone(), &api, None, 256);
    let stop = CancellationToken::new();
    let running = {
        let loadgen = loadgen.clone();
        let stop = stop.clone();
        tokio::spawn(async move { loadgen.run(stop).await })
    };
    // 1.5 real seconds are 30 simulated seconds: about 150 requests at 5 per second.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    stop.cancel();
    let stats = running.await.expect("load generator task");
    assert!((90..=220).contains(&stats.sent), "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(stats.ok >= stats.sent * 3 / 4, "{stats:?}");
    let page = fleet.engine_metrics("vllm-0").expect("replica up");
    let served = crate::prom::sum(&crate::support::parse(&page), "vllm:request_success_total");
    assert!(served >= stats.ok as f64, "{served} vs {stats:?}");
    shutdown.cancel();
    serving.await.expect("server task").expect("server ran cleanly");
}
