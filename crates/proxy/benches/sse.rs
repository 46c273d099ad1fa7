//! Throughput of the SSE scanner on an OpenAI-style chat stream, per byte and per event.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use proxy::sse::Scanner;

/// A chat stream of `n_events` content chunks, like vLLM's.
fn stream(n_events: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n_events {
        out.extend_from_slice(
            format!(
                "data: {{\"id\":\"chatcmpl-0123456789\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\
                 \"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\
                 \" token{i}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

fn scan(stream: &[u8], chunk_len: usize) -> usize {
    let mut scanner = Scanner::new();
    let mut n_events = 0;
    for chunk in stream.chunks(chunk_len) {
        scanner.feed(chunk, |event| n_events += event.data.len().min(1));
    }
    n_events
}

fn bench(c: &mut Criterion) {
    let n_events = 4096;
    let body = stream(n_events);
    let mut group = c.benchmark_group("sse_scan");
    group.throughput(Throughput::Bytes(body.len() as u64));
    // One event per read (how servers flush), then reads cut across events.
    for chunk_len in [body.len() / n_events, 1500, 16 << 10] {
        group.bench_with_input(BenchmarkId::new("bytes", chunk_len), &chunk_len, |b, &len| b.iter(|| scan(&body, len)));
    }
    group.throughput(Throughput::Elements(n_events as u64 + 1));
    group.bench_function("events", |b| b.iter(|| scan(&body, 1500)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
