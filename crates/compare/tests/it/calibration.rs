//! A/A and power of a comparison on the simulator's traffic: false positives stay near α, and a 10 % TTFT shift is found.
//!
//! Latencies come from the simulator (`sim`, fixed seeds), no incidents.
//! Two cohorts of one configuration: the demo's Llama 3.1 8B setup (two
//! vLLM replicas in two zones, 5 requests/s with the daily curve and rate
//! noise) twice, as two models `llama-a` and `llama-b` served at the same
//! time, which is what `infersight compare` is for (a = one model, b =
//! another), with the same offered load (the rate's slow random wander,
//! which each model would get on its own, is off: it makes one model
//! busier, and so slower, than the other for minutes at a time). TTFT, time per output token and end-to-end duration are binned
//! into the gateway's buckets per block of time, as the API reads
//! `increase(..._bucket[step])` over the range; the cohorts share the
//! block grid, so the comparison is paired. The simulator makes no errors
//! and scores nothing outside incidents, so the error rate, a quality
//! score and its flagged rate are seeded synthetic draws per request (1 %
//! errors; score u², flagged above 0.9, about 5 %), binned into the
//! pipeline's score buckets. The ignored test repeats the A/A with the two
//! replicas of one model as the cohorts (2.5 requests/s each).
//!
//! Figures (printed with `-- --nocapture`) are in `docs/design/compare.md`.

use std::sync::OnceLock;

use compare::{Binned, Comparison, Counts, Data, Direction, Distribution, Metric, Moments, Options, Verdict};
use sim::{Clock, Fleet, Rng, Scrape, SimConfig, Sink};

/// The gateway's `gen_ai.server.time_to_first_token` buckets.
const TTFT_BUCKETS: [f64; 16] =
    [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
/// The gateway's `gen_ai.server.time_per_output_token` buckets.
const TPOT_BUCKETS: [f64; 13] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
/// The gateway's `gen_ai.client.operation.duration` buckets.
const DURATION_BUCKETS: [f64; 14] =
    [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/// The quality pipeline's `gen_ai_evaluation_score` buckets.
const SCORE_BUCKETS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

const LLAMA: &str = "meta-llama/Llama-3.1-8B-Instruct";
const HOUR_MS: i64 = 3_600_000;
/// Simulated hours per seed, and seeds (run two at a time, each starting
/// six hours after the one before, so that together they cover a day).
const HOURS: i64 = 6;
const SEEDS: [u64; 4] = [11, 12, 13, 14];
/// A/A windows: 5 minutes, so that 4 × 6 h give 288 comparisons (p99
/// needs 1,000 observations per cohort: 5 minutes hold about 1,200 by day).
const AA_WINDOW_MS: i64 = 300_000;
/// Power windows: one hour, as the issue asks (24 comparisons).
const POWER_WINDOW_MS: i64 = HOUR_MS;
const T0: i64 = 1_795_420_800_000;

/// What the two cohorts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cohorts {
    /// Two models of the same configuration, each at the demo's Llama rate.
    Models,
    /// The two replicas of the demo's Llama model.
    Replicas,
}

/// One finished request, as the gateway would have measured it.
#[derive(Debug, Clone, Copy)]
struct Request {
    t_ms: i64,
    /// 0 for cohort A, 1 for cohort B.
    cohort: usize,
    ttft: Option<f64>,
    tpot: Option<f64>,
    e2e: f64,
    error: bool,
    score: f64,
}

struct Collect {
    cohorts: Cohorts,
    requests: Vec<Request>,
    rng: Rng,
}

impl Sink for Collect {
    fn scrape(&mut self, _: Scrape<'_>) {}

    fn exchange(&mut self, exchange: inference::Exchange) {
        let output = exchange.usage.map_or(0, |u| u.output_tokens);
        let u = self.rng.f64();
        self.requests.push(Request {
            t_ms: exchange.time_ms,
            cohort: usize::from(match self.cohorts {
                Cohorts::Models => exchange.request_model == "llama-b",
                Cohorts::Replicas => exchange.upstream.ends_with("1b"),
            }),
            ttft: exchange.timings.ttft.map(|d| d.as_secs_f64()),
            tpot: exchange.timings.time_per_output_token(output).map(|d| d.as_secs_f64()),
            e2e: exchange.timings.e2e.as_secs_f64(),
            error: exchange.is_error() || self.rng.chance(0.01),
            score: u * u,
        });
    }
}

/// The demo's Llama model, replicas and load, without incidents; for
/// [`Cohorts::Models`] twice, as `llama-a` and `llama-b`.
fn config(seed: u64, cohorts: Cohorts) -> SimConfig {
    let mut config = SimConfig::demo();
    config.seed = seed;
    config.models.retain(|m| m.name == LLAMA);
    config.replicas.retain(|r| r.model == LLAMA);
    config.load.models.retain(|l| l.model == LLAMA);
    config.scenarios.clear();
    // Nor the deploy: its FP8 build is not among the models kept.
    config.deploys.clear();
    if cohorts == Cohorts::Models {
        let (models, replicas, loads) = (config.models.clone(), config.replicas.clone(), config.load.models.clone());
        config.models.clear();
        config.replicas.clear();
        config.load.models.clear();
        for name in ["llama-a", "llama-b"] {
            config.models.extend(models.iter().map(|m| sim::ModelConfig { name: name.to_owned(), ..*m }));
            config.replicas.extend(replicas.iter().cloned().map(|r| sim::ReplicaConfig {
                name: format!("{}-{name}", r.name),
                model: name.to_owned(),
                ..r
            }));
            // Each model's rate wanders on its own (an Ornstein–Uhlenbeck process
            // with a ten-minute memory): one model would be busier than the other
            // for minutes at a time, and slower for it, which is a real difference.
            // The same offered load, the daily curve without the wander, is the null.
            config.load.models.extend(loads.iter().map(|l| sim::ModelLoad {
                model: name.to_owned(),
                noise: 0.0,
                ..*l
            }));
        }
    }
    config
}

fn simulate(seed: u64, start_ms: i64, cohorts: Cohorts) -> Vec<Request> {
    let end_ms = start_ms + HOURS * HOUR_MS;
    let fleet = Fleet::new(config(seed, cohorts), Clock::manual(end_ms)).expect("valid config");
    let mut sink = Collect { cohorts, requests: Vec::new(), rng: Rng::new(seed ^ 0x5eed) };
    fleet.run_backfill(start_ms, end_ms, HOURS * HOUR_MS, &mut sink);
    // Requests arrive at the sink as they finish; windows select by start.
    sink.requests.sort_by_key(|r| r.t_ms);
    sink.requests
}

/// Every seed's requests with their window starts, simulated once per kind of cohort for all tests of this file.
fn runs(cohorts: Cohorts) -> &'static [(i64, Vec<Request>)] {
    static MODELS: OnceLock<Vec<(i64, Vec<Request>)>> = OnceLock::new();
    static REPLICAS: OnceLock<Vec<(i64, Vec<Request>)>> = OnceLock::new();
    let cell = if cohorts == Cohorts::Models { &MODELS } else { &REPLICAS };
    cell.get_or_init(|| {
        let started = std::time::Instant::now();
        let starts: Vec<(u64, i64)> =
            SEEDS.iter().enumerate().map(|(i, &s)| (s, T0 + i as i64 * HOURS * HOUR_MS)).collect();
        let runs: Vec<(i64, Vec<Request>)> = starts
            .chunks(2)
            .flat_map(|pair| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|&(seed, start)| std::thread::spawn(move || (start, simulate(seed, start, cohorts))))
                    .collect();
                handles.into_iter().map(|h| h.join().expect("simulation thread")).collect::<Vec<_>>()
            })
            .collect();
        let total: usize = runs.iter().map(|r| r.1.len()).sum();
        println!(
            "{cohorts:?}: simulated {} h, {total} requests, in {:.1?}",
            HOURS * SEEDS.len() as i64,
            started.elapsed()
        );
        runs
    })
}

/// The blocks a window is cut into, as the API cuts a range: a tenth of
/// it, at least 15 s (a scrape interval) and at most a minute.
fn block_ms(window_ms: i64) -> i64 {
    (window_ms / 10).clamp(15_000, 60_000)
}

fn binned(bounds: &[f64], values: impl Iterator<Item = f64>) -> Distribution {
    let mut h = Binned::empty(bounds);
    values.for_each(|v| h.observe(v));
    Distribution::Binned(h)
}

/// The metrics the compare API builds from the gateway's and the pipeline's
/// series, for requests in the window from `start` cut into blocks of
/// `block_ms`; cohort B's TTFT is multiplied by `ttft_factor` (its first
/// token comes that much later, and so its end).
fn metrics(window: &[Request], start: i64, window_ms: i64, ttft_factor: f64) -> Vec<Metric> {
    let block = block_ms(window_ms);
    let mut blocks: Vec<Vec<Request>> = vec![Vec::new(); (window_ms / block) as usize];
    for r in window {
        let idx = ((r.t_ms - start) / block) as usize;
        let mut r = *r;
        if r.cohort == 1
            && let Some(ttft) = r.ttft
        {
            r.ttft = Some(ttft * ttft_factor);
            r.e2e += ttft * (ttft_factor - 1.0);
        }
        blocks[idx].push(r);
    }
    let per_block = |c: usize, f: &dyn Fn(&mut dyn Iterator<Item = &Request>) -> Distribution| -> Vec<Distribution> {
        blocks.iter().map(|block| f(&mut block.iter().filter(|r| r.cohort == c))).collect()
    };
    let ttft = |c| per_block(c, &|rs| binned(&TTFT_BUCKETS, rs.filter_map(|r| r.ttft)));
    let tpot = |c| per_block(c, &|rs| binned(&TPOT_BUCKETS, rs.filter_map(|r| r.tpot)));
    let e2e = |c| per_block(c, &|rs| binned(&DURATION_BUCKETS, rs.map(|r| r.e2e)));
    let scores = |c| -> Vec<Moments> {
        per_block(c, &|rs| binned(&SCORE_BUCKETS, rs.map(|r| r.score))).iter().map(Moments::of).collect()
    };
    let count = |c: usize, event: &dyn Fn(&Request) -> bool| -> Vec<Counts> {
        blocks
            .iter()
            .map(|block| {
                let cohort = || block.iter().filter(|r| r.cohort == c);
                Counts::new(cohort().filter(|r| event(r)).count() as f64, cohort().count() as f64)
            })
            .collect()
    };
    let errors = |c| count(c, &|r| r.error);
    let flagged = |c| count(c, &|r| r.score > 0.9);
    let lower = Direction::LowerIsBetter;
    let quantile = |name: &str, q: f64, a: Vec<Distribution>, b: Vec<Distribution>| {
        Metric::new(name, "seconds", lower, Data::Quantile { q, a, b })
    };
    vec![
        quantile("ttft_p50", 0.5, ttft(0), ttft(1)),
        quantile("ttft_p95", 0.95, ttft(0), ttft(1)),
        quantile("ttft_p99", 0.99, ttft(0), ttft(1)),
        quantile("tpot_p50", 0.5, tpot(0), tpot(1)),
        quantile("tpot_p95", 0.95, tpot(0), tpot(1)),
        quantile("e2e_p50", 0.5, e2e(0), e2e(1)),
        quantile("e2e_p95", 0.95, e2e(0), e2e(1)),
        Metric::new("error_rate", "ratio", lower, Data::Rate { a: errors(0), b: errors(1) }),
        Metric::new("quality_mean", "score", Direction::HigherIsBetter, Data::Mean { a: scores(0), b: scores(1) }),
        Metric::new("flagged_rate", "ratio", lower, Data::Rate { a: flagged(0), b: flagged(1) }),
    ]
}

/// Comparisons of every window of `window_ms` in every run.
fn comparisons(cohorts: Cohorts, window_ms: i64, ttft_factor: f64) -> Vec<Comparison> {
    gated_comparisons(cohorts, window_ms, ttft_factor, &[])
}

/// The same, with the metrics of `gate` a Holm family of their own (a deploy gate's).
fn gated_comparisons(cohorts: Cohorts, window_ms: i64, ttft_factor: f64, gate: &[String]) -> Vec<Comparison> {
    let mut out = Vec::new();
    for (run_start, run) in runs(cohorts) {
        for start in (*run_start..run_start + HOURS * HOUR_MS).step_by(window_ms as usize) {
            let lo = run.partition_point(|r| r.t_ms < start);
            let hi = run.partition_point(|r| r.t_ms < start + window_ms);
            let metrics = metrics(&run[lo..hi], start, window_ms, ttft_factor);
            out.push(compare::compare_gated(&metrics, Options { paired: true, ..Options::default() }, gate));
        }
    }
    out
}

/// Per metric the share of A/A comparisons of `window_ms` with p < 0.05,
/// asserted within `band`; the family-wise share with Holm, asserted at
/// most 8 %; at least `at_least` comparisons.
fn check_a_a(cohorts: Cohorts, window_ms: i64, at_least: usize, band: std::ops::RangeInclusive<f64>) {
    let comparisons = comparisons(cohorts, window_ms, 1.0);
    let n = comparisons.len() as f64;
    assert!(comparisons.len() >= at_least, "{n} comparisons");
    let mut report = Vec::new();
    let mut outside = Vec::new();
    for metric in &comparisons[0].metrics {
        // A window without enough data for a metric (p99 needs 1,000
        // observations per cohort, which night-time windows lack) is no
        // comparison of that metric.
        let tested: Vec<_> =
            comparisons.iter().filter_map(|c| c.metric(&metric.name)).filter(|o| o.p_value.is_some()).collect();
        let rate = tested.iter().filter(|o| o.p_value.is_some_and(|p| p < 0.05)).count() as f64 / tested.len() as f64;
        report.push(format!("{} {:.1} % of {}", metric.name, rate * 100.0, tested.len()));
        if !band.contains(&rate) || tested.len() * 3 < at_least * 2 {
            outside.push(metric.name.clone());
        }
    }
    let share = |flagged: &dyn Fn(&compare::Outcome) -> bool| {
        comparisons.iter().filter(|c| c.metrics.iter().any(flagged)).count() as f64 / n
    };
    let any_raw = share(&|m| m.p_value.is_some_and(|p| p < 0.05));
    let any_holm = share(&|m| matches!(m.verdict, Verdict::Better | Verdict::Worse));
    println!(
        "A/A, {cohorts:?}, {n} comparisons of {} min: {}; family-wise {:.1} % uncorrected, {:.1} % with Holm",
        window_ms / 60_000,
        report.join(", "),
        any_raw * 100.0,
        any_holm * 100.0
    );
    assert!(outside.is_empty(), "false positive rates outside {band:?} (or too few tested): {outside:?}");
    assert!(any_holm <= 0.08, "family-wise rate with Holm {any_holm}");
    assert!(any_raw > 2.0 * any_holm, "the correction matters: {any_raw} uncorrected");
}

#[test]
fn a_a_false_positives_stay_near_alpha_and_holm_holds_the_family() {
    check_a_a(Cohorts::Models, AA_WINDOW_MS, 200, 0.02..=0.08);
}

/// The same with the two replicas of one model as the cohorts: half the
/// rate each, so ten-minute windows, only 144 of them, hence a band of
/// about three standard errors around 5 % (1–11 %); and the rate's wander
/// on, which both replicas share (`cargo test -p compare --test it -- --ignored`).
#[test]
#[ignore = "simulates another day of traffic"]
fn a_a_between_two_replicas_of_one_model() {
    check_a_a(Cohorts::Replicas, 2 * AA_WINDOW_MS, 140, 0.01..=0.11);
}

/// Power of one-hour comparisons with cohort B's TTFT × 1.10, reported as
/// the share found worse with Holm, at p < 0.05 alone, B's mean shift and
/// the minimum detectable effect.
fn power(cohorts: Cohorts, gate: &[String]) -> f64 {
    let comparisons = gated_comparisons(cohorts, POWER_WINDOW_MS, 1.10, gate);
    let n = comparisons.len() as f64;
    let outcomes: Vec<&compare::Outcome> = comparisons.iter().filter_map(|c| c.metric("ttft_p95")).collect();
    let found = outcomes.iter().filter(|m| m.is_worse()).count() as f64;
    let uncorrected = outcomes.iter().filter(|m| m.p_value.is_some_and(|p| p < 0.05)).count() as f64;
    let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len() as f64 * 100.0;
    println!(
        "power, {cohorts:?}, {n} one-hour comparisons: TTFT p95 +10 % found worse in {:.1} % with Holm over {} ({:.1} % at p < 0.05 alone); B's p95 {:+.1} % on average, MDE {:.1} % of A's p95",
        found / n * 100.0,
        if gate.is_empty() {
            format!("{} metrics", comparisons[0].metrics.len())
        } else {
            format!("the gate {gate:?}")
        },
        uncorrected / n * 100.0,
        mean(outcomes.iter().filter_map(|m| m.relative_difference).collect()),
        mean(outcomes.iter().filter_map(|m| Some(m.min_detectable_effect? / m.a?)).collect()),
    );
    assert!(outcomes.iter().all(|m| m.verdict != Verdict::Better));
    found / n
}

#[test]
fn a_ten_percent_ttft_p95_shift_is_found_in_most_one_hour_comparisons() {
    let found = power(Cohorts::Models, &[]);
    assert!(found >= 0.8, "power {found}");
}

/// At the demo's rate per configuration since its deploy (Llama and its
/// FP8 build take 2.5 requests/s each; here the two replicas of one model,
/// the rate's wander shared), a deploy gate on TTFT p95
/// (`--fail-if-worse ttft_p95`, its own Holm family) finds the shift in
/// most one-hour comparisons; corrected over all ten metrics it would not.
#[test]
fn at_the_demo_rate_a_gate_on_ttft_p95_finds_a_ten_percent_shift() {
    let gated = power(Cohorts::Replicas, &["ttft_p95".to_owned()]);
    assert!(gated >= 0.8, "power {gated}");
    let all = power(Cohorts::Replicas, &[]);
    assert!(all < gated, "the gate's own family is what gives the power: {all} over all metrics");
}

/// A gate's family holds its false positives near α too: in the A/A of
/// the two replicas, gated on TTFT p95, a verdict on it comes in 1–11 % of
/// ten-minute windows (the band of that A/A: 144 windows).
#[test]
fn a_gate_on_ttft_p95_flags_an_a_a_rarely() {
    let comparisons = gated_comparisons(Cohorts::Replicas, 2 * AA_WINDOW_MS, 1.0, &["ttft_p95".to_owned()]);
    let flagged = comparisons
        .iter()
        .filter(|c| c.metric("ttft_p95").is_some_and(|m| matches!(m.verdict, Verdict::Better | Verdict::Worse)))
        .count() as f64;
    let rate = flagged / comparisons.len() as f64;
    println!(
        "A/A, Replicas, gate [\"ttft_p95\"], {} comparisons of 10 min: flagged {:.1} %",
        comparisons.len(),
        rate * 100.0
    );
    assert!((0.01..=0.11).contains(&rate), "{rate}");
}
