//! The pages the simulator renders have the families, labels and buckets of the real engines' and exporter's.

use std::collections::BTreeMap;

use sim::EngineKind;

use crate::prom::Family;
use crate::support::{LLAMA, QWEN, backfill, config, load, parse, replica};

fn by_name(families: Vec<Family>) -> BTreeMap<String, Family> {
    families.into_iter().map(|f| (f.name.clone(), f)).collect()
}

fn fixture(name: &str) -> BTreeMap<String, Family> {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    by_name(parse(&text))
}

/// Compares family names and kinds, label-name sets and bucket boundaries; `extra` may appear only in `ours`.
fn assert_same_shape(ours: &BTreeMap<String, Family>, theirs: &BTreeMap<String, Family>, extra: &[&str]) {
    let our_names: Vec<&String> = ours.keys().filter(|n| !extra.contains(&n.as_str())).collect();
    let their_names: Vec<&String> = theirs.keys().collect();
    assert_eq!(our_names, their_names, "family names differ");
    for (name, their) in theirs {
        let our = &ours[name];
        assert_eq!(our.kind, their.kind, "{name}: type");
        assert_eq!(our.label_sets(), their.label_sets(), "{name}: label names");
        assert_eq!(our.buckets(), their.buckets(), "{name}: bucket boundaries");
    }
}

fn pages() -> crate::support::Collected {
    let config = config(
        &[LLAMA, QWEN],
        vec![
            replica("vllm-0", EngineKind::Vllm, LLAMA, "us-east-1a"),
            replica("sglang-0", EngineKind::Sglang, QWEN, "us-east-1b"),
        ],
        vec![load(LLAMA, 2.0), load(QWEN, 2.0)],
    );
    backfill(config, 3)
}

#[test]
fn vllm_page_matches_the_fixture_families_labels_and_buckets() {
    let sink = pages();
    let page = sink.pages.iter().rev().find(|p| p.replica.engine == EngineKind::Vllm).expect("a vLLM page");
    let ours = by_name(parse(page.engine.as_deref().expect("replica up")));
    assert_same_shape(&ours, &fixture("vllm-metrics.prom"), &[]);
}

#[test]
fn sglang_page_matches_the_fixture_families_labels_and_buckets() {
    let sink = pages();
    let page = sink.pages.iter().rev().find(|p| p.replica.engine == EngineKind::Sglang).expect("an SGLang page");
    let text = page.engine.as_deref().expect("replica up");
    let ours = by_name(parse(text));
    assert_same_shape(&ours, &fixture("sglang-metrics.prom"), &[]);
    // Multiprocess output writes a histogram's _sum before its buckets.
    let sum_at = text.find("sglang:time_to_first_token_seconds_sum").expect("ttft sum");
    let bucket_at = text.find("sglang:time_to_first_token_seconds_bucket").expect("ttft buckets");
    assert!(sum_at < bucket_at);
}

#[test]
fn dcgm_page_matches_the_fixture_plus_clock_event_reasons() {
    let sink = pages();
    let page = sink.pages.last().expect("a page");
    let ours = by_name(parse(&page.dcgm));
    assert_same_shape(&ours, &fixture("dcgm-metrics.prom"), &["DCGM_FI_DEV_CLOCKS_EVENT_REASONS"]);
    // The exporter's template fixes label order (not sorted) and prints doubles with six decimals.
    let line = page.dcgm.lines().find(|l| l.starts_with("DCGM_FI_DEV_POWER_USAGE{")).expect("power line");
    assert!(line.starts_with("DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",UUID=\"GPU-"), "{line}");
    assert!(line.contains(",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\""), "{line}");
    let value = line.rsplit(' ').next().expect("value");
    assert_eq!(value.split('.').nth(1).map(str::len), Some(6), "{line}");
}

#[test]
fn vllm_values_follow_the_requests_served() {
    let sink = pages();
    let page = sink.pages.iter().rev().find(|p| p.replica.name == "vllm-0").expect("a vLLM page");
    let families = parse(page.engine.as_deref().expect("up"));
    let finished_by =
        |e: &&inference::Exchange| e.time_ms as f64 + e.timings.e2e.as_secs_f64() * 1000.0 <= page.t_ms as f64;
    let served: Vec<&inference::Exchange> =
        sink.exchanges.iter().filter(|e| e.upstream == "vllm-0" && e.status == 200).filter(finished_by).collect();
    let success = crate::prom::sum(&families, "vllm:request_success_total");
    let ttft_count = crate::prom::value(&families, "vllm:time_to_first_token_seconds_count", &[]).expect("ttft count");
    let close = |a: f64, b: f64| (a - b).abs() <= 0.05 * b.max(1.0) + 2.0;
    assert!(served.len() > 100, "{}", served.len());
    assert!(close(success, served.len() as f64), "{success} vs {}", served.len());
    assert_eq!(ttft_count, success);
    let output: u64 = served.iter().filter_map(|e| e.usage).map(|u| u.output_tokens).sum();
    let input: u64 = served.iter().filter_map(|e| e.usage).map(|u| u.input_tokens).sum();
    let generation = crate::prom::sum(&families, "vllm:generation_tokens_total");
    let prompt_sum = crate::prom::value(&families, "vllm:request_prompt_tokens_sum", &[]).expect("prompt sum");
    assert!(generation >= output as f64, "{generation} vs {output}");
    assert!(close(prompt_sum, input as f64), "{prompt_sum} vs {input}");
    let ttft_sum = crate::prom::value(&families, "vllm:time_to_first_token_seconds_sum", &[]).expect("ttft sum");
    let ttft_served: f64 = served.iter().filter_map(|e| e.timings.ttft).map(|d| d.as_secs_f64()).sum();
    assert!((ttft_sum - ttft_served).abs() < 0.05 * ttft_served + 0.5, "{ttft_sum} vs {ttft_served}");
    let labels = &[("model_name", LLAMA), ("engine", "0")];
    assert!(crate::prom::value(&families, "vllm:kv_cache_usage_perc", labels).is_some());
}
