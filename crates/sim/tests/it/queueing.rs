//! The queueing model: more load means longer TTFT; a saturated KV cache means preemptions and much longer TTFT.

use sim::{EngineKind, ScenarioKind};

use crate::support::{LLAMA, MINUTE, T0, backfill, config, increase, load, quantile, replica, scenario};

fn ttfts(sink: &crate::support::Collected, from: i64, to: i64) -> Vec<f64> {
    sink.exchanges_between(from, to).filter_map(|e| e.timings.ttft).map(|d| d.as_secs_f64()).collect()
}

#[test]
fn ttft_grows_with_load() {
    let run = |rate: f64| {
        let mut r = replica("vllm-0", EngineKind::Vllm, LLAMA, "us-east-1a");
        r.max_batch = 16;
        let sink = backfill(config(&[LLAMA], vec![r], vec![load(LLAMA, rate)]), 6);
        quantile(ttfts(&sink, T0 + MINUTE, T0 + 6 * MINUTE), 0.5)
    };
    let light = run(0.5);
    let heavy = run(9.0);
    assert!(heavy > 3.0 * light, "median TTFT light {light:.3}s heavy {heavy:.3}s");
}

#[test]
fn kv_saturation_causes_preemptions_and_at_least_doubles_ttft_p95() {
    let mut r = replica("vllm-0", EngineKind::Vllm, LLAMA, "us-east-1a");
    r.max_batch = 64;
    let mut config = config(&[LLAMA], vec![r], vec![load(LLAMA, 3.0)]);
    config.scenarios = vec![scenario(ScenarioKind::KvSaturation, "vllm-0", 10, 10)];
    let sink = backfill(config, 20);
    let before = increase(&sink, "vllm-0", "vllm:num_preemptions_total", T0 + 2 * MINUTE, T0 + 10 * MINUTE);
    let during = increase(&sink, "vllm-0", "vllm:num_preemptions_total", T0 + 12 * MINUTE, T0 + 20 * MINUTE);
    assert!(during > before + 10.0, "preemptions before {before}, during {during}");
    let p95_before = quantile(ttfts(&sink, T0 + 2 * MINUTE, T0 + 10 * MINUTE), 0.95);
    let p95_during = quantile(ttfts(&sink, T0 + 12 * MINUTE, T0 + 20 * MINUTE), 0.95);
    assert!(p95_during >= 2.0 * p95_before, "TTFT p95 before {p95_before:.3}s, during {p95_during:.3}s");
    let usage = |t| {
        let page = sink.page_at("vllm-0", t);
        let families = crate::support::parse(page.engine.as_deref().expect("up"));
        crate::prom::sum(&families, "vllm:kv_cache_usage_perc")
    };
    assert!(usage(T0 + 15 * MINUTE) > usage(T0 + 5 * MINUTE));
}
