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
    let engine = Engine::new(EngineOptions { max_samples: 10, ..EngineOptions::default() });
    let err = engine.instant_query(&storage(), "requests_total[1h]", 1_800_000).expect_err("too many samples");
    assert_eq!(err.kind(), ErrorKind::Execution);
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
