//! The Grafana dashboards in `dashboards/grafana/`: valid JSON, a `${datasource}`
//! variable, and PromQL in every panel that the engine's parser (`promql::parse`) accepts once
//! Grafana's variables are filled in.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn dashboards() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dashboards/grafana");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dashboards/grafana exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Grafana's variables, replaced the way Grafana would before sending the query.
fn interpolate(expr: &str) -> String {
    let mut out = expr.to_owned();
    for (from, to) in [("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h"), ("${__range}", "1h")] {
        out = out.replace(from, to);
    }
    // Template variables (`$model`, `${model}`) only appear inside regex matchers here.
    replace_variables(&out).unwrap_or(out)
}

/// Replaces `$name` and `${name}` with `.*` (what "All" becomes); `None` if a `$` starts no variable.
fn replace_variables(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphanumeric() || n == '_' {
                name.push(n);
                chars.next();
            } else {
                break;
            }
        }
        if braced && chars.next() != Some('}') {
            return None;
        }
        if name.is_empty() {
            return None;
        }
        out.push_str(".*");
    }
    Some(out)
}

fn panels(value: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for panel in value["panels"].as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panels(panel));
    }
    out
}

#[test]
fn every_dashboard_uses_the_datasource_variable() {
    let files = dashboards();
    let names: Vec<String> =
        files.iter().filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().into_owned())).collect();
    for expected in ["overview", "performance", "capacity", "quality"] {
        assert!(names.iter().any(|n| n == expected), "dashboards/grafana/{expected}.json is missing");
    }
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let dashboard: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let variables = dashboard["templating"]["list"].as_array().expect("templating.list");
        assert!(
            variables
                .iter()
                .any(|v| v["name"] == "datasource" && v["type"] == "datasource" && v["query"] == "prometheus"),
            "{}: no datasource variable",
            file.display()
        );
        for panel in panels(&dashboard).into_iter().filter(|p| p["type"] != "row") {
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{}: panel {}", file.display(), panel["title"]);
        }
    }
}

#[test]
fn every_panel_query_parses() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in dashboards() {
        let dashboard: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("readable")).expect("valid JSON");
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let Some(expr) = target["expr"].as_str() else { continue };
                checked += 1;
                if let Err(e) = promql::parse(&interpolate(expr)) {
                    failures.push(format!("{} / {}: {e}\n  {expr}", file.display(), panel["title"]));
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} queries found");
    assert!(failures.is_empty(), "{} queries do not parse:\n{}", failures.len(), failures.join("\n"));
}
