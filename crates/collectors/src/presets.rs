//! Scrape presets: what a `[[scrape]]` block with `preset = "vllm"` (or
//! another engine) assumes about the target, and the engine's quirks.
//!
//! A preset sets the default job name, port and path, adds the label
//! `serving_engine`, picks the exposition format to ask for, and adds
//! metric relabelling steps that even out the engine's quirks (documented
//! per preset in `reference/metrics-catalog.md`):
//!
//! - vLLM and SGLang are Python `prometheus_client` servers. Asked for
//!   OpenMetrics, `prometheus_client` rewrites `:` to `_` in sample names
//!   (`vllm_prompt_tokens_total` instead of `vllm:prompt_tokens_total`), so
//!   these presets ask for text 0.0.4 only, which keeps the engines' own
//!   names. In text 0.0.4 a single-process server exposes each counter's
//!   creation time as a separate gauge family `<name>_created`; those series
//!   are dropped, as Prometheus drops `_created` in OpenMetrics.
//! - vLLM renamed `vllm:gpu_cache_usage_perc` to `vllm:kv_cache_usage_perc`
//!   in 0.9 (both exposed until 0.11, the old one gone from 0.12); the old
//!   name is rewritten to the new one, so one query serves every version
//!   (where both are exposed, the page's first one is kept: they agree).
//! - dcgm-exporter renamed its `Hostname` label to `hostname` after 4.5.3,
//!   and its old-namespace option writes `uuid` for `UUID`; both are mapped
//!   to the released spelling so one set of GPU panels serves every version.

use serde::{Deserialize, Serialize};

use crate::relabel::{Action, RelabelConfig};

/// The label a preset adds to every series of its targets.
pub const SERVING_ENGINE_LABEL: &str = "serving_engine";

/// The `Accept` header Prometheus sends: OpenMetrics preferred, text 0.0.4 as fallback.
pub const ACCEPT_OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0,\
     application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// An `Accept` header that names no OpenMetrics, for servers that would
/// rename metrics when answering in OpenMetrics (see the module documentation).
pub const ACCEPT_TEXT: &str = "text/plain;version=0.0.4;q=1.0,*/*;q=0.1";

/// The engines and exporters infersight knows how to scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// vLLM's OpenAI server, `:8000/metrics`.
    Vllm,
    /// SGLang's server (with `--enable-metrics`), `:30000/metrics`.
    Sglang,
    /// Hugging Face TGI's Prometheus listener (`--prometheus-port`), `:9000/metrics`.
    Tgi,
    /// NVIDIA Triton Inference Server's metrics port, `:8002/metrics`.
    Triton,
    /// NVIDIA dcgm-exporter, `:9400/metrics`.
    Dcgm,
    /// Prometheus node exporter, `:9100/metrics`.
    Node,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 6] =
        [Preset::Vllm, Preset::Sglang, Preset::Tgi, Preset::Triton, Preset::Dcgm, Preset::Node];

    /// The name used in the configuration, the default job name and the `serving_engine` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Vllm => "vllm",
            Preset::Sglang => "sglang",
            Preset::Tgi => "tgi",
            Preset::Triton => "triton",
            Preset::Dcgm => "dcgm",
            Preset::Node => "node",
        }
    }

    /// The port a target without one is scraped on.
    pub fn default_port(self) -> u16 {
        match self {
            Preset::Vllm => 8000,
            Preset::Sglang => 30000,
            Preset::Tgi => 9000,
            Preset::Triton => 8002,
            Preset::Dcgm => 9400,
            Preset::Node => 9100,
        }
    }

    /// The metrics path.
    pub fn default_path(self) -> &'static str {
        "/metrics"
    }

    /// The `Accept` header to scrape with.
    pub fn accept(self) -> &'static str {
        match self {
            Preset::Vllm | Preset::Sglang => ACCEPT_TEXT,
            Preset::Tgi | Preset::Triton | Preset::Dcgm | Preset::Node => ACCEPT_OPENMETRICS,
        }
    }

    /// Relabelling steps run before the user's `metric_relabel_configs`.
    pub fn metric_relabel_configs(self) -> Vec<RelabelConfig> {
        match self {
            Preset::Vllm => vec![
                drop_created(),
                RelabelConfig {
                    source_labels: vec![series::METRIC_NAME.into()],
                    regex: "vllm:gpu_cache_usage_perc".into(),
                    target_label: series::METRIC_NAME.into(),
                    replacement: "vllm:kv_cache_usage_perc".into(),
                    ..RelabelConfig::default()
                },
            ],
            Preset::Sglang => vec![drop_created()],
            Preset::Dcgm => {
                let mut steps = Vec::new();
                for (old, new) in [("hostname", "Hostname"), ("uuid", "UUID")] {
                    steps.push(RelabelConfig {
                        source_labels: vec![old.into()],
                        regex: "(.+)".into(),
                        target_label: new.into(),
                        ..RelabelConfig::default()
                    });
                    steps.push(RelabelConfig {
                        regex: old.into(),
                        action: Action::LabelDrop,
                        ..RelabelConfig::default()
                    });
                }
                steps
            }
            Preset::Tgi | Preset::Triton | Preset::Node => Vec::new(),
        }
    }
}

/// Drops the `<counter>_created` gauge families of single-process `prometheus_client` servers.
fn drop_created() -> RelabelConfig {
    RelabelConfig {
        source_labels: vec![series::METRIC_NAME.into()],
        regex: ".+_created".into(),
        action: Action::Drop,
        ..RelabelConfig::default()
    }
}

#[cfg(test)]
mod tests;
