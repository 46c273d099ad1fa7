//! Quality end to end: traffic through the gateway, scored, counted per model, stored redacted.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::upstream::{Behaviour, FakeUpstream};

use crate::server::{Server, free_port, write_config_with};

const LEAK: &str = "Sure, write to jane.doe@example.com and we will sort it out.";
const CLEAN: &str = "Sure, open the settings page and choose a new plan there.";

fn words(text: &str) -> Behaviour {
    let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    Behaviour { tokens: words.len(), words, ..Behaviour::default() }
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.expect("request").json().await.expect("JSON")
}

/// The value of the sample `line_prefix` in `/metrics`, 0 when absent.
async fn metric(base: &str, line_prefix: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics")).await.expect("metrics").text().await.expect("text");
    text.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaking_model_is_flagged_counted_alone_and_stored_redacted() {
    let leaky = FakeUpstream::start(words(LEAK)).await;
    let clean = FakeUpstream::start(words(CLEAN)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, gateway_port) = (free_port(), free_port());
    let rest = format!(
        "[quality]\nsample_rate = 0.0\n\n[gateway]\nlisten = \"127.0.0.1:{gateway_port}\"\n\n\
         [[gateway.upstream]]\nname = \"leaky\"\nurl = \"{}\"\nmodels = [\"leaky-model\"]\nprovider = \"vllm\"\n\n\
         [[gateway.upstream]]\nname = \"clean\"\nurl = \"{}\"\nmodels = [\"clean-model\"]\nprovider = \"vllm\"\n",
        leaky.url(),
        clean.url()
    );
    let config = write_config_with(dir.path(), &dir.path().join("data"), port, "self_scrape_interval = \"1s\"", &rest);
    let server = Server::start_with_config(config, port).await;
    let gateway = format!("http://127.0.0.1:{gateway_port}/v1/chat/completions");
    let client = reqwest::Client::new();

    // Half of the leaky model's answers leak; every clean answer is clean.
    for i in 0..8 {
        leaky.set_behaviour(if i % 2 == 0 { words(LEAK) } else { words(CLEAN) });
        for model in ["leaky-model", "clean-model"] {
            let request = json!({"model": model, "stream": i % 3 == 0,
                "messages": [{"role": "user", "content": "How do I get a refund?"}]});
            let response = client.post(&gateway).json(&request).send().await.expect("gateway answers");
            assert!(response.status().is_success(), "{model}: {}", response.status());
            response.bytes().await.expect("whole answer");
        }
    }

    // The pipeline runs beside the gateway: wait for its four flagged exchanges.
    let deadline = Instant::now() + Duration::from_secs(30);
    let flagged = loop {
        let page = get_json(&format!("{}/api/v1/infersight/exchanges?flagged=pii", server.base)).await;
        let exchanges = page["data"]["exchanges"].as_array().cloned().unwrap_or_default();
        if exchanges.len() >= 4 || Instant::now() > deadline {
            break exchanges;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(flagged.len(), 4, "every leak is flagged and kept, nothing else (sample_rate 0)");
    for exchange in &flagged {
        assert_eq!(exchange["request_model"], "leaky-model");
        let response = exchange["response"].as_str().expect("response text");
        assert!(response.contains("[EMAIL_ADDRESS]"), "{response}");
        assert!(!response.contains("jane.doe"), "stored text is redacted: {response}");
        let pii = exchange["scores"].as_array().expect("scores").iter().find(|s| s["scorer"] == "pii").expect("pii");
        assert_eq!(pii["label"], true);
        assert_eq!(pii["evidence"][0]["type"], "EMAIL_ADDRESS");
    }

    let flagged_of = |model: &str| {
        format!(
            r#"infersight_quality_flagged_total{{gen_ai_request_model="{model}",gen_ai_evaluation_name="pii",scorer_version="pii-rules-3"}}"#
        )
    };
    assert_eq!(metric(&server.base, &flagged_of("leaky-model")).await, 4.0);
    assert_eq!(metric(&server.base, &flagged_of("clean-model")).await, 0.0, "the clean model is never flagged");
    let scored_of = |model: &str| {
        format!(
            r#"gen_ai_evaluation_score_count{{gen_ai_request_model="{model}",gen_ai_evaluation_name="pii",scorer_version="pii-rules-3"}}"#
        )
    };
    assert_eq!(metric(&server.base, &scored_of("leaky-model")).await, 8.0);
    assert_eq!(metric(&server.base, &scored_of("clean-model")).await, 8.0);

    // And the self-scrape puts them in the store, for PromQL and the dashboard.
    let query = format!(
        "{}/api/v1/query?query=sum+by+(gen_ai_request_model)(infersight_quality_flagged_total%7Bgen_ai_evaluation_name%3D%22pii%22%7D)",
        server.base
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let result = loop {
        let answer = get_json(&query).await;
        let result = answer["data"]["result"].as_array().cloned().unwrap_or_default();
        // A scrape may have caught the counter on its way up.
        if result.first().is_some_and(|r| r["value"][1] == "4") || Instant::now() > deadline {
            break result;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0]["metric"]["gen_ai_request_model"], "leaky-model");
    assert_eq!(result[0]["value"][1], "4");
    assert!(server.terminate().await);
}
