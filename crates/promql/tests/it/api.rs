//! The engine's public contract: result shapes, errors, and reading each selector once.

use std::sync::atomic::{AtomicUsize, Ordering};

use promql::{Engine, EngineOptions, Error, ErrorKind, Value};
use series::{Labels, Matcher, Querier, SelectHints, Series};
use testkit::MemStorage;

/// Counts `select` calls to prove range queries read each selector once.
struct Counting {
    inner: MemStorage,
    selects: AtomicUsize,
}

impl Querier for Counting {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<Series>> {
        self.selects.fetch_add(1, Ordering::Relaxed);
        self.inner.select(hints, matchers)
    }

    fn label_names(&self, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<String>> {
        self.inner.label_names(hints, matchers)
    }

    fn label_values(&self, name: &str, hints: &SelectHints, matchers: &[Matcher]) -> series::Result<Vec<String>> {
        self.inner.label_values(name, hints, matchers)
    }
}

fn storage() -> MemStorage {
    let storage = MemStorage::new();
    for instance in ["a", "b"] {
        let labels = Labels::from_pairs([("__name__", "requests_total"), ("instance", instance)]);
        let samples: Vec<(i64, f64)> = (0..=120).map(|i| (i * 15_000, i as f64 * 15.0)).collect();
        storage.add(labels, &samples);
    }
    storage
}

#[test]
fn range_query_selects_each_selector_once() {
    let querier = Counting { inner: storage(), selects: AtomicUsize::new(0) };
    let engine = Engine::default();
    let (value, _) = engine
        .range_query(&querier, "sum(rate(requests_total[1m])) / sum(requests_total)", 60_000, 1_800_000, 15_000)
        .expect("query runs");
    assert_eq!(querier.selects.load(Ordering::Relaxed), 2);
    let Value::Matrix(matrix) = value else { panic!("range queries answer a matrix") };
    assert_eq!(matrix.len(), 1);
    assert_eq!(matrix[0].samples.len(), 117);
}

#[test]
fn rate_extrapolates_to_range_edges() {
    let engine = Engine::default();
    let (value, _) = engine.instant_query(&storage(), "rate(requests_total[1m])", 600_000).expect("query runs");
    let Value::Vector(vector) = value else { panic!("instant vector expected") };
    assert_eq!(vector.len(), 2);
    assert!(vector.iter().all(|s| (s.v - 1.0).abs() < 1e-9 && s.labels.get("__name__").is_none()));
}

#[test]
fn errors_are_classified_as_prometheus_does() {
    let engine = Engine::default();
    let err = engine.instant_query(&storage(), "sum(", 0).expect_err("does not parse");
    assert_eq!(err.kind(), ErrorKind::BadData);
    let err = engine.range_query(&storage(), "requests_total", 0, 20_000_000, 1).expect_err("too many points");
    assert!(matches!(err, Error::TooManyPoints { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
    );
    let err = engine
        .instant_query(&storage(), r#"label_replace(requests_total, "x", "$1", "instance", "(")"#, 600_000)
        .expect_err("bad regex");
    assert_eq!(err.kind(), ErrorKind::Execution);
    assert_eq!(err.to_string(), "invalid regular expression in label_replace(): (");
    let engine = Engine::new(EngineOptions { max_samples: 10, ..EngineOptions::default() });
    let err = engine.instant_query(&storage(), "requests_total[1h]", 1_800_000).expect_err("too many samples");
    assert_eq!(err.kind(), ErrorKind::Execution);
}

/// Counters, some with resets, in enough series to be evaluated in parallel.
fn resetting_counters() -> MemStorage {
    let storage = MemStorage::new();
    for n in 0..600 {
        let instance = format!("pod-{n}");
        let group = format!("g{}", n % 7);
        let labels = Labels::from_pairs([
            ("__name__", "tokens_total"),
            ("instance", instance.as_str()),
            ("group", group.as_str()),
        ]);
        let samples: Vec<(i64, f64)> = (0..=240)
            .map(|i| {
                let period = 17 + n % 50;
                (i * 15_000 + n, ((i % period) * (n % 13 + 1)) as f64 + 0.1 * n as f64)
            })
            .collect();
        storage.add(labels, &samples);
    }
    storage
}

#[test]
fn range_queries_agree_with_instant_queries_at_each_step() {
    let storage = resetting_counters();
    let engine = Engine::default();
    for query in [
        "rate(tokens_total[5m])",
        "increase(tokens_total[1h])",
        "sum by (group) (rate(tokens_total[2m]))",
        "avg by (group) (delta(tokens_total[5m]))",
        "count by (group) (tokens_total)",
        "max without (instance) (resets(tokens_total[10m]))",
    ] {
        let (start, end, step) = (600_000, 3_600_000, 60_000);
        let (Value::Matrix(range), _) = engine.range_query(&storage, query, start, end, step).expect("runs") else {
            panic!("range queries answer a matrix")
        };
        for t in (start..=end).step_by(step as usize) {
            let (Value::Vector(instant), _) = engine.instant_query(&storage, query, t).expect("runs") else {
                panic!("instant vector expected")
            };
            for sample in &instant {
                let series = range.iter().find(|s| s.labels == sample.labels).expect("series in the range result");
                let point = series.samples.iter().find(|p| p.t == t).expect("point at the step");
                assert_eq!(point.v.to_bits(), sample.v.to_bits(), "{query} at {t}: {:?}", sample.labels);
            }
            let at_t: usize = range.iter().filter(|s| s.samples.iter().any(|p| p.t == t)).count();
            assert_eq!(at_t, instant.len(), "{query} at {t}");
        }
    }
}

#[test]
fn parse_errors_say_what_is_wrong() {
    let engine = Engine::default();
    for query in ["sum(", "foo{", "rate(foo)", "1 +", "foo[5m", "foo @ bar"] {
        let err = engine.instant_query(&storage(), query, 0).expect_err("does not parse");
        assert!(matches!(err, Error::Parse { .. }), "{query:?}: {err}");
        assert_eq!(err.kind(), ErrorKind::BadData);
        assert!(!err.to_string().is_empty());
    }
}
