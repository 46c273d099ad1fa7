//! Tests of series validation.

use super::*;

/// Pushes one series with `labels` and a sample, and describes the outcome:
/// the stored labels, or the error message.
fn check(labels: &[(&str, &str)], expect: &str) {
    let mut batch = WriteBatch::default();
    let start = batch.start_series();
    for &(name, value) in labels {
        batch.push_label(LabelRef::new(name, value));
    }
    batch.push_sample(Sample { t: 1, v: 1.0 });
    let got = match batch.finish_series(start) {
        Ok(()) => {
            let series: Vec<_> = batch.series().collect();
            assert_eq!(series.len(), 1);
            format_series(series[0].0)
        }
        Err(error) => error.to_string(),
    };
    assert_eq!(got, expect, "{labels:?}");
}

#[test]
fn valid_series_are_sorted_and_lose_empty_labels() {
    check(&[("__name__", "up"), ("job", "vllm")], r#"{__name__="up", job="vllm"}"#);
    check(
        &[("job", "vllm"), ("__name__", "up"), ("instance", "a:1")],
        r#"{__name__="up", instance="a:1", job="vllm"}"#,
    );
    check(&[("__name__", "up"), ("empty", ""), ("job", "x")], r#"{__name__="up", job="x"}"#);
    check(&[("__name__", "vllm:num_requests_running")], r#"{__name__="vllm:num_requests_running"}"#);
    check(&[("__name__", "up"), ("Z", "1"), ("_a", "2")], r#"{Z="1", __name__="up", _a="2"}"#);
    check(&[("__name__", "up"), ("path", "\"quoted\"\n")], r#"{__name__="up", path="\"quoted\"\n"}"#);
}

#[test]
fn invalid_series_name_the_first_offender() {
    check(
        &[("__name__", "up"), ("bad-name", "x")],
        r#"invalid label name "bad-name" in series {__name__="up", bad-name="x"}"#,
    );
    check(&[("__name__", "up"), ("", "x")], r#"invalid label name "" in series {="x", __name__="up"}"#);
    check(&[("__name__", "up"), ("1st", "x")], r#"invalid label name "1st" in series {1st="x", __name__="up"}"#);
    check(&[("__name__", "a.b")], r#"invalid metric name "a.b" in series {__name__="a.b"}"#);
    check(&[("job", "x")], r#"missing metric name in series {job="x"}"#);
    check(&[("__name__", ""), ("job", "x")], r#"missing metric name in series {__name__="", job="x"}"#);
    check(&[], "missing metric name in series {}");
    check(
        &[("__name__", "up"), ("job", "a"), ("job", "b")],
        r#"duplicate label name "job" in series {__name__="up", job="a", job="b"}"#,
    );
    check(
        &[("job", "a"), ("__name__", "up"), ("job", "")],
        r#"duplicate label name "job" in series {__name__="up", job="a", job=""}"#,
    );
}

#[test]
fn series_without_samples_are_validated_but_not_kept() {
    let mut batch = WriteBatch::default();
    let start = batch.start_series();
    batch.push_label(LabelRef::new("__name__", "up"));
    batch.finish_series(start).expect("valid");
    let start = batch.start_series();
    batch.push_label(LabelRef::new("__name__", "up"));
    batch.push_label(LabelRef::new("a", "1"));
    batch.push_sample(Sample { t: 5, v: 2.0 });
    batch.finish_series(start).expect("valid");
    let series: Vec<_> = batch.series().collect();
    assert_eq!(
        series,
        vec![(&[LabelRef::new("__name__", "up"), LabelRef::new("a", "1")][..], &[Sample { t: 5, v: 2.0 }][..])]
    );

    let start = batch.start_series();
    batch.push_label(LabelRef::new("no", "name"));
    assert!(matches!(batch.finish_series(start), Err(Error::MissingMetricName { .. })));
}

#[test]
fn long_series_are_truncated_in_messages() {
    let long = "x".repeat(5000);
    let formatted =
        format_series(&[LabelRef::new("__name__", "up"), LabelRef::new("a", &long), LabelRef::new("b", "c")]);
    assert_eq!(formatted.len(), MAX_FORMATTED_SERIES + 3);
    assert!(formatted.starts_with(r#"{__name__="up", a="xxx"#) && formatted.ends_with("x..."));
    let wide = "é".repeat(1000);
    assert!(format_series(&[LabelRef::new("a", &wide)]).ends_with("é..."));
}

#[test]
fn series_past_the_label_limits_are_refused() {
    let names: Vec<String> = (0..crate::MAX_LABELS_PER_SERIES).map(|i| format!("l{i:03}")).collect();
    let mut labels: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    labels[0] = ("__name__", "up");
    let mut batch = WriteBatch::default();
    let start = batch.start_series();
    for (name, value) in &labels {
        batch.push_label(LabelRef::new(name, value));
    }
    batch.finish_series(start).expect("the limit itself is allowed");
    let start = batch.start_series();
    for (name, value) in labels.iter().chain(&[("zzz", "v")]) {
        batch.push_label(LabelRef::new(name, value));
    }
    let error = batch.finish_series(start).expect_err("one past the limit").to_string();
    assert!(error.contains("has 129 labels, more than the 128"), "{error}");
    let long = "x".repeat(crate::MAX_LABEL_BYTES + 1);
    let start = batch.start_series();
    batch.push_label(LabelRef::new("__name__", "up"));
    batch.push_label(LabelRef::new("big", &long));
    let error = batch.finish_series(start).expect_err("too long").to_string();
    assert!(error.contains("label \"big\"") && error.contains("16385 bytes long") && error.len() < 2048, "{error}");
}
