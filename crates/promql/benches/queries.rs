//! Dashboard-style queries (rate, sum by, histogram_quantile) over 100,000
//! generated series (10,000 when run as a test, so `cargo test` stays quick).

use criterion::{Criterion, criterion_group, criterion_main};
use promql::Engine;
use series::{Chunk, Labels, Matcher, Querier, Sample, SelectHints, Series};

const SCRAPE_MS: i64 = 15_000;
const SAMPLES: i64 = 240;

/// Series with their chunks encoded once, as a store hands them out, so the
/// benchmark measures the engine and not a test double's encoding.
struct Fixed(Vec<Series>);

impl Querier for Fixed {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<Series>> {
        Ok(self
            .0
            .iter()
            .filter(|s| matchers.iter().all(|m| m.matches(s.labels.get(&m.name).unwrap_or(""))))
            .filter(|s| s.chunks.iter().any(|c| c.overlaps(hints.mint, hints.maxt)))
            .cloned()
            .collect())
    }

    fn label_names(&self, _: &SelectHints, _: &[Matcher]) -> series::Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn label_values(&self, _: &str, _: &SelectHints, _: &[Matcher]) -> series::Result<Vec<String>> {
        Ok(Vec::new())
    }
}

struct Storage(Vec<Series>);

impl Storage {
    fn add(&mut self, labels: Labels, points: &[(i64, f64)]) {
        let samples: Vec<Sample> = points.iter().map(|&(t, v)| Sample { t, v }).collect();
        self.0.push(Series { labels, chunks: vec![Chunk::packed(&samples)] });
    }
}

/// Per instance and model: a request counter, 8 latency buckets and a
/// gauge, one hour at 15 s; 10 models × `instances` instances.
fn storage() -> Fixed {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let instances = if benchmarking { 1000 } else { 100 };
    let mut storage = Storage(Vec::new());
    let les = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "10", "+Inf"];
    for model in 0..10 {
        for instance in 0..instances {
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
    storage.0.sort_by(|a, b| a.labels.cmp(&b.labels));
    Fixed(storage.0)
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
