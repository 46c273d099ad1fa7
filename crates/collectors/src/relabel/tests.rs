//! Tests of relabelling: each case is rules in TOML, labels in, labels out.

use super::*;

#[derive(Deserialize)]
struct Rules {
    rule: Vec<RelabelConfig>,
}

fn rules(toml_text: &str) -> Vec<Rule> {
    let parsed: Rules = toml::from_str(toml_text).expect("rules parse");
    parsed.rule.iter().map(|c| c.compile().expect("rule compiles")).collect()
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    let mut set = LabelSet::new();
    for (n, v) in pairs {
        set.set(n, v);
    }
    set
}

/// Runs the rules; `None` means dropped, else the sorted `name=value` list.
fn check(toml_text: &str, input: &[(&str, &str)], expect: Option<&str>) {
    let mut set = labels(input);
    let kept = process(&rules(toml_text), &mut set);
    let got = kept.then(|| {
        set.sort();
        set.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(",")
    });
    assert_eq!(got.as_deref(), expect, "rules:\n{toml_text}");
}

#[test]
fn replace_expands_capture_groups_into_the_target() {
    let rule = r#"
        [[rule]]
        source_labels = ["__address__"]
        regex = "([^:]+):(?P<port>\\d+)"
        target_label = "host_${port}"
        replacement = "$1 on ${port}"
    "#;
    check(rule, &[("__address__", "gpu-1:8000")], Some("__address__=gpu-1:8000,host_8000=gpu-1 on 8000"));
    // No match: nothing changes.
    check(rule, &[("__address__", "gpu-1")], Some("__address__=gpu-1"));
}

#[test]
fn patterns_match_whole_values_and_dot_matches_newlines_as_in_prometheus() {
    let keep = r#"
        [[rule]]
        action = "keep"
        source_labels = ["a"]
        regex = "x.*"
    "#;
    check(keep, &[("a", "x\ny")], Some("a=x\ny"));
    check(keep, &[("a", "yx")], None);
}

#[test]
fn replace_with_an_empty_result_removes_the_target() {
    check(
        r#"
        [[rule]]
        source_labels = ["a"]
        regex = "x"
        target_label = "b"
        replacement = ""
        "#,
        &[("a", "x"), ("b", "1")],
        Some("a=x"),
    );
}

#[test]
fn source_labels_join_with_the_separator_and_missing_labels_are_empty() {
    check(
        r#"
        [[rule]]
        source_labels = ["a", "missing", "b"]
        separator = "/"
        target_label = "joined"
        "#,
        &[("a", "1"), ("b", "2")],
        Some("a=1,b=2,joined=1//2"),
    );
}

#[test]
fn regexes_are_fully_anchored() {
    let rule = r#"
        [[rule]]
        source_labels = ["__name__"]
        regex = "vllm:.*_created"
        action = "drop"
    "#;
    check(rule, &[("__name__", "vllm:prompt_tokens_created")], None);
    check(rule, &[("__name__", "vllm:prompt_tokens_created_x")], Some("__name__=vllm:prompt_tokens_created_x"));
    check(rule, &[("__name__", "x_vllm:a_created")], Some("__name__=x_vllm:a_created"));
}

#[test]
fn keep_and_drop_filter_series() {
    let keep = r#"
        [[rule]]
        source_labels = ["gpu"]
        regex = "0|1"
        action = "keep"
    "#;
    check(keep, &[("gpu", "1")], Some("gpu=1"));
    check(keep, &[("gpu", "2")], None);
    check(keep, &[], None);
}

#[test]
fn labelmap_labeldrop_and_labelkeep_work_on_names() {
    check(
        r#"
        [[rule]]
        regex = "__meta_(.+)"
        action = "labelmap"
        [[rule]]
        regex = "__meta_.+"
        action = "labeldrop"
        "#,
        &[("__meta_zone", "a"), ("x", "1")],
        Some("x=1,zone=a"),
    );
    check(
        r#"
        [[rule]]
        regex = "__name__|model_name"
        action = "labelkeep"
        "#,
        &[("__name__", "m"), ("model_name", "llama"), ("pid", "7")],
        Some("__name__=m,model_name=llama"),
    );
}

#[test]
fn hashmod_matches_prometheus() {
    // The case of Prometheus's relabel_test.go: md5("baz"), last 8 bytes big-endian, modulo 1000.
    check(
        r#"
        [[rule]]
        source_labels = ["a"]
        target_label = "shard"
        modulus = 1000
        action = "hashmod"
        "#,
        &[("a", "baz")],
        Some("a=baz,shard=976"),
    );
}

#[test]
fn case_and_equality_actions() {
    check(
        r#"
        [[rule]]
        source_labels = ["m"]
        target_label = "lower"
        action = "lowercase"
        [[rule]]
        source_labels = ["m"]
        target_label = "upper"
        action = "uppercase"
        "#,
        &[("m", "Llama")],
        Some("lower=llama,m=Llama,upper=LLAMA"),
    );
    let keepequal = r#"
        [[rule]]
        source_labels = ["a"]
        target_label = "b"
        action = "keepequal"
    "#;
    check(keepequal, &[("a", "1"), ("b", "1")], Some("a=1,b=1"));
    check(keepequal, &[("a", "1"), ("b", "2")], None);
}

#[test]
fn compile_reports_every_problem_with_its_key() {
    let config = RelabelConfig { regex: "(".into(), action: Action::HashMod, ..RelabelConfig::default() };
    let problems = config.compile().expect_err("invalid");
    let keys: Vec<&str> = problems.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ["regex", "target_label", "modulus", "source_labels"]);
}

#[test]
fn unknown_keys_and_actions_are_rejected() {
    assert!(toml::from_str::<Rules>("[[rule]]\nsource_label = [\"a\"]").is_err());
    assert!(toml::from_str::<Rules>("[[rule]]\naction = \"rename\"").is_err());
}
