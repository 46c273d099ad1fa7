//! Tests of the presets' quirk handling.

use super::*;
use crate::relabel::{LabelSet, process};

fn run(preset: Preset, pairs: &[(&str, &str)]) -> Option<String> {
    let rules: Vec<_> =
        preset.metric_relabel_configs().iter().map(|c| c.compile().expect("preset rules compile")).collect();
    let mut set = LabelSet::new();
    for (n, v) in pairs {
        set.set(n, v);
    }
    process(&rules, &mut set).then(|| {
        set.sort();
        set.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(",")
    })
}

#[test]
fn vllm_and_sglang_drop_created_gauges_and_keep_counters() {
    for preset in [Preset::Vllm, Preset::Sglang] {
        assert_eq!(run(preset, &[("__name__", "vllm:prompt_tokens_created")]), None);
        assert_eq!(
            run(preset, &[("__name__", "vllm:prompt_tokens_total")]).as_deref(),
            Some("__name__=vllm:prompt_tokens_total")
        );
        assert_eq!(preset.accept(), ACCEPT_TEXT, "{preset:?} must not ask for OpenMetrics");
    }
}

#[test]
fn dcgm_maps_new_label_spellings_to_the_released_ones() {
    assert_eq!(
        run(Preset::Dcgm, &[("__name__", "DCGM_FI_DEV_GPU_UTIL"), ("hostname", "h1"), ("uuid", "GPU-1")]).as_deref(),
        Some("Hostname=h1,UUID=GPU-1,__name__=DCGM_FI_DEV_GPU_UTIL")
    );
    assert_eq!(run(Preset::Dcgm, &[("__name__", "x"), ("Hostname", "h1")]).as_deref(), Some("Hostname=h1,__name__=x"));
}

#[test]
fn presets_have_the_engines_default_ports() {
    let ports: Vec<(&str, u16)> = Preset::ALL.iter().map(|p| (p.as_str(), p.default_port())).collect();
    assert_eq!(
        ports,
        [("vllm", 8000), ("sglang", 30000), ("tgi", 9000), ("triton", 8002), ("dcgm", 9400), ("node", 9100)]
    );
}

#[test]
fn vllm_maps_the_deprecated_kv_cache_gauge_to_its_new_name() {
    assert_eq!(
        run(Preset::Vllm, &[("__name__", "vllm:gpu_cache_usage_perc"), ("engine", "0")]).as_deref(),
        Some("__name__=vllm:kv_cache_usage_perc,engine=0")
    );
}
