//! Benchmark of evaluating the default rule pack, one interval's worth of
//! every group, over a synthetic store of vLLM, SGLang, gateway and DCGM
//! series (10k and 100k series).

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rules::{Manager, ManagerOptions, RuleMetrics};
use series::Labels;
use series::memory::MemStorage;

const MIN: i64 = 60_000;
const MINUTES: i64 = 15;

fn counter(store: &MemStorage, labels: &[(&str, &str)], per_minute: f64) -> usize {
    let samples: Vec<(i64, f64)> = (0..=MINUTES).map(|m| (m * MIN, per_minute * m as f64)).collect();
    store.add(Labels::from_pairs(labels.iter().copied()), &samples);
    1
}

fn histogram(store: &MemStorage, name: &str, labels: &[(&str, &str)], bounds: &[&str]) -> usize {
    let mut n = 0;
    for (i, le) in bounds.iter().chain(std::iter::once(&"+Inf")).enumerate() {
        let bucket = format!("{name}_bucket");
        let mut with_le: Vec<(&str, &str)> = labels.to_vec();
        with_le.push(("__name__", &bucket));
        with_le.push(("le", le));
        n += counter(store, &with_le, 10.0 * (i + 1) as f64);
    }
    for suffix in ["_sum", "_count"] {
        let series = format!("{name}{suffix}");
        let mut with_name: Vec<(&str, &str)> = labels.to_vec();
        with_name.push(("__name__", &series));
        n += counter(store, &with_name, 100.0);
    }
    n
}

const LATENCY: [&str; 12] =
    ["0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "20.0", "40.0"];

fn engine(store: &MemStorage, prefix: &str, model_label: &str, model: &str, instance: &str) -> usize {
    let base = [(model_label, model), ("instance", instance), ("job", prefix)];
    let mut n = 0;
    for metric in ["time_to_first_token_seconds", "inter_token_latency_seconds", "e2e_request_latency_seconds"] {
        n += histogram(store, &format!("{prefix}:{metric}"), &base, &LATENCY);
    }
    let gauges: &[&str] = if prefix == "vllm" {
        &["vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"]
    } else {
        &["sglang:num_queue_reqs", "sglang:num_running_reqs", "sglang:token_usage"]
    };
    for gauge in gauges {
        let mut labels = base.to_vec();
        labels.push(("__name__", gauge));
        n += counter(store, &labels, 0.0);
    }
    let counters: &[&str] = if prefix == "vllm" {
        &[
            "vllm:prompt_tokens_total",
            "vllm:generation_tokens_total",
            "vllm:request_success_total",
            "vllm:num_preemptions_total",
        ]
    } else {
        &[
            "sglang:prompt_tokens_total",
            "sglang:generation_tokens_total",
            "sglang:num_requests_total",
            "sglang:num_aborted_requests_total",
        ]
    };
    for name in counters {
        let mut labels = base.to_vec();
        labels.push(("__name__", name));
        n += counter(store, &labels, 600.0);
    }
    n
}

fn build(target: usize) -> MemStorage {
    let store = MemStorage::new();
    let mut n = 0;
    let mut replica = 0;
    while n < target {
        let model = format!("model-{}", replica % 20);
        let instance = format!("replica-{replica}:8000");
        let prefix = if replica % 2 == 0 { "vllm" } else { "sglang" };
        n += engine(&store, prefix, "model_name", &model, &instance);
        let gpu = (replica % 8).to_string();
        let host = format!("host-{}", replica / 8);
        for name in
            ["DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "DCGM_FI_DEV_XID_ERRORS"]
        {
            n += counter(&store, &[("__name__", name), ("gpu", &gpu), ("Hostname", &host)], 0.0);
        }
        n += counter(&store, &[("__name__", "up"), ("job", prefix), ("instance", &instance)], 0.0);
        if replica % 10 == 0 {
            let base = [("gen_ai_request_model", model.as_str()), ("instance", "gateway:8080")];
            n += histogram(&store, "gen_ai_server_time_to_first_token_seconds", &base, &LATENCY);
            n += histogram(&store, "gen_ai_client_operation_duration_seconds", &base, &LATENCY);
            for evaluation in ["pii", "toxicity", "refusal"] {
                let labels = [("gen_ai_request_model", model.as_str()), ("gen_ai_evaluation_name", evaluation)];
                n += histogram(&store, "gen_ai_evaluation_score", &labels, &["0.5", "1.0"]);
            }
        }
        replica += 1;
    }
    store
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("default_pack");
    group.sample_size(10);
    for target in [10_000, 100_000] {
        let store = build(target);
        let manager = Manager::new(
            Arc::new(store.clone()),
            Arc::new(store.clone()),
            ManagerOptions { restore_for_state: false, ..ManagerOptions::default() },
            RuleMetrics::unregistered(),
        );
        manager.set_groups(rules::pack::groups().expect("the pack is valid"));
        let mut t = 10 * MIN;
        group.bench_with_input(BenchmarkId::new("evaluate_all", store.num_series()), &(), |b, ()| {
            b.iter(|| {
                t += 1000;
                manager.evaluate_all_at(t);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
