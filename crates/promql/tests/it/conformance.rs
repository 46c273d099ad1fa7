//! Runs Prometheus's PromQL test scripts (`testdata/conformance/*.test`) against the engine.
//!
//! The script language is described in `testdata/conformance/FORMAT.md`.
//! Every eval is a case named `file:line`. The test fails only when a case
//! that is not listed in `known_failures.txt` fails, so the list can only
//! shrink; cases in the list that now pass are printed so they can be taken
//! out. `UPDATE_KNOWN_FAILURES=1` rewrites the list from this run, and
//! `CONFORMANCE_VERBOSE=1` prints why every failing case fails.

mod compare;
mod histogram;
mod start_timestamps;
mod syntax;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use promql::{Engine, EngineOptions, Value, WarningLevel};
use series::Labels;
use testkit::MemStorage;

use self::compare::{almost_equal, compare_series, on_grid};
use self::histogram::Point;
use self::syntax::{parse_duration, parse_number, parse_series, parse_values, unquote};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/conformance")
}

#[test]
fn prometheus_test_scripts() {
    let dir = conformance_dir();
    let manifest = read_manifest(&dir.join("manifest.tsv"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance folder exists")
        .map(|entry| entry.expect("readable folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();

    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut reasons: BTreeMap<String, String> = BTreeMap::new();
    let mut table = String::new();
    let (mut all, mut all_passed, mut core, mut core_passed) = (0, 0, 0, 0);
    writeln!(table, "{:<28} {:>13} {:>13}", "file", "passed/total", "core_float").expect("write to string");
    for path in &files {
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).expect("readable test script");
        let results = run_script(&name, &text);
        let (mut passed, mut core_total, mut core_ok) = (0, 0, 0);
        for (line, outcome) in &results {
            let id = format!("{name}:{line}");
            let is_core = manifest.get(&id).is_some_and(|tags| tags.split(',').any(|t| t == "core_float"));
            if is_core {
                core_total += 1;
            }
            match outcome {
                Ok(()) => {
                    passed += 1;
                    if is_core {
                        core_ok += 1;
                    }
                }
                Err(reason) => {
                    failed.insert(id.clone());
                    reasons.insert(id, reason.clone());
                }
            }
        }
        writeln!(table, "{:<28} {:>6}/{:<6} {:>6}/{:<6}", name, passed, results.len(), core_ok, core_total)
            .expect("write to string");
        all += results.len();
        all_passed += passed;
        core += core_total;
        core_passed += core_ok;
    }
    writeln!(table, "{:<28} {:>6}/{:<6} {:>6}/{:<6}", "total", all_passed, all, core_passed, core)
        .expect("write to string");
    println!("{table}");
    if std::env::var_os("CONFORMANCE_VERBOSE").is_some() {
        for id in sort_ids(&failed) {
            println!("FAIL {id}: {}", reasons[&id]);
        }
    }

    let known_path = dir.join("known_failures.txt");
    if std::env::var_os("UPDATE_KNOWN_FAILURES").is_some() {
        let mut text = String::from(
            "# Conformance cases (file:line of the eval) known to fail; this list must only shrink.\n\
             # Regenerate with UPDATE_KNOWN_FAILURES=1 cargo test -p promql --test it.\n",
        );
        for id in sort_ids(&failed) {
            writeln!(text, "{id}").expect("write to string");
        }
        std::fs::write(&known_path, text).expect("write known_failures.txt");
        return;
    }
    let known: BTreeSet<String> = std::fs::read_to_string(&known_path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let now_passing: Vec<&String> = known.iter().filter(|id| !failed.contains(*id)).collect();
    if !now_passing.is_empty() {
        println!("{} known failures now pass; remove them from known_failures.txt:", now_passing.len());
        for id in now_passing {
            println!("  {id}");
        }
    }
    let regressions: Vec<String> = sort_ids(&failed).into_iter().filter(|id| !known.contains(id)).collect();
    if !regressions.is_empty() {
        let mut message = format!("{} conformance cases regressed:\n", regressions.len());
        for id in &regressions {
            writeln!(message, "  {id}: {}", reasons[id]).expect("write to string");
        }
        panic!("{message}");
    }
}

/// Ids in file order, then line order.
fn sort_ids(ids: &BTreeSet<String>) -> Vec<String> {
    let mut sorted: Vec<String> = ids.iter().cloned().collect();
    sorted.sort_by_key(|id| {
        let (file, line) = id.rsplit_once(':').expect("id is file:line");
        (file.to_owned(), line.parse::<usize>().unwrap_or(0))
    });
    sorted
}

/// `file:line` to tags, from the manifest.
fn read_manifest(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).expect("manifest.tsv is readable");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (file, line, _kind, tags) = (cols.next()?, cols.next()?, cols.next()?, cols.next()?);
            Some((format!("{file}:{line}"), tags.to_owned()))
        })
        .collect()
}

/// Runs one script; returns each eval's line and outcome.
fn run_script(name: &str, text: &str) -> Vec<(usize, Result<(), String>)> {
    let lines: Vec<&str> = text.split('\n').map(str::trim).collect();
    let mut storage = MemStorage::new();
    let engine = Engine::new(EngineOptions::default());
    let mut results = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        if line == "clear" {
            storage = MemStorage::new();
            continue;
        }
        while i < lines.len() && !lines[i].is_empty() && !lines[i].starts_with('#') {
            i += 1;
        }
        let body = &lines[start + 1..i];
        let command = line.split_whitespace().next().unwrap_or("");
        if command.starts_with("load") {
            if let Err(e) = load(&storage, line, body) {
                panic!("{name}:{}: bad load block: {e}", start + 1);
            }
        } else if command.starts_with("eval") {
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| eval(&engine, &storage, line, body)))
                    .unwrap_or_else(|_| Err("panicked".to_owned()));
            results.push((start + 1, outcome));
        } else {
            panic!("{name}:{}: unknown command {command:?}", start + 1);
        }
    }
    results
}

fn load(storage: &MemStorage, header: &str, body: &[&str]) -> Result<(), String> {
    let interval = header.split_whitespace().nth(1).ok_or("load needs an interval")?;
    let interval = parse_duration(interval)?;
    let mut block: Vec<(Labels, Vec<(i64, Point)>)> = Vec::new();
    let mut start_offsets: HashMap<Labels, Vec<Option<i64>>> = HashMap::new();
    let mut starts: Vec<(Labels, Vec<(i64, i64)>)> = Vec::new();
    for line in body {
        if let Some((labels, offsets)) = start_timestamps::parse_line(line)? {
            start_offsets.insert(labels, offsets);
            continue;
        }
        let (labels, rest) = parse_series(line)?;
        let values = parse_values(rest)?;
        if let Some(offsets) = start_offsets.remove(&labels) {
            let series_starts = values
                .iter()
                .zip(&offsets)
                .enumerate()
                .filter_map(|(k, (v, offset))| {
                    let t = k as i64 * interval;
                    v.as_ref().and(offset.map(|offset| (t, t + offset)))
                })
                .collect();
            starts.push((labels.clone(), series_starts));
        }
        let samples: Vec<(i64, Point)> =
            values.into_iter().enumerate().filter_map(|(k, v)| v.map(|v| (k as i64 * interval, v))).collect();
        block.retain(|(l, _)| *l != labels);
        block.push((labels, samples));
    }
    let floats_of = |samples: &[(i64, Point)]| -> Vec<(i64, f64)> {
        samples
            .iter()
            .filter_map(|(t, p)| match p {
                Point::Float(v) => Some((*t, *v)),
                Point::Histogram(..) => None,
            })
            .collect()
    };
    if header.starts_with("load_with_nhcb") {
        let floats: Vec<(Labels, Vec<(i64, f64)>)> =
            block.iter().map(|(labels, samples)| (labels.clone(), floats_of(samples))).collect();
        for (labels, histograms) in histogram::classic_to_nhcb(&floats) {
            storage.add_histograms(labels, &histograms);
        }
    }
    for (labels, samples) in block {
        let floats = floats_of(&samples);
        let histograms: Vec<(i64, series::FloatHistogram)> = samples
            .into_iter()
            .filter_map(|(t, p)| match p {
                Point::Histogram(h, _) => Some((t, *h)),
                Point::Float(_) => None,
            })
            .collect();
        if !floats.is_empty() {
            storage.add(labels.clone(), &floats);
        }
        if !histograms.is_empty() {
            storage.add_histograms(labels, &histogram::with_stored_hints(histograms));
        }
    }
    for (labels, series_starts) in starts {
        storage.set_start_timestamps(&labels, &series_starts);
    }
    Ok(())
}

/// What an eval block expects.
#[derive(Debug, Default)]
struct Expectation {
    fail: bool,
    fail_message: Option<String>,
    fail_regex: Option<String>,
    warn: Option<bool>,
    info: Option<bool>,
    ordered: bool,
    string: Option<String>,
    scalar: Option<f64>,
    /// For `expect range vector from A to B step S`.
    range_vector: Option<(i64, i64, i64)>,
    series: Vec<(Labels, Vec<Option<Point>>)>,
}

fn eval(engine: &Engine, storage: &MemStorage, header: &str, body: &[&str]) -> Result<(), String> {
    let mut words = header.splitn(2, ' ');
    let command = words.next().unwrap_or("");
    let rest = words.next().unwrap_or("").trim();
    let mut expect = Expectation::default();
    match command {
        "eval_fail" => expect.fail = true,
        "eval_warn" => expect.warn = Some(true),
        "eval_info" => expect.info = Some(true),
        "eval_ordered" => expect.ordered = true,
        _ => {}
    }
    enum Kind {
        Instant(i64),
        Range(i64, i64, i64),
    }
    let (kind, query) = if let Some(rest) = rest.strip_prefix("instant at ") {
        let (at, query) = rest.split_once(' ').ok_or("instant eval without query")?;
        (Kind::Instant(parse_duration(at)?), query.trim())
    } else if let Some(rest) = rest.strip_prefix("range from ") {
        let parts: Vec<&str> = rest.splitn(6, ' ').collect();
        if parts.len() < 6 || parts[1] != "to" || parts[3] != "step" {
            return Err(format!("bad range eval header {header:?}"));
        }
        let (start, end, step) = (parse_duration(parts[0])?, parse_duration(parts[2])?, parse_duration(parts[4])?);
        (Kind::Range(start, end, step), parts[5].trim())
    } else {
        return Err(format!("bad eval header {header:?}"));
    };
    for line in body {
        if let Some(rest) = line.strip_prefix("expect ") {
            let rest = rest.trim();
            if let Some(m) = rest.strip_prefix("fail") {
                expect.fail = true;
                let m = m.trim();
                if let Some(msg) = m.strip_prefix("msg:") {
                    expect.fail_message = Some(msg.trim().to_owned());
                } else if let Some(re) = m.strip_prefix("regex:") {
                    expect.fail_regex = Some(re.trim().to_owned());
                }
            } else if rest.starts_with("no_warn") {
                expect.warn = Some(false);
            } else if rest.starts_with("no_info") {
                expect.info = Some(false);
            } else if rest.starts_with("warn") {
                expect.warn = Some(true);
            } else if rest.starts_with("info") {
                expect.info = Some(true);
            } else if rest.starts_with("ordered") {
                expect.ordered = true;
            } else if let Some(s) = rest.strip_prefix("string") {
                expect.string = Some(unquote(s.trim())?);
            } else if let Some(r) = rest.strip_prefix("range vector from ") {
                let parts: Vec<&str> = r.split_whitespace().collect();
                if parts.len() != 5 || parts[1] != "to" || parts[3] != "step" {
                    return Err(format!("bad expect range vector line {line:?}"));
                }
                expect.range_vector =
                    Some((parse_duration(parts[0])?, parse_duration(parts[2])?, parse_duration(parts[4])?));
            } else {
                return Err(format!("unknown expectation {line:?}"));
            }
        } else if let Some(msg) = line.strip_prefix("expected_fail_message") {
            expect.fail = true;
            expect.fail_message = Some(msg.trim().to_owned());
        } else if let Some(re) = line.strip_prefix("expected_fail_regexp") {
            expect.fail = true;
            expect.fail_regex = Some(re.trim().to_owned());
        } else if let Some(v) = parse_number(line) {
            expect.scalar = Some(v);
        } else {
            let (labels, values) = parse_series(line)?;
            expect.series.push((labels, parse_values(values)?));
        }
    }

    let result = match kind {
        Kind::Instant(t) => {
            let t = expect.range_vector.map_or(t, |(_, end, _)| end);
            engine.instant_query(storage, query, t)
        }
        Kind::Range(start, end, step) => engine.range_query(storage, query, start, end, step),
    };
    let (value, warnings) = match result {
        Err(e) if expect.fail => {
            let message = e.to_string();
            if let Some(expected) = &expect.fail_message
                && &message != expected
            {
                return Err(format!("error {message:?}, expected {expected:?}"));
            }
            if let Some(re) = &expect.fail_regex {
                let re = regex::Regex::new(re).map_err(|e| e.to_string())?;
                if !re.is_match(&message) {
                    return Err(format!("error {message:?} does not match {re}"));
                }
            }
            return Ok(());
        }
        Err(e) => return Err(format!("unexpected error: {e}")),
        Ok(_) if expect.fail => return Err("expected an error".to_owned()),
        Ok(ok) => ok,
    };
    let has = |level| warnings.iter().any(|w| w.level == level);
    if let Some(warn) = expect.warn
        && has(WarningLevel::Warning) != warn
    {
        return Err(format!("warnings {warnings:?}, expected some: {warn}"));
    }
    if let Some(info) = expect.info
        && has(WarningLevel::Info) != info
    {
        return Err(format!("infos {warnings:?}, expected some: {info}"));
    }
    match (kind, value) {
        (_, Value::String { value, .. }) => match expect.string {
            Some(expected) if expected == value => Ok(()),
            _ => Err(format!("got string {value:?}")),
        },
        (_, Value::Scalar(s)) => match expect.scalar {
            Some(expected) if almost_equal(expected, s.v) => Ok(()),
            _ => Err(format!("got scalar {}, expected {:?}", s.v, expect.scalar)),
        },
        (Kind::Instant(_), Value::Vector(vector)) => {
            if expect.scalar.is_some() {
                return Err("expected a scalar, got a vector".to_owned());
            }
            let got: Vec<(Labels, Vec<Option<Point>>)> = vector
                .into_iter()
                .map(|s| {
                    let point = match s.h {
                        Some(h) => Point::Histogram(Box::new((*h).clone()), false),
                        None => Point::Float(s.v),
                    };
                    (s.labels, vec![Some(point)])
                })
                .collect();
            compare_series(&expect.series, &got, expect.ordered)
        }
        (Kind::Instant(_), Value::Matrix(matrix)) => {
            let (start, end, step) = expect.range_vector.ok_or("got a range vector, expected none")?;
            let got = matrix
                .into_iter()
                .map(|s| on_grid(&s, start, end, step).map(|values| (s.labels, values)))
                .collect::<Result<Vec<_>, String>>()?;
            compare_series(&expect.series, &got, false)
        }
        (Kind::Range(start, end, step), Value::Matrix(matrix)) => {
            let got = matrix
                .into_iter()
                .map(|s| on_grid(&s, start, end, step).map(|values| (s.labels, values)))
                .collect::<Result<Vec<_>, String>>()?;
            compare_series(&expect.series, &got, false)
        }
        (Kind::Range(..), other) => Err(format!("range query returned {other:?}")),
    }
}
