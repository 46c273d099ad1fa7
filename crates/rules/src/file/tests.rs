//! Tests of rule-file parsing and validation.

use super::*;

fn problems(text: &str) -> Vec<String> {
    parse_file("rules.yml", text).expect_err("the file is invalid").iter().map(ToString::to_string).collect()
}

fn check_problem(text: &str, expect: &str) {
    let found = problems(text);
    assert!(found.iter().any(|p| p.contains(expect)), "expected a problem containing {expect:?}, got {found:#?}");
}

#[test]
fn valid_file_parses_into_groups_and_rules() {
    let groups = parse_file(
        "rules.yml",
        r#"
groups:
  - name: g
    interval: 30s
    limit: 10
    query_offset: 1m
    labels:
      team: serving
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels:
          team: infra
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} down"
      - record: one
        expr: 1
"#,
    )
    .expect("the file is valid");
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(group.key(), "rules.yml;g");
    assert_eq!(group.interval, Some(Duration::from_secs(30)));
    assert_eq!(group.query_offset, Some(Duration::from_secs(60)));
    assert_eq!(group.limit, 10);
    assert_eq!(group.rules[0].labels["team"], "infra", "rule labels override group labels");
    assert_eq!(group.rules[1].labels["team"], "serving", "group labels apply to every rule");
    assert_eq!(group.rules[1].line, Some(14));
    assert_eq!(group.rules[2].expr, "1");
    let RuleKind::Alerting { hold, keep_firing_for, annotations } = &group.rules[1].kind else {
        panic!("the second rule is an alert")
    };
    assert_eq!((*hold, *keep_firing_for), (Duration::from_secs(300), Duration::from_secs(120)));
    assert_eq!(annotations["summary"], "{{ $labels.instance }} down");
}

#[test]
fn yaml_errors_and_unknown_fields_carry_line_and_column() {
    let found = parse_file("rules.yml", "groups:\n  - name: g\n    rules:\n      - record: x\n        exprr: up\n")
        .expect_err("unknown field");
    assert_eq!(found[0].position.line, Some(5));
    assert!(found[0].message.contains("unknown field `exprr`"), "{}", found[0].message);
    let found = parse_file("rules.yml", "groups:\n  - name: [\n").expect_err("bad YAML");
    assert!(found[0].position.line.is_some());
}

#[test]
fn rule_problems_name_file_group_rule_and_line() {
    let found = problems(
        "groups:\n  - name: g\n    rules:\n      - record: ok\n        expr: up\n      - record: bad\n        expr: sum(\n",
    );
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("rules.yml:6: group \"g\", rule \"bad\": could not parse expression"), "{}", found[0]);
}

#[test]
fn invalid_rules_are_refused_as_prometheus_refuses_them() {
    let rule = |body: &str| format!("groups:\n  - name: g\n    rules:\n      - {body}\n");
    check_problem(
        &rule("record: x\n        alert: y\n        expr: up"),
        "only one of 'record' and 'alert' must be set",
    );
    check_problem(&rule("expr: up"), "one of 'record' or 'alert' must be set");
    check_problem(&rule("record: x"), "field 'expr' must be set in rule");
    check_problem(&rule("record: 'bad name'\n        expr: up"), "invalid recording rule name: bad name");
    check_problem(&rule("record: x\n        expr: up\n        for: 5m"), "invalid field 'for' in recording rule");
    check_problem(&rule("record: x\n        expr: up\n        annotations: {a: b}"), "invalid field 'annotations'");
    check_problem(&rule("alert: A\n        expr: up\n        labels: {'bad-name': x}"), "invalid label name: bad-name");
    check_problem(&rule("alert: A\n        expr: up\n        for: 5 minutes"), "for: invalid duration");
    check_problem(
        &rule("alert: A\n        expr: up\n        annotations: {summary: '{{ $nope }}'}"),
        "error parsing templates",
    );
    check_problem("groups:\n  - name: g\n  - name: g\n", "groupname: \"g\" is repeated in the same file");
    check_problem("groups:\n  - rules: []\n", "Groupname must not be empty");
    check_problem(&rule("record: x\n        expr: up\n      - record: x\n        expr: up"), "duplicate rule");
}

#[test]
fn globs_match_file_names() {
    for (pattern, name, expect) in [
        ("*.yml", "a.yml", true),
        ("*.yml", "a.yaml", false),
        ("rules-?.yml", "rules-1.yml", true),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
    ] {
        assert_eq!(glob_match(pattern, name), expect, "{pattern} ~ {name}");
    }
    let dir = std::env::temp_dir().join(format!("rules-glob-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir can be created");
    for name in ["b.yml", "a.yml", "c.txt"] {
        std::fs::write(dir.join(name), "groups: []\n").expect("temp dir is writable");
    }
    let pattern = format!("{}/*.yml", dir.display());
    let files = expand_patterns(&[pattern]).expect("the directory exists");
    let names: Vec<String> =
        files.iter().map(|p| p.file_name().expect("a file").to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["a.yml", "b.yml"]);
}
