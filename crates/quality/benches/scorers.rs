//! Per-scorer cost on 1 KiB and 16 KiB responses, all scorers together on
//! 1 KiB (target: 200 µs on one core) and 16 KiB, a 1 MiB input to show
//! that the cost stays linear, and the load of the embedded classifiers.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quality::drift::{Drift, Exchange};
use quality::{Input, Registry, SCORER_NAMES};

const PARAGRAPH: &str = "Thanks for reaching out! To reset the billing address on invoice 4471, open Settings, choose Billing, \
and update the street field. If the card ending 4242 keeps failing, contact Maria Gonzalez at maria.gonzalez@example.com \
or call (555) 123-4567. Here is the JSON you asked for: {\"status\": \"ok\", \"retries\": 3}. Version 2.4.1 fixed the timeout \
on 10.0.0.12, and commit 3f786850e387550fdab836ed7e6dc881de23001b is deployed. Let me know if anything else comes up. ";

fn text_of(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + PARAGRAPH.len());
    while text.len() < bytes {
        text.push_str(PARAGRAPH);
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn scorers(c: &mut Criterion) {
    let registry = Registry::new();
    let samples: Vec<String> = vec![text_of(200), text_of(180), text_of(220)];
    let mut group = c.benchmark_group("scorer");
    for size in [1024, 16 * 1024] {
        let text = text_of(size);
        group.throughput(Throughput::Bytes(size as u64));
        for name in SCORER_NAMES {
            let scorer = registry.scorer(name).expect("every listed scorer exists");
            // No prompt, so prompt-side scorers read the long text too.
            let input = Input { response: Some(&text), samples: &samples, reference: Some("4471"), ..Input::default() };
            group.bench_with_input(BenchmarkId::new(name, size), &input, |b, input| {
                b.iter(|| scorer.score(black_box(input)))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("score_all");
    for size in [1024, 16 * 1024, 1024 * 1024] {
        let text = text_of(size);
        group.throughput(Throughput::Bytes(size as u64));
        if size > 1024 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(size), &text, |b, text| {
            b.iter(|| registry.score_all(black_box("Please help me with my billing address."), black_box(text)))
        });
    }
    group.finish();
}

/// Reading the embedded classifiers and their manifest, as the first score
/// after start does (target: 200 ms).
fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("classifiers");
    group.sample_size(10);
    group.bench_function("load", |b| b.iter(|| quality::learned::Learned::embedded().expect("embedded files parse")));
    group.finish();
}

fn drift(c: &mut Criterion) {
    let window: Vec<Exchange> = (0..120)
        .map(|idx| Exchange {
            prompt: format!("question {idx} about invoices and refunds"),
            response: text_of(300 + idx * 3),
        })
        .collect();
    let drift = Drift::default();
    let mut group = c.benchmark_group("drift");
    group.sample_size(10);
    group.bench_function("120_vs_120", |b| b.iter(|| drift.test(black_box(&window), black_box(&window))));
    group.finish();
}

criterion_group!(benches, scorers, load, drift);
criterion_main!(benches);
