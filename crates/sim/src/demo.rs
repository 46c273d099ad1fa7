//! The demo fleet: four models (one also as a cheaper FP8 build) on seven replicas in two zones, nine GPUs, a scripted deploy and a day's worth of incidents.

use crate::config::{
    DeployConfig, EngineKind, LoadConfig, Millis, ModelConfig, ModelLoad, ReplicaConfig, ScenarioConfig, SimConfig,
    Style,
};
use crate::scenario::ScenarioKind;

const LLAMA: &str = "meta-llama/Llama-3.1-8B-Instruct";
/// The same model quantized to FP8: faster and half the GPUs for its
/// traffic, a little worse (more refusals and wrong facts).
const LLAMA_FP8: &str = "meta-llama/Llama-3.1-8B-Instruct-FP8";
/// When the FP8 build takes its share of Llama's traffic, relative to the anchor.
const DEPLOY_START: &str = "-2h";
const QWEN: &str = "Qwen/Qwen2.5-14B-Instruct";
const R1: &str = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B";

impl SimConfig {
    /// The fleet `infersight demo` runs: Llama 3.1 8B on two vLLM replicas,
    /// Qwen 2.5 14B on one vLLM and one SGLang replica, DeepSeek R1 32B on two
    /// SGLang replicas with two GPUs each, half in `us-east-1a` and half in
    /// `us-east-1b`; incidents in the last five hours (so a backfill shows them)
    /// and in the next forty minutes. Two hours before the anchor a deploy
    /// sends half of Llama's requests to its FP8 build, on one vLLM replica
    /// of its own in `us-east-1b`: faster per token, half the GPUs for the
    /// same traffic, and more refusals and wrong facts.
    pub fn demo() -> SimConfig {
        let models = vec![
            ModelConfig {
                name: LLAMA.to_owned(),
                weights_gib: 15.0,
                context_len: 32_768,
                style: Style::Friendly,
                ..ModelConfig::default()
            },
            ModelConfig {
                name: QWEN.to_owned(),
                weights_gib: 28.0,
                context_len: 32_768,
                style: Style::Formal,
                ..ModelConfig::default()
            },
            ModelConfig {
                name: R1.to_owned(),
                weights_gib: 61.0,
                context_len: 65_536,
                style: Style::Concise,
                refusal_rate: 0.01,
                wrong_fact_rate: 0.02,
                ..ModelConfig::default()
            },
            ModelConfig {
                name: LLAMA_FP8.to_owned(),
                weights_gib: 8.5,
                context_len: 32_768,
                style: Style::Friendly,
                refusal_rate: 0.05,
                wrong_fact_rate: 0.15,
                ..ModelConfig::default()
            },
        ];
        let llama = |name: &str, zone: &str| ReplicaConfig {
            name: name.to_owned(),
            engine: EngineKind::Vllm,
            model: LLAMA.to_owned(),
            zone: zone.to_owned(),
            kv_blocks: 6_000,
            prefill_ms_per_token: 0.03,
            decode_base_ms: 7.0,
            decode_ms_per_seq: 0.12,
            ..ReplicaConfig::default()
        };
        let qwen = |name: &str, zone: &str, engine: EngineKind| ReplicaConfig {
            name: name.to_owned(),
            engine,
            model: QWEN.to_owned(),
            zone: zone.to_owned(),
            kv_blocks: 4_500,
            prefill_ms_per_token: 0.055,
            decode_base_ms: 11.0,
            decode_ms_per_seq: 0.2,
            ..ReplicaConfig::default()
        };
        let r1 = |name: &str, zone: &str| ReplicaConfig {
            name: name.to_owned(),
            engine: EngineKind::Sglang,
            model: R1.to_owned(),
            zone: zone.to_owned(),
            gpus: 2,
            kv_blocks: 5_000,
            prefill_ms_per_token: 0.08,
            decode_base_ms: 16.0,
            decode_ms_per_seq: 0.3,
            ..ReplicaConfig::default()
        };
        let replicas = vec![
            llama("vllm-llama-1a", "us-east-1a"),
            llama("vllm-llama-1b", "us-east-1b"),
            qwen("vllm-qwen-1a", "us-east-1a", EngineKind::Vllm),
            qwen("sglang-qwen-1b", "us-east-1b", EngineKind::Sglang),
            r1("sglang-r1-1a", "us-east-1a"),
            r1("sglang-r1-1b", "us-east-1b"),
            ReplicaConfig {
                name: "vllm-llama-fp8-1b".to_owned(),
                engine: EngineKind::Vllm,
                model: LLAMA_FP8.to_owned(),
                zone: "us-east-1b".to_owned(),
                kv_blocks: 9_000,
                prefill_ms_per_token: 0.018,
                decode_base_ms: 4.6,
                decode_ms_per_seq: 0.08,
                ..ReplicaConfig::default()
            },
        ];
        let load = LoadConfig {
            models: vec![
                ModelLoad {
                    model: LLAMA.to_owned(),
                    rate_per_s: 5.0,
                    prompt_tokens_median: 700.0,
                    output_tokens_median: 200.0,
                    ..ModelLoad::default()
                },
                ModelLoad {
                    model: QWEN.to_owned(),
                    rate_per_s: 2.5,
                    prompt_tokens_median: 900.0,
                    output_tokens_median: 250.0,
                    ..ModelLoad::default()
                },
                ModelLoad {
                    model: R1.to_owned(),
                    rate_per_s: 1.0,
                    prompt_tokens_median: 500.0,
                    output_tokens_median: 700.0,
                    output_tokens_sigma: 0.5,
                    max_tokens: 2048,
                    stream_share: 0.9,
                    ..ModelLoad::default()
                },
            ],
        };
        let at = |name: ScenarioKind, target: &str, start: &str, duration: &str| ScenarioConfig {
            name,
            target: target.to_owned(),
            start: Millis::parse(start).unwrap_or_default(),
            duration: Millis::parse(duration).unwrap_or(Millis(600_000)),
        };
        let scenarios = vec![
            at(ScenarioKind::KvSaturation, "vllm-llama-1a", "-5h", "20m"),
            at(ScenarioKind::ThermalThrottle, "sglang-r1-1a/gpu1", "-4h", "30m"),
            at(ScenarioKind::TrafficBurst, QWEN, "-3h10m", "15m"),
            at(ScenarioKind::XidCrash, "vllm-qwen-1a/gpu0", "-2h30m", "8m"),
            at(ScenarioKind::PiiLeak, "vllm-llama-1b", "-1h45m", "25m"),
            at(ScenarioKind::ZoneShift, "us-east-1a", "-1h", "20m"),
            at(ScenarioKind::ModelSwap, "sglang-qwen-1b", "-40m", "35m"),
            at(ScenarioKind::ThermalThrottle, "vllm-llama-1b/gpu0", "5m", "10m"),
            at(ScenarioKind::ModelSwap, "sglang-r1-1b", "12m", "20m"),
            at(ScenarioKind::XidCrash, "vllm-llama-1a/gpu0", "25m", "5m"),
            at(ScenarioKind::KvSaturation, "sglang-qwen-1b", "35m", "10m"),
        ];
        let deploys = vec![DeployConfig {
            model: LLAMA.to_owned(),
            to: LLAMA_FP8.to_owned(),
            share: 0.5,
            start: Millis::parse(DEPLOY_START).unwrap_or_default(),
            text: "Deploy: Llama 3.1 8B FP8 build takes 50 % of Llama 3.1 8B traffic".to_owned(),
        }];
        SimConfig { models, replicas, load, scenarios, deploys, internal_traffic: false, ..SimConfig::default() }
    }
}
