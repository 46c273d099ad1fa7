//! Quantiles of buckets and samples, and their standard errors against hand figures and resampling.

use sim::Rng;

use super::*;

fn binned(cumulative: &[(f64, f64)]) -> Binned {
    Binned::from_cumulative(cumulative.iter().copied()).expect("valid buckets")
}

#[track_caller]
fn check(distribution: &Distribution, q: f64, value: f64, standard_error: f64) {
    let estimate = distribution.quantile(q).expect("estimable");
    assert!((estimate.value - value).abs() < 1e-9, "value {} vs {value}", estimate.value);
    assert!(
        (estimate.standard_error() - standard_error).abs() < 1e-6,
        "se {} vs {standard_error}",
        estimate.standard_error()
    );
}

#[test]
fn bucket_quantiles_interpolate_like_histogram_quantile() {
    let h = Distribution::Binned(binned(&[(0.1, 10.0), (0.5, 60.0), (1.0, 90.0), (f64::INFINITY, 100.0)]));
    // Rank 50 lies in (0.1, 0.5] with 10 below and 50 inside: 0.1 + 0.4 · 40/50 = 0.42.
    // a = 0.1, b = 0.6, t = 0.8: Var F̂ = (0.04·0.09 + 0.64·0.24 + 2·0.8·0.2·0.1·0.4)/100 = 0.0017,
    // se = √0.0017 · 0.4 / 0.5 = 0.032985.
    check(&h, 0.5, 0.42, 0.001_7_f64.sqrt() * 0.8);
    // Rank 5 in the first bucket, which starts at 0: 0.05; a = 0, b = 0.1, t = 0.5:
    // Var F̂ = 0.25 · 0.09 / 100, se = 0.015 · 0.1 / 0.1.
    check(&h, 0.05, 0.05, 0.015);
    assert_eq!(h.quantile(0.95), Err(NoEstimate::BeyondLargestBound(1.0)));
    assert_eq!(Distribution::Binned(Binned::empty(&[1.0])).quantile(0.5), Err(NoEstimate::Empty));
}

#[test]
fn sample_quantiles_use_order_statistics_and_woodruff() {
    let s = Distribution::samples((1..=100).rev().map(f64::from));
    // Type 7: position 0.5 · 99 = 49.5, between 50 and 51.
    let estimate = s.quantile(0.5).expect("estimable");
    assert!((estimate.value - 50.5).abs() < 1e-12);
    // Woodruff: q ± 1.96 · 0.05 = 0.402, 0.598 → 40.798, 60.202; se = 19.404 / 3.92 = 4.95.
    assert!((estimate.standard_error() - 4.95).abs() < 0.01, "{}", estimate.standard_error());
    assert_eq!(Distribution::samples([f64::NAN, 1.0]).count(), 1.0);
}

#[test]
fn below_inverts_the_interpolation_and_blocks_merge() {
    let h = Distribution::Binned(binned(&[(0.1, 10.0), (0.5, 60.0), (1.0, 90.0), (f64::INFINITY, 100.0)]));
    assert!((h.below(0.42) - 50.0).abs() < 1e-9);
    // Nothing is known of where in (1, +Inf] the last ten lie: none counts below 2.
    assert_eq!((h.below(0.1), h.below(2.0), h.below(0.0)), (10.0, 90.0, 0.0));
    let s = Distribution::samples([3.0, 1.0, 2.0]);
    assert_eq!(s.below(2.0), 2.0);
    let merged = Distribution::merge(&[h.clone(), h.clone()]).expect("same bounds");
    assert_eq!(merged.count(), 200.0);
    assert_eq!(Distribution::merge(&[s.clone(), s]).map(|m| m.count()), Some(6.0));
    assert_eq!(Distribution::merge(&[h, Distribution::samples([1.0])]), None);
}

#[test]
fn cumulative_counts_are_made_monotone_and_checked() {
    let h = binned(&[(f64::INFINITY, 9.5), (0.5, 10.0), (0.1, 4.0)]);
    assert_eq!(h.bounds(), &[0.1, 0.5, f64::INFINITY]);
    assert_eq!(h.counts(), &[4.0, 6.0, 0.0]);
    for bad in
        [vec![(0.1, 1.0)], vec![(0.1, -1.0), (f64::INFINITY, 1.0)], vec![(1.0, 1.0), (1.0, 2.0), (f64::INFINITY, 2.0)]]
    {
        assert!(Binned::from_cumulative(bad.clone()).is_err(), "{bad:?}");
    }
}

/// Draws `n` observations from the bucket shares `probabilities` into a histogram.
fn draw(rng: &mut Rng, bounds: &[f64], probabilities: &[f64], n: usize) -> Binned {
    let mut h = Binned::empty(bounds);
    for _ in 0..n {
        let mut u = rng.f64();
        let mut idx = 0;
        while idx + 1 < probabilities.len() && u >= probabilities[idx] {
            u -= probabilities[idx];
            idx += 1;
        }
        h.counts[idx] += 1.0;
    }
    h
}

#[test]
fn delta_method_standard_error_matches_resampling() {
    // The gateway's TTFT buckets with a p95 inside the wide (0.25, 0.5] bucket.
    let bounds = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    let mut probabilities = vec![0.0, 0.0, 0.0, 0.02, 0.18, 0.25, 0.2, 0.1, 0.15, 0.07, 0.02, 0.01];
    probabilities.resize(bounds.len() + 1, 0.0);
    let mut rng = Rng::new(7);
    for q in [0.5, 0.95, 0.99] {
        let estimates: Vec<(f64, f64)> = (0..400)
            .map(|_| {
                let e = draw(&mut rng, &bounds, &probabilities, 2_000).quantile(q).expect("estimable");
                (e.value, e.standard_error())
            })
            .collect();
        let mean = estimates.iter().map(|e| e.0).sum::<f64>() / 400.0;
        let spread = (estimates.iter().map(|e| (e.0 - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        let predicted = estimates.iter().map(|e| e.1).sum::<f64>() / 400.0;
        let ratio = predicted / spread;
        assert!((0.85..1.15).contains(&ratio), "q {q}: predicted se {predicted}, resampled {spread}");
    }
}
