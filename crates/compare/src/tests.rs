//! Verdicts, directions, Holm's correction and "not enough data", on small hand-made inputs.

use super::*;

/// A mean metric whose z statistic is `z` (unit variances, n = 100 per cohort, se = √0.02).
fn mean_metric(name: &str, direction: Direction, z: f64) -> Metric {
    let a = Moments { n: 100.0, mean: 1.0, variance: 1.0 };
    let b = Moments { mean: 1.0 + z * 0.02_f64.sqrt(), ..a };
    Metric::new(name, "score", direction, Data::Mean { a: vec![a], b: vec![b] })
}

#[track_caller]
fn check(metrics: &[Metric], expected: &[(&str, Verdict)]) {
    let comparison = compare(metrics, Options::default());
    for (name, verdict) in expected {
        let outcome = comparison.metric(name).expect("metric present");
        assert_eq!(outcome.verdict, *verdict, "{name}: {outcome:?}");
    }
}

#[test]
fn verdicts_follow_direction_and_holm() {
    check(
        &[
            mean_metric("quality", Direction::HigherIsBetter, 4.0),
            mean_metric("latency", Direction::LowerIsBetter, 4.0),
        ],
        &[("quality", Verdict::Better), ("latency", Verdict::Worse)],
    );
    // Alone, z = 2.17 (p = 0.030) is significant; beside z = 2.05 (p = 0.040)
    // Holm doubles the smaller p-value to 0.060 and neither is.
    check(&[mean_metric("x", Direction::HigherIsBetter, 2.17)], &[("x", Verdict::Better)]);
    check(
        &[mean_metric("x", Direction::HigherIsBetter, 2.17), mean_metric("y", Direction::HigherIsBetter, -2.05)],
        &[("x", Verdict::NoDetectableDifference), ("y", Verdict::NoDetectableDifference)],
    );
    let comparison = compare(&[mean_metric("x", Direction::HigherIsBetter, 2.17)], Options::default());
    let outcome = &comparison.metrics[0];
    assert!((outcome.p_value.expect("tested") - 0.030).abs() < 5e-4);
    // MDE = (1.96 + 0.84) · se.
    assert!((outcome.min_detectable_effect.expect("tested") - 2.801_585 * 0.02_f64.sqrt()).abs() < 1e-5);
}

#[test]
fn too_little_data_gets_no_verdict() {
    let few = Distribution::samples((0..150).map(f64::from));
    let many = Distribution::samples((0..5_000).map(f64::from));
    let metrics = [
        Metric::new(
            "ttft_p95",
            "seconds",
            Direction::LowerIsBetter,
            Data::Quantile { q: 0.95, a: vec![few], b: vec![many] },
        ),
        Metric::new(
            "error_rate",
            "ratio",
            Direction::LowerIsBetter,
            Data::Rate { a: vec![Counts::new(0.0, 12.0)], b: vec![Counts::new(3.0, 400.0)] },
        ),
        Metric::new("cost", "dollars", Direction::LowerIsBetter, Data::Figure { a: Some(1.0), b: None }),
    ];
    let comparison = compare(&metrics, Options::default());
    let texts: Vec<String> = comparison.metrics.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "not enough data (n = 150, need ≈ 200)",
            "not enough data (n = 12, need ≈ 30)",
            "a figure, not a sample: not tested"
        ]
    );
    assert!(comparison.metrics.iter().all(|m| m.p_value.is_none() && m.p_adjusted.is_none()));
}

#[test]
fn a_quantile_beyond_the_buckets_is_not_estimated() {
    let tail = Binned::from_cumulative([(1.0, 500.0), (f64::INFINITY, 1_000.0)]).expect("valid");
    let metric = Metric::new(
        "e2e_p95",
        "seconds",
        Direction::LowerIsBetter,
        Data::Quantile { q: 0.95, a: vec![Distribution::Binned(tail.clone())], b: vec![Distribution::Binned(tail)] },
    );
    let comparison = compare(&[metric], Options::default());
    assert_eq!(comparison.metrics[0].verdict, Verdict::NotTested);
    assert_eq!(comparison.metrics[0].to_string(), "the quantile lies beyond the largest bucket bound (1.00)");
}

#[test]
fn json_names_the_test_and_the_verdict() {
    let comparison = compare(&[mean_metric("x", Direction::HigherIsBetter, 4.0)], Options::default());
    let json = serde_json::to_value(&comparison).expect("serializes");
    assert_eq!(json["correction"], "holm");
    assert_eq!(json["metrics"][0]["test"], "welch");
    assert_eq!(json["metrics"][0]["verdict"], "better");
    assert_eq!(json["metrics"][0]["direction"], "higher_is_better");
}

#[test]
fn constant_scores_with_rounding_noise_are_not_tested() {
    // A scorer that always gives 0.05, as the demo's `json` scorer on prose:
    // merged over blocks, the means differ by rounding and the variances are ~1e-34.
    let block = |mean: f64| Moments { n: 45.0, mean, variance: 0.0 };
    let a: Vec<Moments> = (0..60).map(|_| block(0.05)).collect();
    let b: Vec<Moments> = (0..60).map(|k| block(if k % 7 == 0 { 0.05 + 4e-17 } else { 0.05 })).collect();
    let metric = Metric::new("json_mean", "score", Direction::HigherIsBetter, Data::Mean { a, b });
    let comparison = compare(&[metric], Options { paired: true, ..Options::default() });
    let outcome = &comparison.metrics[0];
    assert_eq!(outcome.verdict, Verdict::NotTested, "{outcome:?}");
    assert!(outcome.p_value.is_none());
}

#[test]
fn a_gate_is_a_holm_family_of_its_own() {
    // z = 2.17 (p = 0.030) beside nine null metrics: Holm over ten multiplies
    // it to 0.30; gated alone it stays 0.030 and is found, while the other
    // nine are corrected among themselves.
    let mut metrics = vec![mean_metric("ttft_p95", Direction::LowerIsBetter, 2.17)];
    metrics.extend((0..9).map(|k| mean_metric(&format!("score_{k}"), Direction::HigherIsBetter, 0.5)));
    let plain = compare(&metrics, Options::default());
    assert_eq!(plain.metric("ttft_p95").expect("present").verdict, Verdict::NoDetectableDifference);
    assert!(plain.gate.is_empty() && plain.correction == "holm");
    let gated = compare_gated(&metrics, Options::default(), &["ttft_p95".to_owned(), "no_such".to_owned()]);
    let outcome = gated.metric("ttft_p95").expect("present");
    assert_eq!(outcome.verdict, Verdict::Worse, "{outcome:?}");
    assert!((outcome.p_adjusted.expect("tested") - outcome.p_value.expect("tested")).abs() < 1e-12);
    assert_eq!(gated.gate, vec!["ttft_p95".to_owned()]);
    // The rest: nine p-values of 0.617, Holm-adjusted to 1.
    assert_eq!(gated.metric("score_0").expect("present").p_adjusted, Some(1.0));
}
