//! Dashboard-style queries (rate, sum by, histogram_quantile) over ~10k generated series.

use criterion::{Criterion, criterion_group, criterion_main};
use promql::Engine;
use series::Labels;
use testkit::MemStorage;

const SCRAPE_MS: i64 = 15_000;
const SAMPLES: i64 = 240;

/// 1,000 request counters, 8,000 latency buckets and 1,000 gauges: one hour at 15 s.
fn storage() -> MemStorage {
    let storage = MemStorage::new();
    let les = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "10", "+Inf"];
    for model in 0..10 {
        for instance in 0..100 {
            let (model, instance) = (format!("model-{model}"), format!("pod-{instance}"));
            let base = [("model", model.as_str()), ("instance", instance.as_str())];
            let counter: Vec<(i64, f64)> = (0..SAMPLES).map(|i| (i * SCRAPE_MS, (i * 7) as f64)).collect();
            let gauge: Vec<(i64, f64)> = (0..SAMPLES).map(|i| (i * SCRAPE_MS, (i % 17) as f64)).collect();
            storage.add(labels("vllm:request_success_total", &base, None), &counter);
            storage.add(labels("vllm:num_requests_running", &base, None), &gauge);
            for (b, le) in les.iter().enumerate() {
                let bucket: Vec<(i64, f64)> =
                    (0..SAMPLES).map(|i| (i * SCRAPE_MS, (i * (b as i64 + 1)) as f64)).collect();
                storage.add(labels("vllm:e2e_request_latency_seconds_bucket", &base, Some(le)), &bucket);
            }
        }
    }
    storage
}

fn labels(name: &str, base: &[(&str, &str)], le: Option<&str>) -> Labels {
    let mut pairs = vec![("__name__", name)];
    pairs.extend_from_slice(base);
    if let Some(le) = le {
        pairs.push(("le", le));
    }
    Labels::from_pairs(pairs)
}

fn queries(c: &mut Criterion) {
    let storage = storage();
    let engine = Engine::default();
    let (start, end, step) = (30 * 60_000, 60 * 60_000 - SCRAPE_MS, 60_000);
    let cases = [
        ("rate", "rate(vllm:request_success_total[5m])"),
        ("sum_by_rate", "sum by (model) (rate(vllm:request_success_total[5m]))"),
        (
            "histogram_quantile",
            "histogram_quantile(0.99, sum by (model, le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))",
        ),
        ("avg_gauge", "avg by (model) (vllm:num_requests_running)"),
    ];
    let mut group = c.benchmark_group("dashboard");
    group.sample_size(10);
    for (name, query) in cases {
        group.bench_function(name, |b| {
            b.iter(|| engine.range_query(&storage, query, start, end, step).expect("query runs"));
        });
    }
    group.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
