//! Prices checked key by key, and the generated cost rules evaluated on a fixture whose cost is computed by hand.

use super::*;
use crate::config::{Overrides, load_text};

fn problems(toml: &str) -> Vec<String> {
    match load_text(toml, &Overrides::default()) {
        Ok(_) => Vec::new(),
        Err(found) => found.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn wrong_units_and_values_are_precise_problems() {
    let found = problems(
        r#"
        [[cost.model]]
        model = "gpt-4o"
        input_per_1m_tokens = 0.0000025
        output_per_1m_tokens = -10
        [[cost.model]]
        model = "gpt-4o"
        input_per_1m_tokens = 250
        [[cost.gpu]]
        name = "h100"
        labels = { modelName = "NVIDIA H100 80GB HBM3" }
        per_hour = 2600
        model = "gpt-4o"
        [[cost.gpu]]
        name = "h100"
        per_hour = 0
        "#,
    );
    let expected = [
        "cost.model[0].input_per_1m_tokens: $0.0000025 per 1M tokens is less than a tenth of a cent: is it a price per token (multiply by 1,000,000) or per 1K tokens (multiply by 1,000)? (line 4)",
        "cost.model[0].output_per_1m_tokens: -10 is not a price: write dollars per 1M tokens, 0 or more (line 5)",
        "cost.model[1].model: \"gpt-4o\" is priced twice (line 7)",
        "cost.model[1].output_per_1m_tokens: missing: the price in dollars per 1M tokens (0 when they are free) (line 6)",
        "cost.gpu[0].model: \"gpt-4o\" is priced by its tokens in [[cost.model]] already (line 13)",
        "cost.gpu[0].per_hour: $2600 per GPU-hour is more than any cloud charges for one GPU: is it per month (divide by 730) or for a whole machine (divide by its GPUs)? (line 12)",
        "cost.gpu[1].name: \"h100\" is empty or used twice (line 15)",
        "cost.gpu[1].labels: must pick the GPUs by at least one label of DCGM's series, as { modelName = \"NVIDIA H100 80GB HBM3\" } (line 14)",
        "cost.gpu[1].per_hour: 0 is not a price: write dollars per GPU-hour, more than 0 (line 16)",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|e| !found.iter().any(|f| f == e)).collect();
    assert!(missing.is_empty(), "missing {missing:#?}\nfound {found:#?}");
    let typo = problems("[[cost.model]]\nmodel = \"m\"\ninput_per_1m_token = 1\n");
    assert!(typo[0].contains("did you mean cost.model[0].input_per_1m_tokens?"), "{typo:?}");
}

#[test]
fn no_price_no_rules() {
    let (_, config) = load_text("", &Overrides::default()).expect("valid");
    assert_eq!(config.cost, CostSettings::default());
    assert_eq!(config.cost.rule_file(), None);
    assert!(!config.rule_files.iter().any(|f| matches!(f.source, rules::RuleSource::Generated { .. })));
}

/// Hand computation of the fixture below, evaluated 10 minutes in (rates over 5 minutes):
///
/// - gpt-4o, hosted at $2.50 per 1M input and $10 per 1M output tokens:
///   600,000 input tokens a minute (10,000/s) and 120,000 output tokens a
///   minute (2,000/s): 10,000 · 2.5e-6 + 2,000 · 10e-6 = 0.025 + 0.020 =
///   $0.045/s ($162 an hour); per 1M output tokens 0.045 / 2,000 · 1e6 =
///   $22.50; 10 requests/s: per 1M requests 0.045 / 10 · 1e6 = $4,500.
///   Gateway key team-a sends all of it: its cost is the same $0.045/s.
/// - llama on pool h100: two H100s at $3.60 per GPU-hour, so 2 GPU-hours
///   an hour cost $7.20 = $0.002/s (the A100 is not in the pool); busy 75 %
///   and 25 %, so idle (0.25 + 0.75) · $0.001 = $0.001/s; 1,000 output
///   tokens/s: 0.002 / 1,000 · 1e6 = $2.00 per 1M; 2 requests/s: $1,000 per 1M.
/// - quality per dollar: llama's reference score averages 48/60 = 0.8,
///   0.8 / 2.00 = 0.4; gpt-4o's averages 30/60 = 0.5, 0.5 / 22.50 = 0.0222….
const FIXTURE_TEST: &str = r#"
rule_files:
  - cost.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'gen_ai_client_token_usage_sum{gen_ai_request_model="gpt-4o", gen_ai_token_type="input", server_address="api.openai.com", infersight_gateway_key="team-a"}'
        values: '0+600000x15'
      - series: 'gen_ai_client_token_usage_sum{gen_ai_request_model="gpt-4o", gen_ai_token_type="output", server_address="api.openai.com", infersight_gateway_key="team-a"}'
        values: '0+120000x15'
      - series: 'gen_ai_client_operation_duration_seconds_count{gen_ai_request_model="gpt-4o"}'
        values: '0+600x15'
      - series: 'gen_ai_client_token_usage_sum{gen_ai_request_model="llama", gen_ai_token_type="output"}'
        values: '0+60000x15'
      - series: 'gen_ai_client_token_usage_sum{gen_ai_request_model="llama", gen_ai_token_type="input"}'
        values: '0+300000x15'
      - series: 'gen_ai_client_operation_duration_seconds_count{gen_ai_request_model="llama"}'
        values: '0+120x15'
      - series: 'DCGM_FI_DEV_GPU_UTIL{gpu="0", modelName="NVIDIA H100 80GB HBM3", Hostname="n1"}'
        values: '75x15'
      - series: 'DCGM_FI_DEV_GPU_UTIL{gpu="1", modelName="NVIDIA H100 80GB HBM3", Hostname="n1"}'
        values: '25x15'
      - series: 'DCGM_FI_DEV_GPU_UTIL{gpu="0", modelName="NVIDIA A100-SXM4-80GB", Hostname="n2"}'
        values: '10x15'
      - series: 'gen_ai_evaluation_score_sum{gen_ai_request_model="llama", gen_ai_evaluation_name="reference"}'
        values: '0+48x15'
      - series: 'gen_ai_evaluation_score_count{gen_ai_request_model="llama", gen_ai_evaluation_name="reference"}'
        values: '0+60x15'
      - series: 'gen_ai_evaluation_score_sum{gen_ai_request_model="gpt-4o", gen_ai_evaluation_name="reference"}'
        values: '0+30x15'
      - series: 'gen_ai_evaluation_score_count{gen_ai_request_model="gpt-4o", gen_ai_evaluation_name="reference"}'
        values: '0+60x15'
    promql_expr_test:
      - expr: infersight:cost_dollars_per_second
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:cost_dollars_per_second{cost_source="tokens", gen_ai_request_model="gpt-4o"}'
            value: 0.045
          - labels: 'infersight:cost_dollars_per_second{cost_source="gpus", gen_ai_request_model="llama"}'
            value: 0.002
      - expr: infersight:key_cost_dollars_per_second
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:key_cost_dollars_per_second{infersight_gateway_key="team-a", gen_ai_request_model="gpt-4o"}'
            value: 0.045
      - expr: infersight:gpu_cost_dollars_per_second
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:gpu_cost_dollars_per_second{gpu_pool="h100", gen_ai_request_model="llama"}'
            value: 0.002
      - expr: infersight:gpu_idle_cost_dollars_per_second
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:gpu_idle_cost_dollars_per_second{gpu_pool="h100", gen_ai_request_model="llama"}'
            value: 0.001
      - expr: infersight:cost_dollars_per_1m_output_tokens
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:cost_dollars_per_1m_output_tokens{gen_ai_request_model="gpt-4o"}'
            value: 22.5
          - labels: 'infersight:cost_dollars_per_1m_output_tokens{gen_ai_request_model="llama"}'
            value: 2
      - expr: infersight:cost_dollars_per_1m_requests
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:cost_dollars_per_1m_requests{gen_ai_request_model="gpt-4o"}'
            value: 4500
          - labels: 'infersight:cost_dollars_per_1m_requests{gen_ai_request_model="llama"}'
            value: 1000
      - expr: infersight:quality_per_dollar
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:quality_per_dollar{gen_ai_evaluation_name="reference", gen_ai_request_model="gpt-4o"}'
            value: 0.022222222222222223
          - labels: 'infersight:quality_per_dollar{gen_ai_evaluation_name="reference", gen_ai_request_model="llama"}'
            value: 0.4
      - expr: sum by (gpu_pool) (infersight:gpu_cost_dollars_per_second) * 3600
        eval_time: 10m
        exp_samples:
          - labels: '{gpu_pool="h100"}'
            value: 7.2
"#;

#[test]
fn cost_rules_equal_a_hand_computation_on_a_fixture() {
    let (_, config) = load_text(
        r#"
        [[cost.model]]
        model = "gpt-4o"
        input_per_1m_tokens = 2.5
        output_per_1m_tokens = 10
        cached_input_per_1m_tokens = 1.25
        [[cost.gpu]]
        name = "h100"
        labels = { modelName = "NVIDIA H100 80GB HBM3" }
        per_hour = 3.6
        model = "llama"
        "#,
        &Overrides::default(),
    )
    .expect("valid prices");
    let generated = config.rule_files.iter().find_map(|f| match &f.source {
        rules::RuleSource::Generated { file, yaml } => Some((file.clone(), yaml.clone())),
        _ => None,
    });
    let (file, yaml) = generated.expect("cost rules among the rule files");
    assert_eq!(file, "generated/cost.yml");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cost.yml"), &yaml).expect("write rules");
    let test = dir.path().join("cost_test.yml");
    std::fs::write(&test, FIXTURE_TEST).expect("write test");
    let report = rules::unittest::run(&test);
    assert!(report.is_success(), "{report}\n{yaml}");
}

/// Hand computation of the machine-priced fixture below, 10 minutes in:
///
/// - qwen on pool g6e: two g6e.12xlarge machines (n3 and n4, each scraped
///   twice: its engine and its node exporter, hence `by = "Hostname"`) at
///   $10.08 per instance-hour: 2 · 10.08 = $20.16 an hour = $0.0056/s (the
///   p4d machine is not in the pool); 500 output tokens/s:
///   0.0056 / 500 · 1e6 = $11.20 per 1M output tokens.
const INSTANCE_FIXTURE_TEST: &str = r#"
rule_files:
  - cost.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="vllm", instance="10.0.0.3:8000", Hostname="n3", instance_type="g6e.12xlarge"}'
        values: '1x15'
      - series: 'up{job="node", instance="10.0.0.3:9100", Hostname="n3", instance_type="g6e.12xlarge"}'
        values: '1x15'
      - series: 'up{job="vllm", instance="10.0.0.4:8000", Hostname="n4", instance_type="g6e.12xlarge"}'
        values: '0x15'
      - series: 'up{job="node", instance="10.0.0.4:9100", Hostname="n4", instance_type="g6e.12xlarge"}'
        values: '1x15'
      - series: 'up{job="vllm", instance="10.0.0.5:8000", Hostname="n5", instance_type="p4d.24xlarge"}'
        values: '1x15'
      - series: 'gen_ai_client_token_usage_sum{gen_ai_request_model="qwen", gen_ai_token_type="output"}'
        values: '0+30000x15'
    promql_expr_test:
      - expr: infersight:instance_cost_dollars_per_second
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:instance_cost_dollars_per_second{instance_pool="g6e", gen_ai_request_model="qwen"}'
            value: 0.0056
      - expr: infersight:cost_dollars_per_second
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:cost_dollars_per_second{cost_source="instances", gen_ai_request_model="qwen"}'
            value: 0.0056
      - expr: infersight:cost_dollars_per_1m_output_tokens
        eval_time: 10m
        exp_samples:
          - labels: 'infersight:cost_dollars_per_1m_output_tokens{gen_ai_request_model="qwen"}'
            value: 11.2
"#;

#[test]
fn instance_prices_count_each_machine_once_and_equal_a_hand_computation() {
    let (_, config) = load_text(
        r#"
        [[cost.instance]]
        name = "g6e"
        labels = { instance_type = "g6e.12xlarge" }
        per_hour = 10.08
        by = "Hostname"
        model = "qwen"
        "#,
        &Overrides::default(),
    )
    .expect("valid prices");
    let yaml = config.cost.rule_file().expect("cost rules");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cost.yml"), &yaml).expect("write rules");
    let test = dir.path().join("cost_test.yml");
    std::fs::write(&test, INSTANCE_FIXTURE_TEST).expect("write test");
    let report = rules::unittest::run(&test);
    assert!(report.is_success(), "{report}\n{yaml}");
}

#[test]
fn instance_prices_with_wrong_units_are_precise_problems() {
    let found = problems(
        r#"
        [[cost.model]]
        model = "gpt-4o"
        input_per_1m_tokens = 2.5
        output_per_1m_tokens = 10
        [[cost.instance]]
        name = "p5"
        labels = { instance_type = "p5.48xlarge" }
        per_hour = 71540
        by = "host-name"
        model = "gpt-4o"
        [[cost.instance]]
        name = "p5"
        per_hour = -3
        "#,
    );
    let expected = [
        "cost.instance[0].per_hour: $71540 per instance-hour is more than any cloud charges for one machine: is it per month (divide by 730)? (line 9)",
        "cost.instance[0].by: \"host-name\" is not a label name (line 10)",
        "cost.instance[0].model: \"gpt-4o\" is priced by its tokens in [[cost.model]] already (line 11)",
        "cost.instance[1].name: \"p5\" is empty or used twice (line 13)",
        "cost.instance[1].labels: must pick the machines' scrape targets by at least one label, as { instance_type = \"p5.48xlarge\" } (line 12)",
        "cost.instance[1].per_hour: -3 is not a price: write dollars per instance-hour, more than 0 (line 14)",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|e| !found.iter().any(|f| f == e)).collect();
    assert!(missing.is_empty(), "missing {missing:#?}\nfound {found:#?}");
}
