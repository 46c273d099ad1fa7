//! Windows, budgets and refusals of one key, on a clock the tests move.

use std::sync::atomic::{AtomicI64, Ordering};

use access::SecretHash;

use super::*;

/// Noon UTC of some day, in milliseconds.
const NOON_MS: i64 = 1_750_000_000_000 / DAY_MS * DAY_MS + DAY_MS / 2;

struct Fixture {
    now: Arc<AtomicI64>,
    clock: Clock,
    key: Arc<Key>,
}

fn fixture(limits: Limits, prices: &[TokenPrice]) -> Fixture {
    let now = Arc::new(AtomicI64::new(NOON_MS));
    let read = Arc::clone(&now);
    let clock: Clock = Arc::new(move || read.load(Ordering::SeqCst));
    let settings = KeySettings {
        name: "team-a".into(),
        hash: SecretHash::sha256_of("sk-team-a"),
        models: vec![ModelPattern::new("m"), ModelPattern::new("llama-*")],
        limits,
    };
    Fixture { now, clock, key: Arc::new(Key::new(settings, prices)) }
}

impl Fixture {
    fn advance_ms(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    fn admit(&self) -> Result<Admission, Refusal> {
        self.key.admit("m", &self.clock)
    }
}

fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
    Usage { input_tokens, output_tokens }
}

#[test]
fn models_are_names_or_globs_and_nothing_else() {
    let f = fixture(Limits::default(), &[]);
    assert!(f.key.allows("m") && f.key.allows("llama-3"));
    assert!(!f.key.allows("mm") && !f.key.allows("gpt-4o"));
}

#[test]
fn requests_per_minute_slide_second_by_second() {
    let f = fixture(Limits { requests_per_minute: Some(3), ..Limits::default() }, &[]);
    f.admit().expect("first");
    f.advance_ms(10_500);
    f.admit().expect("second");
    f.admit().expect("third");
    let refusal = f.admit().expect_err("fourth in the same minute");
    assert_eq!((refusal.limit, refusal.retry_after_s), (Limit::RequestsPerMinute, 50));
    assert_eq!(refusal.limit.error_type(), "rate_limit_exceeded");
    f.advance_ms(49_000);
    assert_eq!(f.admit().expect_err("a second early").retry_after_s, 1);
    f.advance_ms(1_000);
    f.admit().expect("the first request has left the window");
    assert_eq!(f.admit().expect_err("three again").retry_after_s, 10);
}

#[test]
fn tokens_per_minute_count_finished_requests_usage() {
    let f = fixture(Limits { tokens_per_minute: Some(100), ..Limits::default() }, &[]);
    let first = f.admit().expect("nothing used yet");
    let second = f.admit().expect("the first has not finished");
    first.charge(usage(20, 40));
    f.advance_ms(5_000);
    f.admit().expect("60 of 100 tokens");
    second.charge(usage(30, 10));
    let refusal = f.admit().expect_err("100 of 100 tokens");
    assert_eq!((refusal.limit, refusal.retry_after_s), (Limit::TokensPerMinute, 55));
    f.advance_ms(55_000);
    f.admit().expect("the first 60 tokens have left the window");
}

#[test]
fn daily_tokens_stop_at_the_budget_until_midnight_utc() {
    let f = fixture(Limits { daily_tokens: Some(100), ..Limits::default() }, &[]);
    for _ in 0..4 {
        f.admit().expect("under the budget").charge(usage(10, 20));
    }
    let refusal = f.admit().expect_err("120 of 100 tokens");
    assert_eq!((refusal.limit, refusal.retry_after_s), (Limit::DailyTokens, 12 * 3600));
    assert_eq!(refusal.limit.error_type(), "insufficient_quota");
    assert!(refusal.message("team-a").contains("daily budget of 100 tokens"), "{}", refusal.message("team-a"));
    f.advance_ms(12 * 3600 * 1000 - 1);
    assert_eq!(f.admit().expect_err("a millisecond before midnight").retry_after_s, 1);
    f.advance_ms(1);
    f.admit().expect("a new UTC day");
}

#[test]
fn daily_dollars_price_input_and_output_apart() {
    let price = TokenPrice { model: "m".into(), input_per_token: 1e-6, output_per_token: 4e-6 };
    let f = fixture(Limits { daily_dollars: Some(0.01), ..Limits::default() }, &[price]);
    // 1,000 input and 500 output tokens: $0.001 + $0.002.
    for _ in 0..3 {
        f.admit().expect("under $0.01").charge(usage(1_000, 500));
    }
    f.admit().expect("$0.009").charge(usage(1_000, 500));
    let refusal = f.admit().expect_err("$0.012 of $0.01");
    assert_eq!(refusal.limit, Limit::DailyDollars);
    assert!(refusal.message("team-a").contains("$0.01"), "{}", refusal.message("team-a"));
}

#[test]
fn a_window_forgets_buckets_older_than_a_minute() {
    let mut window = Window::default();
    window.add(100, 5);
    window.add(130, 5);
    assert_eq!(window.retry_after(130, 10), Some(30));
    assert_eq!(window.retry_after(160, 10), None, "the bucket of second 100 is gone");
    window.add(160, 1);
    assert_eq!(window.live(160), [(130, 5), (160, 1)]);
    window.add(190, 1);
    assert_eq!(window.live(190), [(160, 1), (190, 1)], "second 190 took the slot of second 130");
}
