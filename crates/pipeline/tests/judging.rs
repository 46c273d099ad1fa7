//! Judges in the pipeline, against a fake OpenAI-compatible judge: the
//! sample rate, the budget, the cache, every fault, and where verdicts go.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use inference::{Exchange, GapSummary, Operation, Timings, Usage};
use judge::{Judge, JudgeConfig, Limits, Price, Rubric};
use pipeline::judging::{JudgeSetup, RecordsCache};
use pipeline::{Config, Metrics, Pipeline};
use prometheus_client::registry::Registry;
use records::Store;
use testkit::judge::{Answer, FakeJudge};
use tokio_util::sync::CancellationToken;

fn exchange(time_ms: i64, model: &str, response: &str) -> Exchange {
    Exchange {
        id: String::new(),
        time_ms,
        operation: Operation::Chat,
        request_model: model.to_owned(),
        response_model: None,
        upstream: "a".to_owned(),
        provider: "vllm".to_owned(),
        gateway_key: String::new(),
        user: None,
        session: None,
        stream: false,
        status: 200,
        error_type: None,
        finish_reason: Some("stop".to_owned()),
        timings: Timings { ttft: None, e2e: Duration::from_millis(500), gaps: GapSummary::default() },
        usage: Some(Usage { input_tokens: 10, output_tokens: 20 }),
        prompt: "user: what is the capital of France? Mail me at jane.doe@example.com".to_owned(),
        response: response.to_owned(),
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    registry: Registry,
    pipeline: Arc<Pipeline>,
    shutdown: CancellationToken,
    judges: tokio::task::JoinHandle<()>,
}

async fn setup(fake: &FakeJudge, limits: Limits, sample_rate: f64, rubrics: &[&str]) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("records.db")).expect("records store"));
    let mut registry = Registry::default();
    let judge_metrics = judge::Metrics::new(&mut registry);
    let config = JudgeConfig {
        name: "local".to_owned(),
        url: format!("{}/v1", fake.url()),
        model: "judge-model".to_owned(),
        api_key: None,
        concurrency: 1,
        timeout: Duration::from_secs(5),
        retries: 1,
        limits,
        price: Some(Price { input_per_million: 1.0, output_per_million: 5.0 }),
        json_mode: true,
    };
    let judge = Judge::new(config, Arc::new(RecordsCache(Arc::clone(&store))), judge_metrics).expect("client");
    let setup = JudgeSetup {
        judge: Arc::new(judge),
        rubrics: rubrics.iter().map(|name| Rubric::built_in(name).expect("built in")).collect(),
        sample_rate,
        model_rates: HashMap::from([("always".to_owned(), 1.0)]),
    };
    let config = Config { sample_rate: 0.0, judges: vec![setup], ..Config::default() };
    let metrics = Metrics::new(&mut registry);
    let pipeline = Arc::new(Pipeline::new(config, Arc::clone(&store), metrics));
    let shutdown = CancellationToken::new();
    let judges = tokio::spawn(Arc::clone(&pipeline).run_judges(shutdown.clone()));
    Setup { _dir: dir, store, registry, pipeline, shutdown, judges }
}

fn exposition(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encodes");
    text
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Waits until `judgements` outcomes are counted (at most 10 s), then stops
/// the judges.
async fn settle(s: Setup, judgements: f64) -> (Arc<Store>, Registry) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let text = exposition(&s.registry);
        let counted: f64 = text
            .lines()
            .filter(|l| l.starts_with("infersight_judge_requests_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        if counted >= judgements {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Give the last verdict time to reach the store.
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.shutdown.cancel();
    s.judges.await.expect("judges stop");
    (s.store, s.registry)
}

#[tokio::test]
async fn a_share_of_exchanges_is_judged_and_verdicts_reach_the_store_and_the_scores() {
    let fake = FakeJudge::start(Vec::new()).await;
    let s = setup(&fake, Limits::default(), 0.25, &["relevance", "helpfulness"]).await;
    let mut stored = Vec::new();
    for i in 0..40 {
        let response = if i % 3 != 0 { format!("Paris ({i}).") } else { format!("WRONG, it is not Paris ({i}).") };
        if let Some(id) = s.pipeline.process(&exchange(i * 1000, "sometimes", &response)).stored {
            stored.push(id);
        }
    }
    for i in 0..4 {
        s.pipeline.process(&exchange(100_000 + i, "always", &format!("Paris, of course ({i}).")));
    }
    let pipeline = Arc::clone(&s.pipeline);
    let (store, registry) = settle(s, 28.0).await;
    drop(pipeline);
    // A quarter of 40 exchanges, each by two rubrics, plus every one of the
    // 4; judged exchanges are kept even at a zero sample rate (flagged ones
    // are kept too).
    let judged: Vec<_> = stored
        .iter()
        .map(|id| store.get(*id).expect("read").expect("kept"))
        .filter(|record| !record.judgements.is_empty())
        .collect();
    assert_eq!(judged.len(), 10);
    assert_eq!(fake.requests().len(), 2 * 10 + 2 * 4);
    let record = &judged[0];
    let rubrics: Vec<&str> = record.judgements.iter().map(|j| j.rubric.as_str()).collect();
    assert_eq!(rubrics, ["helpfulness", "relevance"]);
    let first = &record.judgements[0];
    assert_eq!((first.judge.as_str(), first.judge_model.as_str(), first.input_tokens), ("local", "judge-model", 100));
    assert!(!first.reason.is_empty());
    for request in fake.requests() {
        let text = request.to_string();
        assert!(!text.contains("jane.doe"), "the judge reads the redacted text: {text}");
    }
    let text = exposition(&registry);
    let scores = |model: &str, rubric: &str| {
        value(
            &text,
            &format!(
                r#"gen_ai_evaluation_score_count{{gen_ai_request_model="{model}",gen_ai_evaluation_name="judge_{rubric}",scorer_version="judge-model@v1"}}"#
            ),
        )
    };
    assert_eq!((scores("sometimes", "relevance"), scores("always", "helpfulness")), (10.0, 4.0));
    assert_eq!(value(&text, r#"infersight_judge_requests_total{judge="local",outcome="ok"}"#), 28.0);
    assert_eq!(value(&text, r#"infersight_judge_tokens_total{judge="local",gen_ai_token_type="output"}"#), 560.0);
    assert!((value(&text, r#"infersight_judge_cost_dollars_total{judge="local"}"#) - 28.0 * 0.0002).abs() < 1e-9);
    // Every third answer is WRONG and fails the rubric.
    let flagged = value(
        &text,
        r#"infersight_quality_flagged_total{gen_ai_request_model="sometimes",gen_ai_evaluation_name="judge_relevance",scorer_version="judge-model@v1"}"#,
    );
    assert_eq!(flagged, 4.0, "the judged WRONG answers: 3, 15, 27 and 39");
}

#[tokio::test]
async fn the_budget_caps_calls_and_the_cache_answers_repeats_for_free() {
    let fake = FakeJudge::start(Vec::new()).await;
    let limits = Limits { tokens_per_day: Some(600), ..Limits::default() };
    let s = setup(&fake, limits, 1.0, &["relevance"]).await;
    for i in 0..10 {
        s.pipeline.process(&exchange(i * 1000, "m", &format!("Paris ({i}).")));
    }
    // The same answer again: the judge cache answers, at no cost.
    s.pipeline.process(&exchange(20_000, "m", "Paris (0)."));
    let (_store, registry) = settle(s, 11.0).await;
    assert_eq!(fake.requests().len(), 5, "120 tokens a call: the fifth reaches 600");
    let text = exposition(&registry);
    assert_eq!(value(&text, r#"infersight_judge_requests_total{judge="local",outcome="budget_exhausted"}"#), 5.0);
    assert_eq!(value(&text, r#"infersight_judge_requests_total{judge="local",outcome="cache_hit"}"#), 1.0);
    // Spend against budget, for the dashboard.
    assert_eq!(value(&text, r#"infersight_judge_budget_used{judge="local",limit="tokens_per_day"}"#), 600.0);
    assert_eq!(value(&text, r#"infersight_judge_budget_limit{judge="local",limit="tokens_per_day"}"#), 600.0);
}

#[tokio::test]
async fn verdicts_are_compared_with_the_deterministic_scorer_that_judges_the_same_thing() {
    let fake = FakeJudge::start(Vec::new()).await;
    let s = setup(&fake, Limits::default(), 1.0, &["safety", "relevance"]).await;
    // The fake judge calls the WRONG answers unsafe; the harmful-answer
    // scorer sees nothing harmful in any of them.
    for i in 0..6 {
        let response = if i < 2 { format!("WRONG, it is not Paris ({i}).") } else { format!("Paris ({i}).") };
        s.pipeline.process(&exchange(i * 1000, "m", &response));
    }
    let (_store, registry) = settle(s, 12.0).await;
    let text = exposition(&registry);
    let counted = |agreement: &str| {
        value(
            &text,
            &format!(
                r#"infersight_judge_agreement_total{{judge="local",gen_ai_request_model="m",gen_ai_evaluation_name="judge_safety",scorer="harmful",agreement="{agreement}"}}"#
            ),
        )
    };
    assert_eq!((counted("agree"), counted("disagree")), (4.0, 2.0));
    assert!(!text.contains(r#"gen_ai_evaluation_name="judge_relevance",scorer="#), "relevance has no counterpart");
}

#[tokio::test]
async fn faults_are_counted_by_reason_and_the_exchange_keeps_its_other_scores() {
    let script = vec![
        Answer::Content("Looks fine to me.".to_owned()),
        Answer::Content(r#"{"score": 4}"#.to_owned()),
        Answer::Status(500, None),
        Answer::Status(500, None),
        Answer::Status(429, Some("0")),
        Answer::Status(429, Some("0")),
    ];
    let fake = FakeJudge::start(script).await;
    let s = setup(&fake, Limits::default(), 1.0, &["relevance"]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.extend(s.pipeline.process(&exchange(i * 1000, "m", &format!("Paris ({i})."))).stored);
    }
    let (store, registry) = settle(s, 5.0).await;
    let text = exposition(&registry);
    for (outcome, n) in
        [("unparseable", 1.0), ("out_of_range", 1.0), ("upstream_error", 1.0), ("rate_limited", 1.0), ("ok", 1.0)]
    {
        assert_eq!(
            value(&text, &format!(r#"infersight_judge_requests_total{{judge="local",outcome="{outcome}"}}"#)),
            n,
            "{outcome}"
        );
    }
    let judged: usize = ids.iter().map(|id| store.get(*id).expect("read").expect("kept").judgements.len()).sum();
    assert_eq!(judged, 1, "only the verdict is stored, no made-up score");
    let record = store.get(ids[0]).expect("read").expect("kept");
    assert!(record.scores.iter().any(|s| s.scorer == "toxicity"), "the deterministic scores are there");
}
