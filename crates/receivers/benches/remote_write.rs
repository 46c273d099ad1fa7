//! Decoding and appending a realistic remote-write request.
//!
//! The request mimics Prometheus forwarding a scrape of a vLLM fleet: 5000
//! series of one sample each, ten labels per series (Kubernetes target labels
//! plus vLLM's own), a third of them histogram buckets with `le`. Criterion
//! reports throughput in samples per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use receivers::remote_write::proto::{v1, v2};
use receivers::remote_write::{decode_v1, decode_v2, decompress};
use series::{Appendable, Appender, LabelRef};
use testkit::MemStorage;

const N_SAMPLES: usize = 5000;

/// The label sets of the request, each sorted by name as Prometheus sends them.
fn label_sets() -> Vec<Vec<(String, String)>> {
    let gauges = ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc"];
    let counters = ["vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total"];
    let histograms = ["vllm:time_to_first_token_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket"];
    let les = ["0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "1.0", "+Inf"];
    let models = ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-72B-Instruct", "mistralai/Mistral-7B-v0.3"];
    let mut sets = Vec::with_capacity(N_SAMPLES);
    let mut pod = 0;
    while sets.len() < N_SAMPLES {
        pod += 1;
        let model = models[pod % models.len()];
        let target = |name: &str, le: Option<&str>| {
            let mut labels = vec![
                ("__name__".to_owned(), name.to_owned()),
                ("container".to_owned(), "vllm".to_owned()),
                ("engine".to_owned(), "0".to_owned()),
                ("instance".to_owned(), format!("10.42.{}.{}:8000", pod / 250, pod % 250)),
                ("job".to_owned(), "kubernetes-pods".to_owned()),
                ("model_name".to_owned(), model.to_owned()),
                ("namespace".to_owned(), "inference".to_owned()),
                ("pod".to_owned(), format!("vllm-{}-7d9f8b{pod:04}", pod % models.len())),
            ];
            if let Some(le) = le {
                labels.push(("le".to_owned(), le.to_owned()));
            }
            labels.sort();
            labels
        };
        for name in gauges.iter().chain(&counters) {
            sets.push(target(name, None));
        }
        for name in histograms {
            for le in les {
                sets.push(target(name, Some(le)));
            }
        }
    }
    sets.truncate(N_SAMPLES);
    sets
}

fn v1_request(sets: &[Vec<(String, String)>]) -> Vec<u8> {
    let timeseries = sets
        .iter()
        .enumerate()
        .map(|(i, labels)| v1::TimeSeries {
            labels: labels.iter().map(|(name, value)| v1::Label { name: name.clone(), value: value.clone() }).collect(),
            samples: vec![v1::Sample { value: i as f64 * 1.5, timestamp: 1_760_000_000_000 + i as i64 }],
            ..Default::default()
        })
        .collect();
    v1::WriteRequest { timeseries, metadata: Vec::new() }.encode_to_vec()
}

fn v2_request(sets: &[Vec<(String, String)>]) -> Vec<u8> {
    let mut symbols = vec![String::new()];
    let mut index = std::collections::HashMap::new();
    let mut symbol = |s: &str| {
        *index.entry(s.to_owned()).or_insert_with(|| {
            symbols.push(s.to_owned());
            (symbols.len() - 1) as u32
        })
    };
    let timeseries = sets
        .iter()
        .enumerate()
        .map(|(i, labels)| v2::TimeSeries {
            labels_refs: labels.iter().flat_map(|(name, value)| [symbol(name), symbol(value)]).collect(),
            samples: vec![v2::Sample { value: i as f64 * 1.5, timestamp: 1_760_000_000_000 + i as i64 }],
            ..Default::default()
        })
        .collect();
    v2::Request { symbols, timeseries }.encode_to_vec()
}

/// Discards samples, to measure the receiver alone.
struct NoopAppender;

impl Appender for NoopAppender {
    fn append(&mut self, labels: &[LabelRef<'_>], t: i64, v: f64) {
        black_box((labels, t, v));
    }

    fn commit(&mut self) -> series::Result<usize> {
        Ok(0)
    }

    fn rollback(&mut self) {}
}

fn remote_write(c: &mut Criterion) {
    let sets = label_sets();
    let v1_buf = v1_request(&sets);
    let v1_snappy = snap::raw::Encoder::new().compress_vec(&v1_buf).expect("compressible");
    let v2_buf = v2_request(&sets);
    let storage = MemStorage::new();

    let mut group = c.benchmark_group("remote_write");
    group.throughput(Throughput::Elements(N_SAMPLES as u64));
    group.bench_function("v1_decode", |b| b.iter(|| decode_v1(black_box(&v1_buf)).expect("valid").num_samples()));
    group.bench_function("v1_decode_append_noop", |b| {
        b.iter(|| decode_v1(black_box(&v1_buf)).expect("valid").append_to(&mut NoopAppender))
    });
    group.bench_function("v1_decompress_decode_append_noop", |b| {
        b.iter(|| {
            let buf = decompress(black_box(&v1_snappy), 32 << 20).expect("valid");
            decode_v1(&buf).expect("valid").append_to(&mut NoopAppender)
        })
    });
    group.bench_function("v1_decode_append_commit_memstorage", |b| {
        b.iter(|| {
            let mut appender = storage.appender();
            decode_v1(black_box(&v1_buf)).expect("valid").append_to(&mut *appender);
            appender.commit().expect("stored")
        })
    });
    group.bench_function("v2_decode_append_noop", |b| {
        b.iter(|| decode_v2(black_box(&v2_buf)).expect("valid").append_to(&mut NoopAppender))
    });
    group.finish();
}

criterion_group!(benches, remote_write);
criterion_main!(benches);
