//! Judges against a fake OpenAI-compatible judge on a loopback port: every
//! fault counted by reason, the cache and the budget exact, and an eval
//! run over labelled items.

use std::sync::Arc;
use std::time::{Duration, Instant};

use judge::{Input, Judge, JudgeConfig, Limits, MemoryCache, Metrics, Outcome, Price, Rubric};
use testkit::judge::{Answer, FakeJudge};

fn config(url: &str) -> JudgeConfig {
    JudgeConfig {
        name: "j".to_string(),
        url: format!("{url}/v1"),
        model: "judge-model".to_string(),
        api_key: Some("sk-judge-secret".to_string()),
        concurrency: 2,
        timeout: Duration::from_secs(5),
        retries: 2,
        limits: Limits::default(),
        price: Some(Price { input_per_million: 1.0, output_per_million: 5.0 }),
        json_mode: true,
    }
}

fn judge_with(config: JudgeConfig) -> (Judge, prometheus_client::registry::Registry) {
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = Metrics::new(&mut registry);
    (Judge::new(config, Arc::new(MemoryCache::default()), metrics).expect("client"), registry)
}

fn exposition(registry: &prometheus_client::registry::Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encodes");
    text
}

const INPUT: Input<'static> = Input { prompt: "What is 6 x 7?", response: "42", reference: Some("42") };

fn correctness() -> Rubric {
    Rubric::built_in("correctness").expect("built in")
}

#[tokio::test]
async fn a_verdict_comes_back_with_its_cost_and_a_repeat_costs_nothing() {
    let fake = FakeJudge::start(Vec::new()).await;
    let (judge, registry) = judge_with(config(fake.url()));
    let Outcome::Judged(first) = judge.judge(&INPUT, &correctness(), 0).await else { panic!("judged") };
    assert_eq!((first.verdict.score, first.verdict.label.as_str(), first.cached), (0.9, "correct", false));
    assert_eq!((first.input_tokens, first.output_tokens), (100, 20));
    assert!((first.dollars.expect("priced") - 0.0002).abs() < 1e-12);
    let Outcome::Judged(second) = judge.judge(&INPUT, &correctness(), 1).await else { panic!("judged") };
    assert!(second.cached && second.verdict == first.verdict);
    assert_eq!(fake.requests().len(), 1, "the cache answered the second time");

    let request = &fake.requests()[0];
    assert_eq!(request["model"], "judge-model");
    assert_eq!(request["response_format"]["type"], "json_object");
    assert!(request["messages"][1]["content"].as_str().expect("text").contains("<reference>\n42\n</reference>"));

    let text = exposition(&registry);
    for line in [
        r#"infersight_judge_requests_total{judge="j",outcome="ok"} 1"#,
        r#"infersight_judge_requests_total{judge="j",outcome="cache_hit"} 1"#,
        r#"infersight_judge_tokens_total{judge="j",gen_ai_token_type="input"} 100"#,
        r#"infersight_judge_duration_seconds_count{judge="j"} 1"#,
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert!(text.contains(r#"infersight_judge_cost_dollars_total{judge="j"} 0.0002"#), "{text}");
    assert!(!text.contains("sk-judge-secret") && !format!("{judge:?}").contains("sk-judge-secret"));
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_wait_they_ask_for() {
    let fake = FakeJudge::start(vec![Answer::Status(429, Some("1")), Answer::Status(503, None)]).await;
    let (judge, registry) = judge_with(config(fake.url()));
    let started = Instant::now();
    let outcome = judge.judge(&INPUT, &correctness(), 0).await;
    assert!(matches!(outcome, Outcome::Judged(_)), "{outcome:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    assert_eq!(fake.requests().len(), 3);
    assert!(exposition(&registry).contains(r#"infersight_judge_requests_total{judge="j",outcome="ok"} 1"#));
}

#[tokio::test]
async fn each_fault_is_counted_by_reason_and_gives_no_score() {
    let script = vec![
        Answer::Content("I think the answer is right.".to_string()),
        Answer::Content(r#"{"score": 7, "label": "correct"}"#.to_string()),
        Answer::Status(500, None),
        Answer::Status(500, None),
        Answer::Status(500, None),
        Answer::Status(429, Some("0")),
        Answer::Status(429, Some("0")),
        Answer::Status(429, Some("0")),
        Answer::Status(400, None),
        Answer::Content("Score: high".to_string()),
    ];
    let fake = FakeJudge::start(script).await;
    let (judge, registry) = judge_with(config(fake.url()));
    let rubric = correctness();
    let mut reasons = Vec::new();
    for idx in 0..6 {
        // Distinct inputs, so the cache never answers.
        let response = format!("42 ({idx})");
        let input = Input { response: &response, ..INPUT };
        match judge.judge(&input, &rubric, 0).await {
            Outcome::Failed(failure) => reasons.push(failure.reason()),
            Outcome::Judged(_) => reasons.push("ok"),
        }
    }
    assert_eq!(
        reasons,
        ["unparseable", "out_of_range", "upstream_error", "rate_limited", "upstream_error", "unparseable"]
    );
    let no_reference = Input { reference: None, ..INPUT };
    assert!(matches!(judge.judge(&no_reference, &rubric, 0).await, Outcome::Failed(judge::Failure::MissingInput(_))));

    let fake = FakeJudge::start(vec![Answer::Slow(Duration::from_secs(2))]).await;
    let (slow, _) = judge_with(JudgeConfig { timeout: Duration::from_millis(300), ..config(fake.url()) });
    assert_eq!(slow.judge(&INPUT, &rubric, 0).await, Outcome::Failed(judge::Failure::Timeout));

    let text = exposition(&registry);
    for reason in ["unparseable", "out_of_range", "upstream_error", "rate_limited", "missing_input"] {
        assert!(text.contains(&format!(r#"outcome="{reason}""#)), "{reason} counted in\n{text}");
    }
}

#[tokio::test]
async fn a_token_budget_caps_the_calls_exactly() {
    let fake = FakeJudge::start(Vec::new()).await;
    let limits = Limits { tokens_per_day: Some(1_000), requests_per_minute: None, dollars_per_day: None };
    let (judge, registry) = judge_with(JudgeConfig { concurrency: 1, limits, ..config(fake.url()) });
    let rubric = correctness();
    let mut judged = 0;
    for idx in 0..20 {
        let response = format!("42 ({idx})");
        if let Outcome::Judged(_) = judge.judge(&Input { response: &response, ..INPUT }, &rubric, 1_000).await {
            judged += 1;
        }
    }
    // 120 tokens a call: the ninth call passes 1,000 and no tenth starts.
    assert_eq!(judged, 9);
    assert_eq!(fake.requests().len(), 9);
    assert_eq!(judge.budget().usage(), [("tokens_per_day", 1_080.0, 1_000.0)]);
    let text = exposition(&registry);
    assert!(text.contains(r#"infersight_judge_budget_exhausted_total{judge="j",limit="tokens_per_day"} 11"#), "{text}");
    assert!(text.contains(r#"infersight_judge_requests_total{judge="j",outcome="budget_exhausted"} 11"#), "{text}");
}

#[tokio::test]
async fn requests_per_minute_hold_under_concurrency() {
    let fake = FakeJudge::start(Vec::new()).await;
    let limits = Limits { requests_per_minute: Some(5), ..Limits::default() };
    let judge = Arc::new(judge_with(JudgeConfig { concurrency: 4, limits, ..config(fake.url()) }).0);
    let rubric = Arc::new(correctness());
    let tasks: Vec<_> = (0..20)
        .map(|idx| {
            let (judge, rubric) = (Arc::clone(&judge), Arc::clone(&rubric));
            tokio::spawn(async move {
                let response = format!("42 ({idx})");
                judge.judge(&Input { response: &response, ..INPUT }, &rubric, 60_000).await
            })
        })
        .collect();
    let mut judged = 0;
    for task in tasks {
        if let Outcome::Judged(_) = task.await.expect("joins") {
            judged += 1;
        }
    }
    assert_eq!((judged, fake.requests().len()), (5, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eval_run_judges_every_item_in_order_and_counts_what_failed() {
    use judge::eval::{self, Label};
    let fake = FakeJudge::start(Vec::new()).await;
    let judge = Arc::new(judge_with(JudgeConfig { concurrency: 3, ..config(fake.url()) }).0);
    // The fake fails answers that say WRONG; item 7 has no reference, which
    // the correctness rubric needs; item 8 is a false alarm.
    let lines: String = (0..10)
        .map(|idx| {
            let (answer, label) = match idx {
                2 | 5 => ("WRONG", "fail"),
                8 => ("WRONG", "pass"),
                9 => ("fine", "fail"),
                _ => ("fine", "pass"),
            };
            let reference = if idx == 7 { String::new() } else { r#", "reference": "42""#.to_string() };
            format!(
                "{{\"id\": \"q{idx}\", \"prompt\": \"What is 6 x 7? ({idx})\", \"answer\": \"{answer}\"{reference}, \"label\": \"{label}\"}}\n"
            )
        })
        .collect();
    let read = eval::read_items(lines.as_bytes()).expect("reads");
    assert!(read.bad_lines.is_empty(), "{:?}", read.bad_lines);
    let judgements = eval::run(Arc::clone(&judge), &correctness(), read.items, 0).await;

    let ids: Vec<&str> = judgements.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"]);
    assert_eq!(judgements[2].judge_label, Some(Label::Fail));
    assert_eq!(judgements[7].outcome, Err(judge::Failure::MissingInput("a reference")));
    assert_eq!(fake.requests().len(), 9);
    let report = eval::Report::new(&judgements, 0);
    assert_eq!((report.items, report.judged), (10, 9));
    assert_eq!(report.failures.into_iter().collect::<Vec<_>>(), [("missing_input", 1)]);
    let c = report.confusion;
    assert_eq!((c.pass_pass, c.pass_fail, c.fail_pass, c.fail_fail), (5, 1, 1, 2));
}
