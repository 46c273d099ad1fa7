//! Specifications of histogram arithmetic.

use std::sync::Arc;

use super::*;

fn exp(schema: i32, offset: i32, counts: &[f64]) -> FloatHistogram {
    let positive: Vec<Bucket> =
        counts.iter().enumerate().map(|(i, &count)| Bucket { index: offset + i as i32, count }).collect();
    let count = counts.iter().sum();
    FloatHistogram { schema, count, sum: count, positive, ..FloatHistogram::default() }
}

fn custom(bounds: &[f64], counts: &[f64]) -> FloatHistogram {
    let mut h = exp(CUSTOM_BUCKETS_SCHEMA, 0, counts);
    h.custom_values = Arc::from(bounds);
    h
}

fn indexes(h: &FloatHistogram) -> Vec<(i32, f64)> {
    h.positive.iter().map(|b| (b.index, b.count)).collect()
}

#[test]
fn bucket_bounds_follow_the_schema() {
    let h = exp(0, 0, &[1.0]);
    assert_eq!(h.bucket_bounds(1, true), (1.0, 2.0));
    assert_eq!(h.bucket_bounds(0, true), (0.5, 1.0));
    assert_eq!(h.bucket_bounds(1, false), (-2.0, -1.0));
    let h = exp(1, 0, &[1.0]);
    assert!((h.bucket_bounds(1, true).1 - 2f64.sqrt()).abs() < 1e-15);
    let h = custom(&[5.0, 10.0], &[1.0]);
    assert_eq!(h.bucket_bounds(0, true), (f64::NEG_INFINITY, 5.0));
    assert_eq!(h.bucket_bounds(2, true), (10.0, f64::INFINITY));
}

#[test]
fn exponential_index_finds_the_bucket_holding_a_value() {
    assert_eq!(exponential_index(1.0, 0), 0);
    assert_eq!(exponential_index(1.5, 0), 1);
    assert_eq!(exponential_index(2.0, 0), 1);
    assert_eq!(exponential_index(2.0, 3), 8);
}

#[test]
fn adding_reduces_to_the_smaller_schema() {
    let mut a = exp(0, 0, &[1.0, 2.0, 1.0]);
    let b = exp(1, 0, &[1.0, 1.0, 1.0, 1.0]);
    a.add(&b).expect("both exponential");
    assert_eq!(a.schema, 0);
    // Schema 1 buckets 0..=3 fall into schema 0 buckets 0, 1, 1, 2.
    assert_eq!(indexes(&a), vec![(0, 2.0), (1, 4.0), (2, 2.0)]);
    assert_eq!(a.count, 8.0);
}

#[test]
fn subtracting_keeps_the_union_of_layouts_until_compacted() {
    let mut a = exp(0, 0, &[1.0, 2.0]);
    a.sub(&exp(0, 1, &[2.0, 1.0])).expect("both exponential");
    assert_eq!(indexes(&a), vec![(0, 1.0), (1, 0.0), (2, -1.0)]);
    a.compact();
    assert_eq!(indexes(&a), vec![(0, 1.0), (2, -1.0)]);
}

#[test]
fn custom_bounds_are_reconciled_to_the_common_ones() {
    let mut a = custom(&[5.0, 10.0], &[1.0, 2.0, 3.0]);
    let outcome = a.add(&custom(&[10.0], &[1.0, 1.0])).expect("both custom");
    assert!(outcome.reconciled_custom_buckets);
    assert_eq!(&*a.custom_values, &[10.0]);
    assert_eq!(indexes(&a), vec![(0, 4.0), (1, 4.0)]);
}

#[test]
fn exponential_and_custom_do_not_mix() {
    let mut a = exp(0, 0, &[1.0]);
    assert_eq!(a.add(&custom(&[1.0], &[1.0])), Err(HistogramError::MixedExponentialCustom));
}

#[test]
fn widening_the_zero_bucket_swallows_buckets_below_it() {
    let mut a = exp(0, 0, &[1.0, 2.0, 3.0]);
    a.zero_threshold = 0.1;
    a.widen_zero_bucket(1.5);
    // The threshold falls inside bucket 1 (1, 2], which moves in whole.
    assert_eq!(a.zero_threshold, 2.0);
    assert_eq!(a.zero_count, 3.0);
    assert_eq!(indexes(&a), vec![(2, 3.0)]);
}

#[test]
fn a_bucket_going_down_is_a_reset() {
    let previous = exp(0, 0, &[1.0, 2.0]);
    let mut current = exp(0, 0, &[2.0, 1.0, 5.0]);
    assert!(current.detect_reset(&previous));
    current.positive[1].count = 2.0;
    assert!(!current.detect_reset(&previous));
    current.counter_reset_hint = CounterResetHint::Reset;
    assert!(current.detect_reset(&previous));
}

#[test]
fn a_missing_populated_bucket_is_a_reset() {
    let previous = exp(0, 0, &[1.0, 2.0]);
    let current = exp(0, 0, &[5.0]);
    assert!(current.detect_reset(&previous));
}

#[test]
fn new_custom_bounds_are_compared_on_the_bounds_both_share() {
    let previous = custom(&[5.0], &[1.0]);
    // Splitting (5, +Inf] at 10 keeps the bucket up to 5: no reset.
    assert!(!custom(&[5.0, 10.0], &[1.0]).detect_reset(&previous));
    // The bucket up to 5 lost an observation: a reset.
    let mut current = custom(&[5.0, 10.0], &[0.0, 1.0]);
    current.count = 2.0;
    assert!(current.detect_reset(&previous));
}

#[test]
fn a_kahan_sum_keeps_small_counts_that_huge_ones_cancel() {
    let mut sum = KahanSum::new(exp(0, 0, &[1.0, 1e100]));
    sum.add(&exp(1, 0, &[1.0, 1.0])).expect("both exponential");
    sum.add(&exp(0, 1, &[-1e100])).expect("both exponential");
    let total = sum.total();
    // Schema 1 buckets 0 and 1 fall into schema 0 buckets 0 and 1.
    assert_eq!(total.schema, 0);
    assert_eq!(indexes(&total), vec![(0, 2.0), (1, 1.0)]);
}
