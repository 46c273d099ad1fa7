//! The records store, through its public API on a real SQLite file.

use std::time::Duration;

use inference::{Exchange, GapSummary, Operation, Timings, Usage};
use records::{Erasure, Error, Evidence, FeedbackRecord, Filter, ScoreRecord, ScoreTarget, StatusFilter, Store};

fn exchange(time_ms: i64, model: &str, status: u16) -> Exchange {
    Exchange {
        id: String::new(),
        time_ms,
        operation: Operation::Chat,
        request_model: model.to_owned(),
        response_model: Some(format!("{model}-0613")),
        upstream: "a".to_owned(),
        provider: "vllm".to_owned(),
        gateway_key: String::new(),
        user: None,
        session: None,
        stream: true,
        status,
        error_type: None,
        finish_reason: Some("stop".to_owned()),
        timings: Timings {
            ttft: Some(Duration::from_millis(250)),
            e2e: Duration::from_millis(1500),
            gaps: GapSummary { count: 9, mean: Duration::from_millis(20), max: Duration::from_millis(90) },
        },
        usage: Some(Usage { input_tokens: 30, output_tokens: 10 }),
        prompt: "user: what is my address?".to_owned(),
        response: "It is [EMAIL_ADDRESS].".to_owned(),
    }
}

fn pii_score() -> ScoreRecord {
    ScoreRecord {
        scorer: "pii".to_owned(),
        target: ScoreTarget::Response,
        value: 1.0,
        label: true,
        evidence: vec![Evidence { start: 6, end: 21, kind: "EMAIL_ADDRESS".to_owned() }],
        version: "pii-rules-3".to_owned(),
    }
}

#[test]
fn an_exchange_and_its_scores_read_back_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let written = exchange(1_000, "llama", 200);
    let id = store.insert(&written).expect("records store");
    store.insert_scores(id, &[pii_score()]).expect("records store");

    let record = store.get(id).expect("records store").expect("stored");
    assert_eq!(record.id, id);
    assert_eq!(record.exchange, written);
    assert_eq!(record.scores, vec![pii_score()]);
    assert!(store.get(id + 1).expect("records store").is_none());
}

#[test]
fn records_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("records.db");
    let id = {
        let store = Store::open(&path).expect("records store");
        store.insert(&exchange(1_000, "llama", 200)).expect("records store")
    };
    let store = Store::open(&path).expect("records store");
    assert_eq!(store.get(id).expect("records store").expect("kept").exchange.request_model, "llama");
}

#[test]
fn search_filters_by_model_key_time_status_latency_and_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let ok = store.insert(&exchange(1_000, "llama", 200)).expect("records store");
    let failed = store.insert(&exchange(2_000, "llama", 502)).expect("records store");
    let mut slow = exchange(3_000, "qwen", 200);
    slow.timings.e2e = Duration::from_secs(9);
    slow.gateway_key = "team-a".into();
    let slow = store.insert(&slow).expect("records store");
    store.insert_scores(ok, &[pii_score()]).expect("records store");

    let ids = |filter: Filter| -> Vec<i64> {
        store.search(&filter).expect("records store").exchanges.iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(Filter::default()), vec![slow, failed, ok], "newest first");
    assert_eq!(ids(Filter { model: Some("llama".into()), ..Filter::default() }), vec![failed, ok]);
    assert_eq!(ids(Filter { gateway_key: Some("team-a".into()), ..Filter::default() }), vec![slow]);
    assert_eq!(store.get(slow).expect("records store").expect("kept").exchange.gateway_key, "team-a");
    assert_eq!(ids(Filter { start_ms: Some(1_500), end_ms: Some(2_500), ..Filter::default() }), vec![failed]);
    assert_eq!(ids(Filter { status: Some(StatusFilter::Error), ..Filter::default() }), vec![failed]);
    assert_eq!(ids(Filter { status: Some(StatusFilter::Ok), ..Filter::default() }), vec![slow, ok]);
    assert_eq!(ids(Filter { status: Some(StatusFilter::Code(502)), ..Filter::default() }), vec![failed]);
    assert_eq!(ids(Filter { min_latency: Some(Duration::from_secs(5)), ..Filter::default() }), vec![slow]);
    assert_eq!(ids(Filter { flagged_by: Some("pii".into()), ..Filter::default() }), vec![ok]);
    assert_eq!(ids(Filter { flagged_by: Some(String::new()), ..Filter::default() }), vec![ok]);
    assert_eq!(ids(Filter { flagged_by: Some("toxicity".into()), ..Filter::default() }), Vec::<i64>::new());
}

#[test]
fn issue_20_search_finds_the_exchanges_of_a_user_or_a_session() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let alice = store.insert(&of_subject(1_000, Some("alice"), Some("s-1"), "hello")).expect("insert");
    let bob = store.insert(&of_subject(2_000, Some("bob"), Some("s-1"), "hi")).expect("insert");
    let nobody = store.insert(&of_subject(3_000, None, None, "hey")).expect("insert");
    let ids = |filter: Filter| -> Vec<i64> {
        store.search(&filter).expect("records store").exchanges.iter().map(|r| r.id).collect()
    };
    assert_eq!(ids(Filter { user: Some("alice".into()), ..Filter::default() }), vec![alice]);
    assert_eq!(ids(Filter { session: Some("s-1".into()), ..Filter::default() }), vec![bob, alice]);
    assert_eq!(ids(Filter::default()), vec![nobody, bob, alice]);
    let stored = store.get(alice).expect("read").expect("kept").exchange;
    assert_eq!((stored.user.as_deref(), stored.session.as_deref()), (Some("alice"), Some("s-1")));
    assert_eq!(store.get(nobody).expect("read").expect("kept").exchange.user, None);
}

#[test]
fn search_pages_through_everything_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    for t in 0..25 {
        store.insert(&exchange(t, "llama", 200)).expect("records store");
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.search(&Filter { limit: Some(10), before, ..Filter::default() }).expect("records store");
        assert!(page.exchanges.len() <= 10);
        seen.extend(page.exchanges.iter().map(|r| r.exchange.time_ms));
        match page.next_before {
            Some(id) => before = Some(id),
            None => break,
        }
    }
    assert_eq!(seen, (0..25).rev().collect::<Vec<_>>());
}

#[test]
fn retention_drops_old_exchanges_then_the_oldest_past_the_size_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let hour = 3_600_000;
    for h in 0..10 {
        let id = store.insert(&exchange(h * hour, "llama", 200)).expect("records store");
        store.insert_scores(id, &[pii_score()]).expect("records store");
    }
    let deleted = store.enforce_retention(10 * hour, Some(Duration::from_secs(6 * 3600)), None).expect("records store");
    assert_eq!(deleted, 4, "exchanges of hours 0..4 are older than 6h");

    let one = store.search(&Filter::default()).expect("records store").exchanges.len();
    assert_eq!(one, 6);
    // Each exchange counts its text plus a fixed overhead; keep about three.
    let size = exchange(0, "llama", 200);
    let each = (size.prompt.len() + size.response.len() + size.request_model.len() + 200) as u64;
    store.enforce_retention(10 * hour, None, Some(3 * each)).expect("records store");
    let kept: Vec<i64> = store
        .search(&Filter::default())
        .expect("records store")
        .exchanges
        .iter()
        .map(|r| r.exchange.time_ms / hour)
        .collect();
    assert_eq!(kept, vec![9, 8, 7], "the newest three fit the cap");
}

#[test]
fn drift_windows_read_successful_texts_of_one_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    store.insert(&exchange(1_000, "llama", 200)).expect("records store");
    store.insert(&exchange(2_000, "llama", 500)).expect("records store");
    store.insert(&exchange(3_000, "qwen", 200)).expect("records store");
    store.insert(&exchange(9_000, "llama", 200)).expect("records store");

    let texts = store.texts("llama", 0, 5_000, 100).expect("records store");
    assert_eq!(texts.len(), 1, "failed exchanges and other models stay out");
    assert_eq!(texts[0].1, "It is [EMAIL_ADDRESS].");
    assert_eq!(store.models(0, 5_000).expect("records store"), vec!["llama", "qwen"]);
    assert_eq!(store.models(5_000, 10_000).expect("records store"), vec!["llama"]);
}

fn judgement(rubric: &str, score: f64) -> records::JudgementRecord {
    records::JudgementRecord {
        judge: "local".to_owned(),
        rubric: rubric.to_owned(),
        rubric_version: 1,
        judge_model: "qwen-judge".to_owned(),
        score,
        label: if score >= 0.5 { "correct" } else { "incorrect" }.to_owned(),
        failed: score < 0.5,
        reason: "<b>Matches</b> the reference.".to_owned(),
        input_tokens: 120,
        output_tokens: 18,
        dollars: Some(0.0003),
        cached: false,
        time_ms: 5_000,
    }
}

#[test]
fn judgements_read_back_with_their_exchange_and_go_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let id = store.insert(&exchange(1_000, "llama", 200)).expect("insert");
    store.insert_judgement(id, &judgement("correctness", 0.2)).expect("judgement");
    store.insert_judgement(id, &judgement("correctness", 0.9)).expect("a re-judgement replaces");
    store.insert_judgement(id, &judgement("relevance", 0.7)).expect("judgement");
    let record = store.get(id).expect("read").expect("stored");
    let got: Vec<(&str, f64)> = record.judgements.iter().map(|j| (j.rubric.as_str(), j.score)).collect();
    assert_eq!(got, [("correctness", 0.9), ("relevance", 0.7)]);
    assert_eq!(record.judgements[0], judgement("correctness", 0.9));

    store.enforce_retention(1_000_000, Some(Duration::from_secs(60)), None).expect("retention");
    assert!(store.get(id).expect("read").is_none());
}

#[test]
fn the_judge_cache_answers_by_key_until_retention_drops_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    assert_eq!(store.cached_verdict(u64::MAX).expect("read"), None);
    store.cache_verdict(u64::MAX, r#"{"score": 1.0}"#, 1_000).expect("cache");
    assert_eq!(store.cached_verdict(u64::MAX).expect("read").as_deref(), Some(r#"{"score": 1.0}"#));
    store.enforce_retention(1_000_000, Some(Duration::from_secs(60)), None).expect("retention");
    assert_eq!(store.cached_verdict(u64::MAX).expect("read"), None);
}

#[test]
fn issue_20_reads_are_audited_outlive_their_exchange_and_go_with_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("open");
    let first = store.insert(&exchange(1_000, "m", 200)).expect("insert");
    let second = store.insert(&exchange(2_000, "m", 200)).expect("insert");
    store.record_reads("alice", &[first, second], "search", 5_000).expect("audit");
    store.record_reads("grafana", &[second], "get", 6_000).expect("audit");
    store.record_reads("nobody", &[], "search", 6_500).expect("nothing read, nothing written");
    let reads = store.reads(10).expect("reads");
    let seen: Vec<(&str, i64, &str, i64)> =
        reads.iter().map(|r| (r.reader.as_str(), r.exchange_id, r.how.as_str(), r.time_ms)).collect();
    assert_eq!(
        seen,
        [("grafana", second, "get", 6_000), ("alice", second, "search", 5_000), ("alice", first, "search", 5_000)]
    );

    // The exchanges go by age first; their audit stays until it is as old.
    store.enforce_retention(5_500, Some(Duration::from_millis(3_000)), None).expect("retention");
    assert_eq!(store.count().expect("count"), 0);
    assert_eq!(store.reads(10).expect("reads").len(), 3);
    store.enforce_retention(8_500, Some(Duration::from_millis(3_000)), None).expect("retention");
    assert_eq!(store.reads(10).expect("reads").len(), 1, "reads older than the limit are dropped");
}

/// An exchange of `user` in `session` whose prompt is `prompt`.
fn of_subject(time_ms: i64, user: Option<&str>, session: Option<&str>, prompt: &str) -> Exchange {
    Exchange {
        user: user.map(str::to_owned),
        session: session.map(str::to_owned),
        prompt: format!("user: {prompt}"),
        ..exchange(time_ms, "llama", 200)
    }
}

/// A store with two exchanges of alice (session `a-1` at 1s, `a-2` at 5s)
/// and one of bob (session `b-1` at 3s), each scored, judged (its verdict
/// cached at its time), given feedback and read once.
struct Subjects {
    _dir: tempfile::TempDir,
    store: Store,
    alice: [i64; 2],
    bob: i64,
}

fn subjects() -> Subjects {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("records.db")).expect("records store");
    let mut stored = Vec::new();
    for (time_ms, user, session) in [(1_000, "alice", "a-1"), (3_000, "bob", "b-1"), (5_000, "alice", "a-2")] {
        let id = store.insert(&of_subject(time_ms, Some(user), Some(session), "my address")).expect("insert");
        store.insert_scores(id, &[pii_score()]).expect("scores");
        store
            .insert_judgement(id, &records::JudgementRecord { time_ms, ..judgement("correctness", 0.9) })
            .expect("judged");
        store.cache_verdict(time_ms as u64, r#"{"score": 0.9}"#, time_ms).expect("cached");
        let feedback = FeedbackRecord { time_ms, value: "down".into(), score: None, comment: "wrong".into() };
        store.insert_feedback(id, &feedback).expect("feedback");
        store.record_reads("dpo", &[id], "get", time_ms + 1).expect("audit");
        stored.push(id);
    }
    Subjects { _dir: dir, store, alice: [stored[0], stored[2]], bob: stored[1] }
}

impl Subjects {
    /// Whether exchange `id` and each thing hanging off it are still stored.
    fn is_whole(&self, id: i64, time_ms: i64) -> bool {
        let Some(record) = self.store.get(id).expect("read") else { return false };
        assert_eq!(record.scores.len(), 1, "{id} kept its score");
        assert_eq!(record.judgements.len(), 1, "{id} kept its judgement");
        assert_eq!(record.feedback.len(), 1, "{id} kept its feedback");
        assert!(self.store.cached_verdict(time_ms as u64).expect("read").is_some(), "{id} kept its cached verdict");
        true
    }

    /// Whether nothing of exchange `id` is left but its audited reads.
    fn is_gone(&self, id: i64, time_ms: i64) -> bool {
        self.store.get(id).expect("read").is_none()
            && self.store.judgements(id).expect("read").is_empty()
            && self.store.cached_verdict(time_ms as u64).expect("read").is_none()
            && self.store.model_of(id).expect("read").is_none()
    }

    fn erase(&self, erasure: Erasure) -> usize {
        self.store.erase(&erasure).expect("erased")
    }
}

#[test]
fn issue_20_erasing_a_user_removes_their_exchanges_with_scores_judgements_and_feedback_and_nothing_else() {
    let subjects = subjects();
    let [first, second] = subjects.alice;
    assert_eq!(subjects.erase(Erasure { user: Some("alice".into()), ..Erasure::default() }), 2);
    assert!(subjects.is_gone(first, 1_000) && subjects.is_gone(second, 5_000));
    assert!(subjects.is_whole(subjects.bob, 3_000), "another user's exchange is untouched");
    assert_eq!(subjects.store.count().expect("count"), 1);
    // That alice's exchanges were read stays on record; no text is in the audit.
    let reads: Vec<i64> = subjects.store.reads(10).expect("reads").iter().map(|r| r.exchange_id).collect();
    assert_eq!(reads, [second, subjects.bob, first]);
    assert_eq!(subjects.erase(Erasure { user: Some("alice".into()), ..Erasure::default() }), 0, "erasing twice");
    assert_eq!(subjects.erase(Erasure { user: Some("carol".into()), ..Erasure::default() }), 0, "an unknown user");
}

#[test]
fn issue_20_erasing_a_session_removes_only_its_exchanges() {
    let subjects = subjects();
    let [first, second] = subjects.alice;
    assert_eq!(subjects.erase(Erasure { session: Some("a-2".into()), ..Erasure::default() }), 1);
    assert!(subjects.is_gone(second, 5_000));
    assert!(subjects.is_whole(first, 1_000) && subjects.is_whole(subjects.bob, 3_000));
}

#[test]
fn issue_20_erasing_a_time_range_includes_both_ends() {
    let subjects = subjects();
    let [first, second] = subjects.alice;
    assert_eq!(subjects.erase(Erasure { range_ms: Some((3_000, 5_000)), ..Erasure::default() }), 2);
    assert!(subjects.is_gone(subjects.bob, 3_000) && subjects.is_gone(second, 5_000));
    assert!(subjects.is_whole(first, 1_000));
}

#[test]
fn issue_20_criteria_combine_and_every_one_narrows() {
    let subjects = subjects();
    let [first, second] = subjects.alice;
    let alice_from_2s = Erasure { user: Some("alice".into()), range_ms: Some((2_000, 9_000)), ..Erasure::default() };
    assert_eq!(subjects.erase(alice_from_2s), 1);
    assert!(subjects.is_gone(second, 5_000));
    assert!(subjects.is_whole(first, 1_000) && subjects.is_whole(subjects.bob, 3_000));
    let mismatched = Erasure { user: Some("alice".into()), session: Some("b-1".into()), ..Erasure::default() };
    assert_eq!(subjects.erase(mismatched), 0, "alice has no exchange in bob's session");
    assert!(subjects.is_whole(first, 1_000) && subjects.is_whole(subjects.bob, 3_000));
}

#[test]
fn issue_20_an_erasure_without_criteria_is_refused_and_erases_nothing() {
    let subjects = subjects();
    assert!(matches!(subjects.store.erase(&Erasure::default()), Err(Error::NoErasureCriteria)));
    assert_eq!(subjects.store.count().expect("count"), 3);
}

#[test]
fn issue_20_erased_text_and_ids_are_gone_from_the_files_not_only_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("records.db");
    let store = Store::open(&path).expect("records store");
    const SECRET: &str = "my passport number is XK-5523-9914";
    const USER: &str = "alice-4f1c@example.com";
    const SESSION: &str = "session-8d2e71b0";
    // Enough rows to spread over several pages, and bob's to keep them company.
    for i in 0..200 {
        let (user, session, prompt) = if i % 2 == 0 {
            (USER, SESSION, format!("{SECRET} ({i})"))
        } else {
            ("bob", "session-bob", format!("the weather today ({i})"))
        };
        let id = store.insert(&of_subject(i, Some(user), Some(session), &prompt)).expect("insert");
        store.insert_scores(id, &[pii_score()]).expect("scores");
    }
    let bytes_of_files = || -> Vec<u8> {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal"] {
            bytes.extend(std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default());
        }
        bytes
    };
    let contains = |haystack: &[u8], needle: &str| haystack.windows(needle.len()).any(|w| w == needle.as_bytes());
    let before = bytes_of_files();
    assert!(contains(&before, SECRET) && contains(&before, USER) && contains(&before, SESSION), "stored at first");

    assert_eq!(store.erase(&Erasure { user: Some(USER.into()), ..Erasure::default() }).expect("erased"), 100);
    let after = bytes_of_files();
    for gone in [SECRET, USER, SESSION] {
        assert!(!contains(&after, gone), "{gone:?} is still in the database files after its erasure");
    }
    assert!(contains(&after, "the weather today"), "bob's exchanges stay");
    assert_eq!(store.count().expect("count"), 100);
}
