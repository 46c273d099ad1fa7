//! What judging adds to the pipeline per judged exchange, the judge's own latency aside.
//!
//! Three pipelines score the same exchanges: one that keeps none, one that
//! keeps every exchange (the store write a judged exchange also needs), and
//! one that keeps and judges every exchange by one rubric, against a fake
//! judge on loopback that answers at once. Each iteration processes the
//! exchanges and, for the judged one, waits until every verdict is counted,
//! so the figure is the whole cost: picking, queueing, the HTTP call's
//! client side, parsing, the cache write, the metrics and the stored
//! verdict. `judged − kept` is the overhead of judging; it still includes
//! the fake judge's CPU time on the same cores, so it is an upper bound.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use inference::Exchange;
use judge::{Judge, JudgeConfig, Limits, Rubric};
use pipeline::judging::{JudgeSetup, RecordsCache};
use pipeline::{Config, Metrics, Pipeline};
use prometheus_client::registry::Registry;
use records::Store;
use testkit::judge::FakeJudge;
use tokio_util::sync::CancellationToken;

#[path = "../tests/support/mod.rs"]
mod support;

/// Exchanges processed before waiting for their verdicts: well inside the
/// judges' queue.
const ROUND: usize = 256;

/// Makes every exchange's text new, so the judge cache never answers.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn exchange() -> Exchange {
    let i = NEXT.fetch_add(1, Ordering::Relaxed);
    support::exchange(
        1_700_000_000_000 + i as i64,
        "meta-llama/Llama-3.1-8B-Instruct",
        &format!("user: How do I keep a sourdough starter alive while I travel for a week? ({i})"),
        &format!(
            "Feed it, let it rise for an hour, then refrigerate it in a sealed jar. A cold starter keeps for a week \
             or two; when you are back, discard half and feed it twice a day until it doubles again. ({i})"
        ),
    )
}

struct Bench {
    _dir: tempfile::TempDir,
    pipeline: Arc<Pipeline>,
    registry: Registry,
}

fn pipeline(runtime: &tokio::runtime::Runtime, fake: Option<&FakeJudge>, sample_rate: f64) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("records.db")).expect("records store"));
    let mut registry = Registry::default();
    let judge_metrics = judge::Metrics::new(&mut registry);
    let judges = fake
        .map(|fake| {
            let config = JudgeConfig {
                name: "bench".to_owned(),
                url: format!("{}/v1", fake.url()),
                model: "judge-model".to_owned(),
                api_key: None,
                concurrency: 4,
                timeout: Duration::from_secs(5),
                retries: 0,
                limits: Limits::default(),
                price: None,
                json_mode: true,
            };
            let judge = Judge::new(config, Arc::new(RecordsCache(Arc::clone(&store))), judge_metrics).expect("client");
            JudgeSetup {
                judge: Arc::new(judge),
                rubrics: vec![Rubric::built_in("helpfulness").expect("built in")],
                sample_rate: 1.0,
                model_rates: HashMap::new(),
            }
        })
        .into_iter()
        .collect();
    let config = Config { sample_rate, budget_per_minute: u32::MAX, judges, ..Config::default() };
    let pipeline = Arc::new(Pipeline::new(config, store, Metrics::new(&mut registry)));
    runtime.spawn(Arc::clone(&pipeline).run_judges(CancellationToken::new()));
    Bench { _dir: dir, pipeline, registry }
}

/// Verdicts counted so far.
fn judged(registry: &Registry) -> u64 {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry).expect("encodes");
    text.lines()
        .filter(|l| l.starts_with("infersight_judge_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let fake = runtime.block_on(FakeJudge::start(Vec::new()));
    let mut group = c.benchmark_group("pipeline_judging");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    for (name, judge, sample_rate) in [("scored", false, 0.0), ("kept", false, 1.0), ("judged", true, 1.0)] {
        let bench = pipeline(&runtime, judge.then_some(&fake), sample_rate);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut done = judged(&bench.registry);
                let exchanges: Vec<Exchange> = (0..iters).map(|_| exchange()).collect();
                let started = Instant::now();
                // In rounds that fit the judges' queue, which drops (and
                // counts) what does not fit rather than wait.
                for round in exchanges.chunks(ROUND) {
                    for exchange in round {
                        bench.pipeline.process(exchange);
                    }
                    if judge {
                        done += round.len() as u64;
                        while judged(&bench.registry) < done {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                }
                started.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
