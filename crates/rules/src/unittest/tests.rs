//! Tests of the series notation and of running a promtool-format test file.

use super::*;

#[test]
fn expanding_notation_follows_promtool() {
    let check = |text: &str, expect: Vec<Option<f64>>| {
        let got = expand_values(text).expect("notation parses");
        assert_eq!(got.len(), expect.len(), "{text}");
        for (g, e) in got.iter().zip(&expect) {
            assert_eq!(g.map(f64::to_bits), e.map(f64::to_bits), "{text}");
        }
    };
    check("1 2 3", vec![Some(1.0), Some(2.0), Some(3.0)]);
    check("0+10x3", vec![Some(0.0), Some(10.0), Some(20.0), Some(30.0)]);
    check("5-1x2", vec![Some(5.0), Some(4.0), Some(3.0)]);
    check("-1+1x1", vec![Some(-1.0), Some(0.0)]);
    check("7x2", vec![Some(7.0), Some(7.0), Some(7.0)]);
    check("1 _ _x2 stale", vec![Some(1.0), None, None, None, Some(STALE_NAN)]);
    check("1e3+1e3x1", vec![Some(1000.0), Some(2000.0)]);
    assert!(expand_values("1+x").is_err());
}

#[test]
fn series_parse_from_selector_syntax() {
    let labels = parse_series(r#"up{job="vllm", instance="a:8000"}"#).expect("selector parses");
    assert_eq!(labels.to_string(), r#"{__name__="up", instance="a:8000", job="vllm"}"#);
    let labels = parse_series(r#"{__name__="x:y", a="b"}"#).expect("name as a matcher parses");
    assert_eq!(labels.metric_name(), Some("x:y"));
    assert!(parse_series(r#"up{job=~"v.*"}"#).is_err());
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rules-unittest-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir can be created");
    dir
}

const RULES: &str = r#"
groups:
  - name: example
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
"#;

#[test]
fn passing_file_reports_success() {
    let dir = temp_dir("pass");
    write(&dir, "rules.yml", RULES);
    let test = write(
        &dir,
        "test.yml",
        r#"
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="vllm", instance="a"}'
        values: '1 1 0x10'
      - series: 'up{job="vllm", instance="b"}'
        values: '1x12'
    alert_rule_test:
      - eval_time: 5m
        alertname: InstanceDown
      - eval_time: 8m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, instance: a, job: vllm}
            exp_annotations: {summary: "a of vllm is down"}
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 4m
        exp_samples:
          - labels: 'job:up:sum{job="vllm"}'
            value: 1
"#,
    );
    let report = run(&test);
    assert!(report.is_success(), "{report}");
    assert!(report.to_string().contains("SUCCESS"));
}

#[test]
fn failing_expectations_are_reported_like_promtool() {
    let dir = temp_dir("fail");
    write(&dir, "rules.yml", RULES);
    let test = write(
        &dir,
        "test.yml",
        r#"
rule_files: [rules.yml]
tests:
  - input_series:
      - series: 'up{job="vllm", instance="a"}'
        values: '0x10'
    alert_rule_test:
      - eval_time: 2m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {severity: page, instance: a, job: vllm}
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 2m
        exp_samples:
          - labels: 'job:up:sum{job="vllm"}'
            value: 3
"#,
    );
    let report = run(&test);
    assert!(!report.is_success());
    let text = report.to_string();
    assert!(text.contains("FAILED"), "{text}");
    assert!(text.contains("alertname: InstanceDown, time: 2m"), "{text}");
    assert!(text.contains("expr: \"job:up:sum\", time: 2m"), "{text}");
}

#[test]
fn rule_files_that_do_not_load_fail_the_file() {
    let dir = temp_dir("bad");
    write(&dir, "rules.yml", "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n");
    let test = write(&dir, "test.yml", "rule_files: [rules.yml]\ntests: []\n");
    let report = run(&test);
    let error = report.files[0].error.as_deref().expect("loading fails");
    assert!(error.contains("could not parse expression"), "{error}");
}
