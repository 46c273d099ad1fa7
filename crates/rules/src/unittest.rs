//! Rule unit tests in `promtool test rules` format.
//!
//! A test file names rule files (relative to itself), an evaluation
//! interval and test groups. Each group loads its `input_series` (in
//! Prometheus's expanding notation: `1+2x3`, `5x2`, `_`, `_x3`, `stale`)
//! into a fresh in-memory store starting at time 0, evaluates every rule
//! group every `evaluation_interval` up to the last `eval_time`, and
//! compares the firing alerts (`alert_rule_test`) and query results
//! (`promql_expr_test`) with the expected ones, as promtool does.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use promql::{Engine, Value};
use promql_parser::parser::Expr;
use serde::Deserialize;
use series::{Labels, STALE_NAN};

use crate::group::AlertState;
use crate::manager::{Clock, Manager, ManagerOptions};
use crate::metrics::RuleMetrics;
use series::memory::MemStorage;

/// The outcome of running rule test files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One entry per test file.
    pub files: Vec<FileReport>,
}

/// The outcome of one test file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The test file.
    pub path: PathBuf,
    /// Why the file could not be run (bad YAML, rule files that do not load).
    pub error: Option<String>,
    /// Each failed expectation, formatted as promtool formats it.
    pub failures: Vec<String>,
}

impl Report {
    /// Whether every file ran and every expectation held.
    pub fn is_success(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none() && f.failures.is_empty())
    }

    /// Adds another report's files.
    pub fn merge(&mut self, other: Report) {
        self.files.extend(other.files);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            writeln!(f, "Unit Testing:  {}", file.path.display())?;
            if let Some(error) = &file.error {
                writeln!(f, "  FAILED:\n    {error}")?;
            } else if file.failures.is_empty() {
                writeln!(f, "  SUCCESS")?;
            } else {
                writeln!(f, "  FAILED:")?;
                for failure in &file.failures {
                    writeln!(f, "{failure}")?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    evaluation_interval: Option<String>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    interval: Option<String>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    external_url: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    eval_time: String,
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    eval_time: String,
    #[serde(default)]
    exp_samples: Vec<ExpectedSample>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedSample {
    labels: String,
    value: f64,
}

/// Runs one test file.
pub fn run(path: impl AsRef<Path>) -> Report {
    let path = path.as_ref();
    let outcome = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read test file: {e}"))
        .and_then(|text| run_text(path.parent().unwrap_or(Path::new(".")), &text));
    let file = match outcome {
        Ok(failures) => FileReport { path: path.to_owned(), error: None, failures },
        Err(error) => FileReport { path: path.to_owned(), error: Some(error), failures: Vec::new() },
    };
    Report { files: vec![file] }
}

/// Runs every test file the paths (or glob patterns) name.
pub fn run_all<S: AsRef<str>>(patterns: &[S]) -> Report {
    let mut report = Report::default();
    match crate::file::expand_patterns(patterns) {
        Ok(paths) => {
            for path in paths {
                report.merge(run(&path));
            }
        }
        Err(error) => report.files.push(FileReport {
            path: PathBuf::from(patterns.first().map_or("", |p| p.as_ref())),
            error: Some(error.to_string()),
            failures: Vec::new(),
        }),
    }
    report
}

fn duration_ms(text: &str) -> Result<i64, String> {
    series::parse_duration(text).map(|d| d.as_millis() as i64)
}

fn format_ms(ms: i64) -> String {
    let mut rest = ms;
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() { "0s".to_owned() } else { out }
}

fn run_text(dir: &Path, text: &str) -> Result<Vec<String>, String> {
    let file: TestFile = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let eval_interval = duration_ms(file.evaluation_interval.as_deref().unwrap_or("1m"))?.max(1);
    let patterns: Vec<String> = file
        .rule_files
        .iter()
        .map(|f| if Path::new(f).is_absolute() { f.clone() } else { dir.join(f).to_string_lossy().into_owned() })
        .collect();
    let mut groups = crate::file::load_files(&patterns).map_err(|e| e.to_string())?;
    if !file.group_eval_order.is_empty() {
        let position = |name: &str| file.group_eval_order.iter().position(|n| n == name).unwrap_or(usize::MAX);
        groups.sort_by_key(|g| position(&g.name));
    }
    let mut failures = Vec::new();
    for (idx, test) in file.tests.iter().enumerate() {
        let name = test.name.clone().unwrap_or_else(|| format!("#{}", idx + 1));
        match run_group(test, groups.clone(), eval_interval) {
            Ok(mut found) => {
                for failure in &mut found {
                    if test.name.is_some() {
                        *failure = format!("    name: {name},\n{failure}");
                    }
                }
                failures.append(&mut found);
            }
            Err(error) => failures.push(format!("    test {name}: {error}")),
        }
    }
    Ok(failures)
}

fn run_group(test: &TestGroup, groups: Vec<crate::file::GroupSpec>, eval_interval: i64) -> Result<Vec<String>, String> {
    let store = MemStorage::new();
    let series_interval = match &test.interval {
        Some(text) => duration_ms(text)?,
        None => eval_interval,
    };
    for input in &test.input_series {
        let labels = parse_series(&input.series)?;
        let values = expand_values(&input.values)?;
        let samples: Vec<(i64, f64)> =
            values.into_iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as i64 * series_interval, v))).collect();
        store.add(labels, &samples);
    }
    let options = ManagerOptions {
        evaluation_interval: Duration::from_millis(eval_interval as u64),
        external_labels: test.external_labels.clone(),
        external_url: test.external_url.clone().unwrap_or_default(),
        restore_for_state: false,
        clock: Clock::from_fn(|| 0),
        ..ManagerOptions::default()
    };
    let engine = Engine::new(promql::EngineOptions {
        default_subquery_step: Duration::from_millis(eval_interval as u64),
        ..promql::EngineOptions::default()
    });
    let manager = Manager::new(Arc::new(store.clone()), Arc::new(store.clone()), options, RuleMetrics::unregistered());
    manager.set_groups(groups);

    let mut alert_tests: Vec<(i64, &AlertTest)> =
        test.alert_rule_test.iter().map(|t| Ok((duration_ms(&t.eval_time)?, t))).collect::<Result<_, String>>()?;
    alert_tests.sort_by_key(|(t, _)| *t);
    let expr_times: Vec<i64> =
        test.promql_expr_test.iter().map(|t| duration_ms(&t.eval_time)).collect::<Result<_, String>>()?;
    let max_t = alert_tests.iter().map(|(t, _)| *t).chain(expr_times.iter().copied()).max().unwrap_or(0);

    let mut failures = Vec::new();
    let mut next_alert_test = 0;
    let mut ts = 0;
    while ts <= max_t {
        manager.evaluate_all_at(ts);
        while let Some(&(at, alert_test)) = alert_tests.get(next_alert_test) {
            if !(ts <= at && at < ts + eval_interval) {
                break;
            }
            next_alert_test += 1;
            if let Some(failure) = check_alerts(&manager, alert_test, at) {
                failures.push(failure);
            }
        }
        ts += eval_interval;
    }
    for (expr_test, at) in test.promql_expr_test.iter().zip(expr_times) {
        if let Some(failure) = check_expr(&engine, &store, expr_test, at) {
            failures.push(failure);
        }
    }
    Ok(failures)
}

/// An alert's labels and annotations, as compared and shown.
type ShownAlert = (BTreeMap<String, String>, BTreeMap<String, String>);

fn check_alerts(manager: &Manager, test: &AlertTest, at: i64) -> Option<String> {
    let mut got: Vec<ShownAlert> = manager
        .alerts(&test.alertname)
        .into_iter()
        .filter(|a| a.state == AlertState::Firing)
        .map(|a| (a.labels.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect(), a.annotations))
        .collect();
    let mut expected: Vec<ShownAlert> = test
        .exp_alerts
        .iter()
        .map(|a| {
            let mut labels = a.exp_labels.clone();
            labels.insert("alertname".to_owned(), test.alertname.clone());
            (labels, a.exp_annotations.clone())
        })
        .collect();
    got.sort();
    expected.sort();
    if got == expected {
        return None;
    }
    let show = |alerts: &[ShownAlert]| {
        alerts
            .iter()
            .enumerate()
            .map(|(i, (labels, annotations))| {
                format!(
                    "\n            {i}:\n              Labels:{}\n              Annotations:{}",
                    show_map(labels),
                    show_map(annotations)
                )
            })
            .collect::<String>()
    };
    Some(format!(
        "    alertname: {}, time: {}, \n        exp:[{}\n            ], \n        got:[{}\n            ]",
        test.alertname,
        format_ms(at),
        show(&expected),
        show(&got)
    ))
}

fn show_map(map: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn check_expr(engine: &Engine, store: &MemStorage, test: &ExprTest, at: i64) -> Option<String> {
    let header = format!("    expr: {:?}, time: {},", test.expr, format_ms(at));
    let got: Vec<(Labels, f64)> = match engine.instant_query(store, &test.expr, at) {
        Ok((Value::Vector(vector), _)) => vector.into_iter().map(|s| (s.labels, s.v)).collect(),
        Ok((Value::Scalar(sample), _)) => vec![(Labels::empty(), sample.v)],
        Ok(_) => return Some(format!("{header}\n        err: expression must evaluate to a vector or scalar")),
        Err(error) => return Some(format!("{header}\n        err: {error}")),
    };
    let mut expected = Vec::new();
    for sample in &test.exp_samples {
        match parse_series(&sample.labels) {
            Ok(labels) => expected.push((labels, sample.value)),
            Err(error) => return Some(format!("{header}\n        err: bad exp_samples labels: {error}")),
        }
    }
    let mut got_sorted = got.clone();
    got_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let same = got_sorted.len() == expected.len()
        && got_sorted.iter().zip(&expected).all(|(g, e)| g.0 == e.0 && almost_equal(g.1, e.1));
    if same {
        return None;
    }
    let show = |samples: &[(Labels, f64)]| {
        samples.iter().map(|(l, v)| format!("{l} {}", promql::format_value(*v))).collect::<Vec<_>>().join(", ")
    };
    Some(format!("{header}\n        exp: {}\n        got: {}", show(&expected), show(&got_sorted)))
}

fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Parses a series in selector syntax (`metric{a="b"}` or `{__name__="metric"}`).
///
/// # Errors
///
/// A message when the text is not a selector with only `=` matchers.
pub fn parse_series(text: &str) -> Result<Labels, String> {
    let expr = promql::parse(text).map_err(|e| format!("{text:?}: {e}"))?;
    let Expr::VectorSelector(selector) = expr else {
        return Err(format!("{text:?} is not a series"));
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(name) = &selector.name {
        pairs.push((series::METRIC_NAME.to_owned(), name.clone()));
    }
    for matcher in &selector.matchers.matchers {
        if matcher.op.to_string() != "=" {
            return Err(format!("{text:?}: only = matchers describe a series"));
        }
        pairs.push((matcher.name.clone(), matcher.value.clone()));
    }
    Ok(Labels::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// Expands Prometheus's series notation into values, `None` for a missing sample.
///
/// # Errors
///
/// A message naming the token that does not parse.
pub fn expand_values(text: &str) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    for token in text.split_whitespace() {
        if token == "_" {
            out.push(None);
            continue;
        }
        if token == "stale" {
            out.push(Some(STALE_NAN));
            continue;
        }
        if let Some(times) = token.strip_prefix("_x") {
            let n: usize = times.parse().map_err(|_| format!("bad value {token:?}"))?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        let Some(x) = token.rfind('x') else {
            out.push(Some(parse_number(token)?));
            continue;
        };
        let (head, times) = (&token[..x], &token[x + 1..]);
        let n: i64 = times.parse().map_err(|_| format!("bad value {token:?}"))?;
        let split = head.char_indices().skip(1).find(|&(_, c)| c == '+' || c == '-').map(|(i, _)| i);
        let split = split.filter(|&i| !head[..i].ends_with(['e', 'E']));
        let (start, step) = match split {
            Some(i) => (parse_number(&head[..i])?, parse_number(&head[i..])?),
            None => (parse_number(head)?, 0.0),
        };
        for i in 0..=n {
            out.push(Some(start + step * i as f64));
        }
    }
    Ok(out)
}

fn parse_number(text: &str) -> Result<f64, String> {
    match text {
        "Inf" | "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text.parse().map_err(|_| format!("bad value {text:?}")),
    }
}

#[cfg(test)]
mod tests;
