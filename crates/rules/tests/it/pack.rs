//! The default rule pack: it loads, its unit tests pass with our runner
//! and, where promtool is installed, with promtool too.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

fn rule_files() -> Vec<String> {
    rules::pack::FILES
        .iter()
        .map(|(name, _)| repo_root().join("rules").join(name).to_string_lossy().into_owned())
        .collect()
}

fn test_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("rules/tests"))
        .expect("rules/tests exists")
        .map(|entry| entry.expect("directory entries are readable").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn pack_loads_and_every_alert_is_documented() {
    let groups = rules::pack::groups().expect("the built-in pack validates");
    let runbooks = std::fs::read_to_string(repo_root().join("docs/runbooks.md")).expect("docs/runbooks.md exists");
    let mut n_alerts = 0;
    for rule in groups.iter().flat_map(|g| &g.rules) {
        let rules::RuleKind::Alerting { annotations, .. } = &rule.kind else { continue };
        n_alerts += 1;
        for key in ["summary", "description", "runbook"] {
            assert!(annotations.contains_key(key), "alert {} lacks the {key} annotation", rule.name);
        }
        for key in ["severity", "signal"] {
            assert!(rule.labels.contains_key(key), "alert {} lacks the {key} label", rule.name);
        }
        assert!(
            matches!(rule.labels["signal"].as_str(), "infra" | "quality" | "hybrid"),
            "alert {} has signal {}",
            rule.name,
            rule.labels["signal"]
        );
        let anchor = annotations["runbook"].rsplit_once('#').map(|(_, a)| a.to_owned()).expect("runbook has an anchor");
        let heading = runbooks
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .any(|h| h.trim().to_lowercase().replace(' ', "-") == anchor);
        assert!(heading, "docs/runbooks.md has no section for #{anchor} ({})", rule.name);
    }
    assert!(n_alerts >= 15, "the pack has {n_alerts} alerts");
    for file in rule_files() {
        assert!(Path::new(&file).exists(), "{file}");
    }
}

#[test]
fn every_pack_rule_is_covered_by_a_unit_test() {
    let tests: String =
        test_files().iter().map(|p| std::fs::read_to_string(p).expect("test files are readable")).collect();
    let groups = rules::pack::groups().expect("the built-in pack validates");
    for rule in groups.iter().flat_map(|g| &g.rules) {
        let mentioned = if rule.is_alert() {
            tests.contains(&format!("alertname: {}", rule.name))
        } else {
            tests.contains(&format!("expr: {}", rule.name)) || tests.contains(&format!("'{}{{", rule.name))
        };
        assert!(mentioned, "no unit test mentions {}", rule.name);
    }
}

#[test]
fn pack_unit_tests_pass_with_our_runner() {
    let files = test_files();
    assert!(!files.is_empty());
    // Files run in parallel: each has its own store and manager.
    let reports: Vec<rules::unittest::Report> = std::thread::scope(|scope| {
        let handles: Vec<_> = files.iter().map(|file| scope.spawn(move || rules::unittest::run(file))).collect();
        handles.into_iter().map(|handle| handle.join().expect("the runner does not panic")).collect()
    });
    let mut report = rules::unittest::Report::default();
    for file_report in reports {
        report.merge(file_report);
    }
    assert!(report.is_success(), "{report}");
}

#[test]
fn pack_passes_promtool_when_installed() {
    let promtool = Path::new("/usr/bin/promtool");
    if !promtool.exists() {
        println!("note: /usr/bin/promtool is absent; skipping promtool check and test");
        return;
    }
    let check = Command::new(promtool).arg("check").arg("rules").args(rule_files()).output().expect("promtool runs");
    assert!(
        check.status.success(),
        "promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let test = Command::new(promtool)
        .arg("test")
        .arg("rules")
        .args(test_files())
        .current_dir(repo_root())
        .output()
        .expect("promtool runs");
    assert!(
        test.status.success(),
        "promtool test rules failed:\n{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}
