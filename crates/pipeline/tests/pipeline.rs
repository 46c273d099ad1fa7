//! The quality pipeline end to end on a real records store: scoring, metrics, sampling, redaction, drift.

use std::sync::Arc;
use std::time::Duration;

use inference::Usage;
use pipeline::drift::Verdict;
use pipeline::sampler::{Decision, Reason};
use pipeline::{Config, Metrics, Pipeline, TextPolicy};
use prometheus_client::registry::Registry;
use records::{Filter, ScoreTarget, Store};
use tokio_util::sync::CancellationToken;

mod support;

use support::exchange;

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    registry: Registry,
    pipeline: Arc<Pipeline>,
}

fn setup(config: Config) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("records.db")).expect("records store"));
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    let pipeline = Arc::new(Pipeline::new(config, Arc::clone(&store), metrics));
    Setup { _dir: dir, store, registry, pipeline }
}

fn exposition(registry: &Registry) -> String {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encodes");
    text
}

fn line_value(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

const LEAK: &str = "Sure, write to jane.doe@example.com for a refund.";

#[test]
fn a_leaked_email_is_flagged_kept_redacted_and_counted_for_its_model_only() {
    let s = setup(Config { sample_rate: 0.0, ..Config::default() });
    let leaked = s.pipeline.process(&exchange(1_000, "llama", "user: how do I get a refund?", LEAK));
    assert_eq!(leaked.decision, Decision::Keep(Reason::Flagged));
    let clean = s.pipeline.process(&exchange(2_000, "qwen", "user: hi", "Hello! How can I help today?"));
    assert_eq!(clean.decision, Decision::Skip, "nothing flagged and a zero sample rate");

    let id = leaked.stored.expect("stored");
    let record = s.store.get(id).expect("read").expect("kept");
    assert_eq!(record.exchange.response, "Sure, write to [EMAIL_ADDRESS] for a refund.");
    assert!(!record.exchange.response.contains("jane.doe"));
    let pii = record.scores.iter().find(|r| r.scorer == "pii").expect("pii score");
    assert!(pii.label);
    assert_eq!(pii.target, ScoreTarget::Response);
    let chars: Vec<char> = record.exchange.response.chars().collect();
    let evidence = &pii.evidence[0];
    assert_eq!(chars[evidence.start..evidence.end].iter().collect::<String>(), "[EMAIL_ADDRESS]");
    assert_eq!(s.store.count().expect("count"), 1);

    let text = exposition(&s.registry);
    let flagged = r#"infersight_quality_flagged_total{gen_ai_request_model="llama",gen_ai_evaluation_name="pii",scorer_version="pii-rules-3"}"#;
    assert_eq!(line_value(&text, flagged), Some(1.0), "{text}");
    assert!(
        !text.contains(r#"infersight_quality_flagged_total{gen_ai_request_model="qwen",gen_ai_evaluation_name="pii"}"#)
    );
    let found = r#"infersight_quality_findings_total{gen_ai_request_model="llama",gen_ai_evaluation_name="pii",kind="EMAIL_ADDRESS"}"#;
    assert_eq!(line_value(&text, found), Some(1.0), "what kind of PII leaked is counted too: {text}");
    let qwen_scores = r#"gen_ai_evaluation_score_count{gen_ai_request_model="qwen",gen_ai_evaluation_name="pii",scorer_version="pii-rules-3"}"#;
    assert_eq!(line_value(&text, qwen_scores), Some(1.0), "every scored exchange is observed, kept or not");
    assert!(!text.contains("jane.doe"), "user text never reaches metrics");
}

#[test]
fn the_prompt_is_redacted_too_and_extra_patterns_apply() {
    let patterns = vec![regex::Regex::new(r"ACCT-\d+").expect("pattern")];
    let s = setup(Config { sample_rate: 1.0, text: TextPolicy::Redacted { patterns }, ..Config::default() });
    let outcome =
        s.pipeline.process(&exchange(1_000, "llama", "user: I am bob@corp.example, account ACCT-9912", "Noted."));
    let record = s.store.get(outcome.stored.expect("stored")).expect("read").expect("kept");
    assert_eq!(record.exchange.prompt, "user: I am [EMAIL_ADDRESS], account [REDACTED]");
}

#[test]
fn with_no_text_kept_only_timings_tokens_and_scores_are_stored() {
    let s = setup(Config { sample_rate: 1.0, text: TextPolicy::None, ..Config::default() });
    let outcome = s.pipeline.process(&exchange(1_000, "llama", "user: mail me", LEAK));
    let record = s.store.get(outcome.stored.expect("stored")).expect("read").expect("kept");
    assert_eq!((record.exchange.prompt.as_str(), record.exchange.response.as_str()), ("", ""));
    assert_eq!(record.exchange.usage, Some(Usage { input_tokens: 10, output_tokens: 20 }));
    let pii = record.scores.iter().find(|r| r.scorer == "pii").expect("pii score");
    assert!(pii.label && pii.evidence.is_empty(), "no offsets into text that is not there");
}

#[test]
fn errors_are_always_kept_and_the_rate_keeps_its_share() {
    let s = setup(Config { sample_rate: 0.25, ..Config::default() });
    let mut failed = exchange(0, "llama", "user: hi", "");
    failed.status = 502;
    failed.error_type = Some("502".to_owned());
    assert_eq!(s.pipeline.process(&failed).decision, Decision::Keep(Reason::Error));
    let kept = (0..40)
        .filter(|i| s.pipeline.process(&exchange(i * 1000, "llama", "user: hi", "Hello there.")).stored.is_some())
        .count();
    assert_eq!(kept, 10);
}

#[tokio::test]
async fn run_processes_everything_sent_and_stops_when_the_channel_closes() {
    let s = setup(Config { sample_rate: 1.0, ..Config::default() });
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let task = tokio::spawn(Arc::clone(&s.pipeline).run(rx, CancellationToken::new()));
    for i in 0..100 {
        tx.send(exchange(i, "llama", "user: hi", "Hello there.")).await.expect("pipeline running");
    }
    drop(tx);
    task.await.expect("pipeline ends");
    assert_eq!(
        s.store.search(&Filter { limit: Some(1000), ..Filter::default() }).expect("search").exchanges.len(),
        100
    );
}

#[test]
fn drift_fires_for_the_model_whose_answers_changed_and_not_for_the_steady_one() {
    let schedule = pipeline::drift::Schedule {
        window: Duration::from_secs(3600),
        baseline_offset: Duration::from_secs(24 * 3600),
        min_exchanges: 30,
        ..pipeline::drift::Schedule::default()
    };
    let s = setup(Config { sample_rate: 1.0, drift: schedule, ..Config::default() });
    let day = 24 * 3_600_000;
    let now = 10 * day;
    let cooking =
        |i: i64| format!("To make soup number {i}, simmer onions, carrots and stock for twenty minutes, then season.");
    let refusing = |_: i64| "I'm sorry, but I can't help with that request.".to_owned();
    for i in 0..120 {
        let t = now - 3_600_000 + i * 20_000;
        s.pipeline.process(&exchange(t - day, "steady", "user: soup?", &cooking(i)));
        s.pipeline.process(&exchange(t, "steady", "user: soup?", &cooking((i * 7) % 120)));
        s.pipeline.process(&exchange(t - day, "swapped", "user: soup?", &cooking(i)));
        s.pipeline.process(&exchange(t, "swapped", "user: soup?", &refusing(i)));
    }
    let reports = s.pipeline.run_drift(now + 1);
    let verdict = |model: &str| reports.iter().find(|(m, _)| m == model).map(|(_, v)| drifted(v));
    assert_eq!(verdict("swapped"), Some(true));
    assert_eq!(verdict("steady"), Some(false));
    let text = exposition(&s.registry);
    assert_eq!(line_value(&text, r#"infersight_quality_drift_detected{gen_ai_request_model="swapped"}"#), Some(1.0));
    assert_eq!(line_value(&text, r#"infersight_quality_drift_detected{gen_ai_request_model="steady"}"#), Some(0.0));
}

fn drifted(verdict: &Verdict) -> bool {
    match verdict {
        Verdict::Tested { report, .. } => report.drift,
        Verdict::BaselineDrifted => panic!("no verdict"),
    }
}

#[test]
fn a_window_found_drifted_is_never_a_baseline() {
    const HOUR: i64 = 3_600_000;
    let schedule = pipeline::drift::Schedule {
        window: Duration::from_secs(3600),
        baseline_offset: Duration::from_secs(2 * 3600),
        min_exchanges: 30,
        ..pipeline::drift::Schedule::default()
    };
    let s = setup(Config { sample_rate: 1.0, drift: schedule, ..Config::default() });
    // One exchange a minute for 11 hours; each hour of healthy answers has
    // the same words. "brief" refuses from hour 4 to 5, "lasting" from hour 4 on.
    let cooking =
        |i: i64| format!("To make soup number {i}, simmer onions, carrots and stock for twenty minutes, then season.");
    let refusing = "I'm sorry, but I can't help with that request.".to_owned();
    for minute in 0..11 * 60 {
        let t = minute * 60_000 + 1;
        let hour = minute / 60;
        let healthy = cooking(minute % 60);
        let brief = if hour == 4 { refusing.clone() } else { healthy.clone() };
        let lasting = if hour >= 4 { refusing.clone() } else { healthy };
        s.pipeline.process(&exchange(t, "brief", "user: soup?", &brief));
        s.pipeline.process(&exchange(t, "lasting", "user: soup?", &lasting));
    }
    let verdicts = |hour: i64| s.pipeline.run_drift(hour * HOUR);
    let of = |verdicts: &[(String, Verdict)], model: &str| {
        verdicts.iter().find(|(m, _)| m == model).map(|(_, v)| v.clone()).expect("a verdict")
    };
    let baseline_end = |verdict: &Verdict| match verdict {
        Verdict::Tested { baseline_end, .. } => *baseline_end / HOUR,
        Verdict::BaselineDrifted => panic!("no verdict"),
    };
    let gauge = |model: &str| {
        let line = format!(r#"infersight_quality_drift_detected{{gen_ai_request_model="{model}"}}"#);
        line_value(&exposition(&s.registry), &line)
    };

    assert!(!drifted(&of(&verdicts(3), "brief")), "healthy against healthy");
    let at_5 = verdicts(5);
    assert!(drifted(&of(&at_5, "brief")) && drifted(&of(&at_5, "lasting")), "both start refusing in hour 4");
    assert_eq!(gauge("brief"), Some(1.0));
    let at_6 = verdicts(6);
    assert!(!drifted(&of(&at_6, "brief")));
    assert!(drifted(&of(&at_6, "lasting")));

    // Two hours on, hour 4 would be the baseline: healthy answers against
    // the incident would be a second alarm about it. The hour before serves.
    let at_7 = verdicts(7);
    assert!(!drifted(&of(&at_7, "brief")), "no echo of the incident");
    assert_eq!(baseline_end(&of(&at_7, "brief")), 4);
    assert_eq!(gauge("brief"), Some(0.0));
    assert!(drifted(&of(&at_7, "lasting")), "measured against the last healthy hour");
    assert_eq!(baseline_end(&of(&at_7, "lasting")), 4);
    assert!(drifted(&of(&verdicts(8), "lasting")));

    // A lasting change: once the drifted hours fill the baseline's reach
    // (one more offset back), there is no verdict and the alert ends...
    assert_eq!(of(&verdicts(9), "lasting"), Verdict::BaselineDrifted);
    assert_eq!(gauge("lasting"), Some(0.0));
    assert_eq!(of(&verdicts(10), "lasting"), Verdict::BaselineDrifted);
    // ...and the changed answers become the reference.
    let at_11 = of(&verdicts(11), "lasting");
    assert!(!drifted(&at_11));
    assert_eq!(baseline_end(&at_11), 9);
}

#[test]
fn a_score_rate_scores_that_share_and_every_failure() {
    let s = setup(Config { score_rate: 0.5, sample_rate: 1.0, ..Config::default() });
    let scored = (0..40)
        .filter(|i| !s.pipeline.process(&exchange(i * 1000, "llama", "user: hi", "Hello there.")).scores.is_empty())
        .count();
    assert_eq!(scored, 20);
    let mut failed = exchange(0, "llama", "user: hi", "");
    failed.status = 500;
    for _ in 0..3 {
        assert!(!s.pipeline.process(&failed).scores.is_empty(), "failures are always scored");
    }
    let text = exposition(&s.registry);
    assert_eq!(line_value(&text, r#"infersight_exchanges_unscored_total{gen_ai_request_model="llama"}"#), Some(20.0));
}

#[test]
fn many_threads_decide_exactly_as_one_does() {
    // A systematic share of scoring and sampling, and a minute's budget
    // that bites: every decision depends on the exchanges before it.
    let config = || Config { score_rate: 0.5, sample_rate: 0.3, budget_per_minute: 4, ..Config::default() };
    let batch: Vec<_> = (0..400)
        .map(|i| {
            let response = if i % 7 == 0 { LEAK } else { "Hello there." };
            exchange(i * 500, if i % 3 == 0 { "qwen" } else { "llama" }, "user: hi", response)
        })
        .collect();
    let decide = |threads: usize| {
        let s = setup(config());
        let outcomes = s.pipeline.process_all(&batch, threads);
        let page = s.store.search(&Filter { limit: Some(1000), ..Filter::default() }).expect("search");
        let mut kept: Vec<i64> = page.exchanges.iter().map(|e| e.exchange.time_ms).collect();
        kept.sort_unstable();
        (outcomes.into_iter().map(|o| (o.scores.len(), o.decision)).collect::<Vec<_>>(), kept)
    };
    let (one, kept_by_one) = decide(1);
    assert!(one.iter().any(|(_, d)| *d == Decision::OverBudget), "the budget bites");
    for threads in [2, 4, 7] {
        let (many, kept_by_many) = decide(threads);
        assert_eq!(many, one, "decisions on {threads} threads");
        assert_eq!(kept_by_many, kept_by_one, "exchanges kept on {threads} threads");
    }
}
