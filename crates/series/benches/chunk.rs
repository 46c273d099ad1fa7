//! Chunk encoding and decoding throughput on scrape-like series.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use series::chunk::{XorAppender, XorIter};

/// A counter and a gauge like those a vLLM target exposes, 120 samples at 15 s.
fn series() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let t0 = 1_700_000_000_000i64;
    let counter = (0..120).map(|i| (t0 + i * 15_000, (i * i * 7 + i * 13) as f64)).collect();
    let mut g = 0.42f64;
    let gauge = (0..120)
        .map(|i| {
            g = (g + ((i * 7919 % 13) as f64 - 6.0) * 0.003).clamp(0.0, 1.0);
            (t0 + i * 15_000, g)
        })
        .collect();
    vec![("counter", counter), ("gauge", gauge)]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("xor_chunk");
    for (name, points) in series() {
        group.throughput(Throughput::Elements(points.len() as u64));
        group.bench_function(format!("encode_{name}"), |b| {
            b.iter(|| {
                let mut app = XorAppender::new();
                for &(t, v) in &points {
                    app.append(t, v);
                }
                app.size()
            })
        });
        let mut app = XorAppender::new();
        for &(t, v) in &points {
            app.append(t, v);
        }
        let bytes = app.bytes().to_vec();
        group.bench_function(format!("decode_{name}"), |b| b.iter(|| XorIter::new(&bytes).map(|s| s.v).sum::<f64>()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
