//! `[cost]`: prices of hosted models and of GPUs, checked, and the recording rules that turn them into cost series.
//!
//! `[[cost.model]]` prices a hosted model's tokens (dollars per 1M input,
//! output and cached-input tokens); `[[cost.gpu]]` prices self-hosted GPUs
//! (dollars per GPU-hour, matched by labels of DCGM's series such as
//! `modelName`), optionally naming the model they serve; `[[cost.instance]]`
//! prices whole machines (dollars per instance-hour, matched by labels of
//! their scrape targets such as an `instance_type` label, counted once per
//! value of `by`), as clouds bill them. No price, no
//! series: without a `[cost]` entry no rule is generated. The rules are one
//! group, `infersight-cost`, filed as `generated/cost.yml` and loaded like
//! any rule file:
//!
//! - `infersight:cost_dollars_per_second{gen_ai_request_model, cost_source="tokens"}`:
//!   the gateway's token counters (`gen_ai_client_token_usage_sum`) times the prices;
//! - `infersight:key_cost_dollars_per_second{infersight_gateway_key, gen_ai_request_model}`:
//!   the same by `[[gateway.key]]`, so that cost is split by team (requests
//!   without a named key are left out);
//! - `infersight:gpu_cost_dollars_per_second{gpu_pool, gen_ai_request_model?}`:
//!   GPUs reporting `DCGM_FI_DEV_GPU_UTIL` times the hourly price, and
//!   `infersight:gpu_idle_cost_dollars_per_second`, the share of it the GPUs
//!   spent idle (`1 − utilization`), shown rather than hidden;
//! - `infersight:instance_cost_dollars_per_second{instance_pool, gen_ai_request_model?}`:
//!   the machines with a target in `up{labels}` (one per value of `by`) times
//!   the hourly price;
//! - `infersight:cost_dollars_per_second{gen_ai_request_model, cost_source="gpus"|"instances"}`:
//!   a pool's whole cost, idle share included, on the model it serves;
//! - `infersight:cost_dollars_per_1m_output_tokens` and
//!   `infersight:cost_dollars_per_1m_requests` per model;
//! - `infersight:quality_per_dollar{gen_ai_request_model, gen_ai_evaluation_name}`:
//!   a score's mean over the window divided by the model's dollars per 1M
//!   output tokens (higher is better: more quality for the money).
//!
//! Rates are over 5 minutes. The gateway does not count cached input
//! tokens apart yet, so `cached_input_per_1m_tokens` is checked and kept
//! but every input token is priced at `input_per_1m_tokens`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::Problem;

/// Window of the rates the cost rules take.
const RATE_WINDOW: &str = "5m";
/// Below this, a price per 1M tokens is a price per token or per 1K tokens
/// written in the wrong field: the cheapest hosted models charge about $0.01.
const LEAST_PER_1M_TOKENS: f64 = 0.001;
/// Above this, a price per 1M tokens is in cents or per 1B tokens.
const MOST_PER_1M_TOKENS: f64 = 2_000.0;
/// Above this, a price per GPU-hour is per month or for a whole machine
/// (an H100 rents for about $2–12 an hour; a month is 730 hours).
const MOST_PER_GPU_HOUR: f64 = 200.0;
/// Above this, a price per instance-hour is per month (the largest 8-GPU
/// cloud machines rent for about $100 an hour).
const MOST_PER_INSTANCE_HOUR: f64 = 500.0;

/// `[cost]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// Prices of hosted models (`[[cost.model]]`).
    #[serde(default)]
    pub model: Vec<RawModelPrice>,
    /// Prices of self-hosted GPUs (`[[cost.gpu]]`).
    #[serde(default)]
    pub gpu: Vec<RawGpuPrice>,
    /// Prices of self-hosted machines (`[[cost.instance]]`).
    #[serde(default)]
    pub instance: Vec<RawInstancePrice>,
}

/// `[[cost.model]]`: a hosted model's prices, dollars per 1M tokens.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelPrice {
    /// The model as clients ask for it (`gen_ai_request_model`).
    pub model: String,
    /// Dollars per 1M input (prompt) tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_per_1m_tokens: Option<f64>,
    /// Dollars per 1M output (completion) tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_per_1m_tokens: Option<f64>,
    /// Dollars per 1M cached input tokens (kept for when the gateway counts them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_per_1m_tokens: Option<f64>,
}

/// `[[cost.gpu]]`: the hourly price of the GPUs whose DCGM series carry `labels`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGpuPrice {
    /// The pool's name, the `gpu_pool` label of its series.
    pub name: String,
    /// Exact label values of `DCGM_FI_DEV_GPU_UTIL` that pick the pool's
    /// GPUs: `{ modelName = "NVIDIA H100 80GB HBM3" }`, `{ Hostname = "gpu-7" }`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Dollars per GPU-hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<f64>,
    /// The model the pool serves (`gen_ai_request_model`); its cost goes to
    /// that model. Without one the pool's cost is its own series only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// `[[cost.instance]]`: the hourly price of the machines whose scrape
/// targets carry `labels`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstancePrice {
    /// The pool's name, the `instance_pool` label of its series.
    pub name: String,
    /// Exact label values of `up` that pick the machines' targets:
    /// `{ instance_type = "p5.48xlarge" }`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Dollars per instance-hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_hour: Option<f64>,
    /// The label that names one machine, so that a machine with several
    /// targets (engine, DCGM, node exporter) is paid for once (default
    /// `instance`, one machine per target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The model the machines serve (`gen_ai_request_model`); their cost goes
    /// to that model. Without one the pool's cost is its own series only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// A hosted model's checked prices, dollars per token.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    /// The model.
    pub model: String,
    /// Dollars per input token.
    pub input_per_token: f64,
    /// Dollars per output token.
    pub output_per_token: f64,
    /// Dollars per cached input token, when given.
    pub cached_input_per_token: Option<f64>,
}

/// A GPU pool's checked price.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuPrice {
    /// The pool's name.
    pub name: String,
    /// Labels its GPUs' series carry.
    pub labels: BTreeMap<String, String>,
    /// Dollars per GPU-second.
    pub per_second: f64,
    /// The model it serves.
    pub model: Option<String>,
}

/// A machine pool's checked price.
#[derive(Debug, Clone, PartialEq)]
pub struct InstancePrice {
    /// The pool's name.
    pub name: String,
    /// Labels its machines' targets carry.
    pub labels: BTreeMap<String, String>,
    /// Dollars per instance-second.
    pub per_second: f64,
    /// The label naming one machine.
    pub by: String,
    /// The model it serves.
    pub model: Option<String>,
}

/// The checked `[cost]` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostSettings {
    /// Hosted models' prices.
    pub models: Vec<ModelPrice>,
    /// GPU pools' prices.
    pub gpus: Vec<GpuPrice>,
    /// Machine pools' prices.
    pub instances: Vec<InstancePrice>,
}

impl CostSettings {
    /// The hosted models' token prices, for the gateway keys' `daily_dollars`.
    pub fn token_prices(&self) -> Vec<proxy::TokenPrice> {
        self.models
            .iter()
            .map(|price| proxy::TokenPrice {
                model: price.model.clone(),
                input_per_token: price.input_per_token,
                output_per_token: price.output_per_token,
            })
            .collect()
    }

    /// The cost rules as a Prometheus rule file; `None` when nothing is priced.
    pub fn rule_file(&self) -> Option<String> {
        if self.models.is_empty() && self.gpus.is_empty() && self.instances.is_empty() {
            return None;
        }
        let mut rules: Vec<Rule> = Vec::new();
        let tokens = |model: &str, kind: &str| {
            format!(
                "sum by (gen_ai_request_model) (rate(gen_ai_client_token_usage_sum{{gen_ai_request_model={},gen_ai_token_type=\"{kind}\"}}[{RATE_WINDOW}]))",
                quote(model)
            )
        };
        for price in &self.models {
            let expr = format!(
                "{} * {} + {} * {}",
                tokens(&price.model, "input"),
                number(price.input_per_token),
                tokens(&price.model, "output"),
                number(price.output_per_token)
            );
            rules.push((
                "infersight:cost_dollars_per_second".into(),
                expr,
                vec![("cost_source".into(), "tokens".into())],
            ));
        }
        let key_tokens = |model: &str, kind: &str| {
            format!(
                "sum by (infersight_gateway_key, gen_ai_request_model) (rate(gen_ai_client_token_usage_sum{{gen_ai_request_model={},gen_ai_token_type=\"{kind}\",infersight_gateway_key!=\"\"}}[{RATE_WINDOW}]))",
                quote(model)
            )
        };
        for price in &self.models {
            let expr = format!(
                "{} * {} + {} * {}",
                key_tokens(&price.model, "input"),
                number(price.input_per_token),
                key_tokens(&price.model, "output"),
                number(price.output_per_token)
            );
            rules.push(("infersight:key_cost_dollars_per_second".into(), expr, Vec::new()));
        }
        let mut served = Vec::new();
        for pool in &self.gpus {
            let matchers: Vec<String> =
                pool.labels.iter().map(|(name, value)| format!("{name}={}", quote(value))).collect();
            let gpus = format!("DCGM_FI_DEV_GPU_UTIL{{{}}}", matchers.join(","));
            let mut labels = vec![("gpu_pool".to_owned(), pool.name.clone())];
            if let Some(model) = &pool.model {
                labels.push(("gen_ai_request_model".into(), model.clone()));
                if !served.contains(model) {
                    served.push(model.clone());
                }
            }
            let per_second = number(pool.per_second);
            rules.push((
                "infersight:gpu_cost_dollars_per_second".into(),
                format!("count({gpus}) * {per_second}"),
                labels.clone(),
            ));
            rules.push((
                "infersight:gpu_idle_cost_dollars_per_second".into(),
                format!("sum(1 - clamp({gpus}, 0, 100) / 100) * {per_second}"),
                labels,
            ));
        }
        let mut on_instances = Vec::new();
        for pool in &self.instances {
            let matchers: Vec<String> =
                pool.labels.iter().map(|(name, value)| format!("{name}={}", quote(value))).collect();
            let mut labels = vec![("instance_pool".to_owned(), pool.name.clone())];
            if let Some(model) = &pool.model {
                labels.push(("gen_ai_request_model".into(), model.clone()));
                if !on_instances.contains(model) {
                    on_instances.push(model.clone());
                }
            }
            rules.push((
                "infersight:instance_cost_dollars_per_second".into(),
                format!(
                    "count(count by ({by}) (up{{{matchers}}})) * {per_second}",
                    by = pool.by,
                    matchers = matchers.join(","),
                    per_second = number(pool.per_second)
                ),
                labels,
            ));
        }
        for (source, series, models) in [
            ("gpus", "infersight:gpu_cost_dollars_per_second", &served),
            ("instances", "infersight:instance_cost_dollars_per_second", &on_instances),
        ] {
            for model in models {
                rules.push((
                    "infersight:cost_dollars_per_second".into(),
                    format!("sum by (gen_ai_request_model) ({series}{{gen_ai_request_model={}}})", quote(model)),
                    vec![("cost_source".into(), source.into())],
                ));
            }
        }
        let by_model = "sum by (gen_ai_request_model) (infersight:cost_dollars_per_second)";
        rules.push((
            "infersight:cost_dollars_per_1m_output_tokens".into(),
            format!(
                "{by_model} / (sum by (gen_ai_request_model) (rate(gen_ai_client_token_usage_sum{{gen_ai_token_type=\"output\"}}[{RATE_WINDOW}])) > 0) * 1e6"
            ),
            Vec::new(),
        ));
        rules.push((
            "infersight:cost_dollars_per_1m_requests".into(),
            format!(
                "{by_model} / (sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count[{RATE_WINDOW}])) > 0) * 1e6"
            ),
            Vec::new(),
        ));
        let by_score = "sum by (gen_ai_request_model, gen_ai_evaluation_name)";
        rules.push((
            "infersight:quality_per_dollar".into(),
            format!(
                "({by_score} (rate(gen_ai_evaluation_score_sum[{RATE_WINDOW}])) / ({by_score} (rate(gen_ai_evaluation_score_count[{RATE_WINDOW}])) > 0)) / on (gen_ai_request_model) group_left () (infersight:cost_dollars_per_1m_output_tokens > 0)"
            ),
            Vec::new(),
        ));
        let mut yaml = String::from(
            "# Written by infersight from [cost] in its configuration; see crates/infersight/src/config/cost.rs.\ngroups:\n  - name: infersight-cost\n    rules:\n",
        );
        for (record, expr, labels) in rules {
            let _ = writeln!(yaml, "      - record: {record}\n        expr: {}", yaml_string(&expr));
            if !labels.is_empty() {
                let _ = writeln!(yaml, "        labels:");
                for (name, value) in labels {
                    let _ = writeln!(yaml, "          {name}: {}", yaml_string(&value));
                }
            }
        }
        Some(yaml)
    }
}

/// A recording rule: the series it records, its expression, its extra labels.
type Rule = (String, String, Vec<(String, String)>);

/// A PromQL string literal.
fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML single-quoted scalar.
fn yaml_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A number as PromQL reads it, exactly (Rust's shortest round-trip form).
fn number(value: f64) -> String {
    format!("{value:e}")
}

/// Checks `[cost]`: every problem is pushed with its key path.
pub(super) fn validate(raw: RawCost, problems: &mut Vec<Problem>) -> Option<CostSettings> {
    let before = problems.len();
    let mut settings = CostSettings::default();
    let mut hosted = HashSet::new();
    for (i, price) in raw.model.into_iter().enumerate() {
        let key = |field: &str| format!("cost.model[{i}].{field}");
        if price.model.is_empty() {
            problems.push(Problem { key: key("model"), message: "must name a model (gen_ai_request_model)".into() });
        } else if !hosted.insert(price.model.clone()) {
            problems.push(Problem { key: key("model"), message: format!("{:?} is priced twice", price.model) });
        }
        let mut per_token = |field: &str, value: Option<f64>, required: bool| -> Option<f64> {
            let Some(value) = value else {
                if required {
                    problems.push(Problem {
                        key: key(field),
                        message: "missing: the price in dollars per 1M tokens (0 when they are free)".into(),
                    });
                }
                return None;
            };
            match check_per_1m_tokens(value) {
                Ok(()) => Some(value / 1e6),
                Err(message) => {
                    problems.push(Problem { key: key(field), message });
                    None
                }
            }
        };
        let input = per_token("input_per_1m_tokens", price.input_per_1m_tokens, true);
        let output = per_token("output_per_1m_tokens", price.output_per_1m_tokens, true);
        let cached = per_token("cached_input_per_1m_tokens", price.cached_input_per_1m_tokens, false);
        if let (Some(input_per_token), Some(output_per_token)) = (input, output) {
            settings.models.push(ModelPrice {
                model: price.model,
                input_per_token,
                output_per_token,
                cached_input_per_token: cached,
            });
        }
    }
    let mut names = HashSet::new();
    for (i, pool) in raw.gpu.into_iter().enumerate() {
        let key = |field: &str| format!("cost.gpu[{i}].{field}");
        if pool.name.is_empty() || !names.insert(pool.name.clone()) {
            problems.push(Problem { key: key("name"), message: format!("{:?} is empty or used twice", pool.name) });
        }
        if pool.labels.is_empty() {
            problems.push(Problem {
                key: key("labels"),
                message: "must pick the GPUs by at least one label of DCGM's series, as { modelName = \"NVIDIA H100 80GB HBM3\" }".into(),
            });
        }
        let per_second = check_pool(
            &key,
            &pool.labels,
            pool.model.as_deref(),
            &hosted,
            pool.per_hour,
            "GPU",
            check_per_gpu_hour,
            problems,
        );
        if let Some(per_second) = per_second {
            settings.gpus.push(GpuPrice { name: pool.name, labels: pool.labels, per_second, model: pool.model });
        }
    }
    let mut instance_names = HashSet::new();
    for (i, pool) in raw.instance.into_iter().enumerate() {
        let key = |field: &str| format!("cost.instance[{i}].{field}");
        if pool.name.is_empty() || !instance_names.insert(pool.name.clone()) {
            problems.push(Problem { key: key("name"), message: format!("{:?} is empty or used twice", pool.name) });
        }
        if pool.labels.is_empty() {
            problems.push(Problem {
                key: key("labels"),
                message: "must pick the machines' scrape targets by at least one label, as { instance_type = \"p5.48xlarge\" }".into(),
            });
        }
        let by = pool.by.unwrap_or_else(|| "instance".to_owned());
        if !series::is_valid_label_name(&by) {
            problems.push(Problem { key: key("by"), message: format!("{by:?} is not a label name") });
        }
        let per_second = check_pool(
            &key,
            &pool.labels,
            pool.model.as_deref(),
            &hosted,
            pool.per_hour,
            "instance",
            check_per_instance_hour,
            problems,
        );
        if let Some(per_second) = per_second {
            settings.instances.push(InstancePrice {
                name: pool.name,
                labels: pool.labels,
                per_second,
                by,
                model: pool.model,
            });
        }
    }
    (problems.len() == before).then_some(settings)
}

/// What `[[cost.gpu]]` and `[[cost.instance]]` check alike: label names,
/// the model they serve (not one priced by its tokens), and the hourly price
/// (`unit` names the hour: "GPU", "instance"). The price per second, when valid.
#[allow(clippy::too_many_arguments)]
fn check_pool(
    key: &dyn Fn(&str) -> String,
    labels: &BTreeMap<String, String>,
    model: Option<&str>,
    hosted: &HashSet<String>,
    per_hour: Option<f64>,
    unit: &str,
    check: fn(f64) -> Result<(), String>,
    problems: &mut Vec<Problem>,
) -> Option<f64> {
    for name in labels.keys().filter(|name| !series::is_valid_label_name(name)) {
        problems.push(Problem { key: key(&format!("labels.{name}")), message: "is not a label name".into() });
    }
    if let Some(model) = model {
        if model.is_empty() {
            problems.push(Problem { key: key("model"), message: "must not be empty (leave it out)".into() });
        } else if hosted.contains(model) {
            problems.push(Problem {
                key: key("model"),
                message: format!("{model:?} is priced by its tokens in [[cost.model]] already"),
            });
        }
    }
    let Some(value) = per_hour else {
        problems.push(Problem { key: key("per_hour"), message: format!("missing: dollars per {unit}-hour") });
        return None;
    };
    check(value)
        .map(|()| value / 3600.0)
        .map_err(|message| problems.push(Problem { key: key("per_hour"), message }))
        .ok()
}

fn check_per_1m_tokens(value: f64) -> Result<(), String> {
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{value} is not a price: write dollars per 1M tokens, 0 or more"));
    }
    if value > 0.0 && value < LEAST_PER_1M_TOKENS {
        return Err(format!(
            "${value} per 1M tokens is less than a tenth of a cent: is it a price per token (multiply by 1,000,000) or per 1K tokens (multiply by 1,000)?"
        ));
    }
    if value > MOST_PER_1M_TOKENS {
        return Err(format!("${value} per 1M tokens is more than any model charges: is it in cents (divide by 100)?"));
    }
    Ok(())
}

fn check_per_instance_hour(value: f64) -> Result<(), String> {
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("{value} is not a price: write dollars per instance-hour, more than 0"));
    }
    if value > MOST_PER_INSTANCE_HOUR {
        return Err(format!(
            "${value} per instance-hour is more than any cloud charges for one machine: is it per month (divide by 730)?"
        ));
    }
    Ok(())
}

fn check_per_gpu_hour(value: f64) -> Result<(), String> {
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("{value} is not a price: write dollars per GPU-hour, more than 0"));
    }
    if value > MOST_PER_GPU_HOUR {
        return Err(format!(
            "${value} per GPU-hour is more than any cloud charges for one GPU: is it per month (divide by 730) or for a whole machine (divide by its GPUs)?"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
