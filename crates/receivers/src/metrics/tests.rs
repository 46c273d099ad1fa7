//! Tests of the self-metrics' names and labels.

use prometheus_client::encoding::text::encode;

use super::*;

#[test]
fn counters_are_exposed_with_bounded_labels() {
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    metrics.count_request(Some(Version::V2));
    metrics.count_request(None);
    metrics.count_accepted(5, 1, 2);
    metrics.count_rejected(&Error::BodyTooLarge { limit: 1 });
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodable");
    for line in [
        r#"infersight_remote_write_requests_total{version="2.0"} 1"#,
        r#"infersight_remote_write_requests_total{version="unknown"} 1"#,
        "infersight_remote_write_samples_total 5",
        r#"infersight_remote_write_rejected_total{reason="too_large"} 1"#,
        "infersight_remote_write_histograms_dropped_total 1",
        "infersight_remote_write_exemplars_dropped_total 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
    }
}

#[test]
fn otlp_counters_are_exposed_with_bounded_labels() {
    let mut registry = Registry::default();
    let metrics = Metrics::new(&mut registry);
    metrics.count_otlp_request(Some(Encoding::Json));
    metrics.count_otlp_request(None);
    metrics.count_otlp_accepted(7, &[(Rejection::NegativeBuckets, 2), (Rejection::InvalidTemporality, 1)]);
    metrics.count_otlp_rejected(&Error::InflatedTooLarge { limit: 1 });
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodable");
    for line in [
        r#"infersight_otlp_requests_total{encoding="json"} 1"#,
        r#"infersight_otlp_requests_total{encoding="unknown"} 1"#,
        "infersight_otlp_samples_total 7",
        r#"infersight_otlp_points_rejected_total{reason="negative_buckets"} 2"#,
        r#"infersight_otlp_points_rejected_total{reason="invalid_temporality"} 1"#,
        r#"infersight_otlp_rejected_total{reason="too_large"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
    }
}
