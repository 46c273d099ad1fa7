//! Probes asked of simulated models over HTTP: right answers pass, a model that states wrong facts fails, and every outcome is a series.

use std::sync::Arc;
use std::time::Duration;

use judge::{Judge, JudgeConfig, Limits, MemoryCache, Rubric};
use probe::{Dataset, Metrics, ProbeJudge, ProbeSpec, Prober, RunReport};
use prometheus_client::registry::Registry;
use sim::server::SimServer;
use sim::{Clock, Fleet, SimConfig};
use testkit::judge::{Answer, FakeJudge};
use tokio_util::sync::CancellationToken;

/// A fleet of one replica per model, with no traffic of its own; the first
/// model never errs, the second states the wrong fact every time.
async fn fleet() -> (Vec<String>, String, CancellationToken) {
    let mut config = SimConfig::demo();
    config.internal_traffic = false;
    config.scenarios.clear();
    config.speed = 50.0;
    for (idx, model) in config.models.iter_mut().enumerate() {
        model.refusal_rate = 0.0;
        model.pii_rate = 0.0;
        model.wrong_fact_rate = if idx == 1 { 1.0 } else { 0.0 };
    }
    let models: Vec<String> = config.models.iter().take(2).map(|model| model.name.clone()).collect();
    let first = config.replicas.iter().position(|replica| replica.model == models[0]).expect("a replica");
    let second = config.replicas.iter().position(|replica| replica.model == models[1]).expect("a replica");
    let keep: Vec<_> = [first, second].map(|idx| config.replicas[idx].clone()).into();
    config.replicas = keep;
    let fleet = Fleet::new(config, Clock::scaled(0, 20.0)).expect("valid config");
    let server = SimServer::bind(&fleet).await.expect("ephemeral ports bind");
    let urls: Vec<String> = server.replicas().iter().map(|bound| format!("http://{}/v1", bound.api)).collect();
    let shutdown = CancellationToken::new();
    tokio::spawn(server.run(shutdown.clone()));
    assert_eq!(urls.len(), 2);
    (models, urls.join(" "), shutdown)
}

fn spec(model: &str, dataset: Dataset) -> ProbeSpec {
    ProbeSpec {
        name: "golden".into(),
        models: vec![model.to_owned()],
        dataset,
        interval: Duration::from_secs(60),
        items_per_run: 100,
        timeout: Duration::from_secs(20),
        judge: None,
    }
}

/// A judge at `url` (an OpenAI-compatible base URL) for `rubrics`.
fn probe_judge(url: &str, rubrics: &[&str], registry: &mut Registry) -> ProbeJudge {
    let config = JudgeConfig {
        name: "fake".into(),
        url: format!("{url}/v1"),
        model: "judge-model".into(),
        api_key: None,
        concurrency: 1,
        timeout: Duration::from_secs(5),
        retries: 0,
        limits: Limits::default(),
        price: None,
        json_mode: true,
    };
    let judge = Judge::new(config, Arc::new(MemoryCache::default()), judge::Metrics::new(registry)).expect("client");
    ProbeJudge {
        judge: Arc::new(judge),
        rubrics: rubrics.iter().map(|name| Rubric::built_in(name).expect("built in")).collect(),
    }
}

fn exposition(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encodes");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sound_model_passes_the_default_probes_and_a_wrong_one_fails_them() {
    let (models, urls, shutdown) = fleet().await;
    let urls: Vec<&str> = urls.split(' ').collect();
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);

    let sound = Prober::new(vec![spec(&models[0], Dataset::default_set())], urls[0].into(), None, metrics.clone())
        .expect("client builds");
    let reports = sound.run_once(0, 0).await;
    let n = Dataset::default_set().items.len();
    assert_eq!(reports, [RunReport { model: models[0].clone(), passed: n, failed: 0, errors: 0 }]);

    let wrong = Prober::new(vec![spec(&models[1], Dataset::default_set())], urls[1].into(), None, metrics.clone())
        .expect("client builds");
    let report = &wrong.run_once(0, 0).await[0];
    let facts = Dataset::default_set().items.iter().filter(|item| item.reference.is_some()).count();
    assert_eq!(report.failed, facts, "{report:?}");
    assert_eq!(report.errors, 0);

    let text = exposition(&registry);
    assert!(
        text.contains(&format!(
            "infersight_probe_success{{probe=\"golden\",gen_ai_request_model=\"{}\"}} 1",
            models[0]
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "infersight_probe_success{{probe=\"golden\",gen_ai_request_model=\"{}\"}} 0",
            models[1]
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "infersight_probe_score{{probe=\"golden\",gen_ai_request_model=\"{}\",gen_ai_evaluation_name=\"reference\"}} 0",
        models[1]
    )), "{text}");
    assert!(text.contains("infersight_probe_time_to_first_token_seconds{"), "{text}");
    assert!(
        text.contains(&format!(
            "infersight_probe_items_total{{probe=\"golden\",gen_ai_request_model=\"{}\",result=\"pass\"}} {n}",
            models[0]
        )),
        "{text}"
    );
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_gateway_and_a_bad_dataset_line_are_counted_not_fatal() {
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let dataset = Dataset::parse(concat!(
        "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 17 + 25?\"}], \"reference\": \"42\"}\n",
        "{broken\n",
    ));
    // Port 9 (discard) on loopback: nothing listens there in a test sandbox.
    let prober =
        Prober::new(vec![spec("m", dataset)], "http://127.0.0.1:9/v1".into(), None, metrics).expect("client builds");
    let report = &prober.run_once(0, 0).await[0];
    assert_eq!((report.passed, report.failed, report.errors), (0, 0, 1));
    let text = exposition(&registry);
    assert!(text.contains("infersight_probe_dataset_errors_total{probe=\"golden\"} 1"), "{text}");
    assert!(
        text.contains(
            "infersight_probe_failures_total{probe=\"golden\",gen_ai_request_model=\"m\",reason=\"connect\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("infersight_probe_success{probe=\"golden\",gen_ai_request_model=\"m\"} 0"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rubric_items_are_judged_and_a_judge_that_gives_no_verdict_is_counted() {
    let (models, urls, shutdown) = fleet().await;
    let urls: Vec<&str> = urls.split(' ').collect();
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let dataset = Dataset::parse(concat!(
        "{\"id\": \"sum\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 17 + 25? Answer with the number.\"}], \"reference\": \"42\", \"rubric\": \"correctness\"}\n",
        "{\"id\": \"help\", \"messages\": [{\"role\": \"user\", \"content\": \"How do I kill a Python process that hangs?\"}], \"rubric\": \"helpfulness\"}\n",
    ));
    assert!(dataset.errors.is_empty(), "{:?}", dataset.errors);

    // A judge that gives verdicts: both items are judged, the first by its
    // reference too.
    let fake = FakeJudge::start(Vec::new()).await;
    let mut judged = spec(&models[0], dataset.clone());
    judged.judge = Some(probe_judge(fake.url(), &["correctness", "helpfulness"], &mut registry));
    let prober = Prober::new(vec![judged], urls[0].into(), None, metrics.clone()).expect("client builds");
    let report = &prober.run_once(0, 0).await[0];
    assert_eq!((report.passed, report.failed, report.errors), (2, 0, 0), "{report:?}");
    let asked = fake.requests();
    assert_eq!(asked.len(), 2);
    assert!(asked[0].to_string().contains("42"), "correctness reads the reference");
    let text = exposition(&registry);
    for name in ["reference", "judge_correctness", "judge_helpfulness"] {
        let series = format!(
            "infersight_probe_score{{probe=\"golden\",gen_ai_request_model=\"{}\",gen_ai_evaluation_name=\"{name}\"}}",
            models[0]
        );
        assert!(text.contains(&series), "{series} in\n{text}");
    }

    // A judge that answers prose: the item with a reference keeps that
    // check, the one with only a rubric has no verdict and is an error.
    let prose = FakeJudge::start(vec![Answer::Content("Fine.".into()), Answer::Content("Fine.".into())]).await;
    let mut unjudged = spec(&models[1], dataset);
    unjudged.judge = Some(probe_judge(prose.url(), &["correctness", "helpfulness"], &mut registry));
    let prober = Prober::new(vec![unjudged], urls[1].into(), None, metrics).expect("client builds");
    let report = &prober.run_once(0, 0).await[0];
    assert_eq!((report.failed, report.errors), (1, 1), "the wrong fact fails its reference: {report:?}");
    let text = exposition(&registry);
    let failures = format!(
        "infersight_probe_failures_total{{probe=\"golden\",gen_ai_request_model=\"{}\",reason=\"judge\"}} 2",
        models[1]
    );
    assert!(text.contains(&failures), "{failures} in\n{text}");
    shutdown.cancel();
}
