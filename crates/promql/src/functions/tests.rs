//! Unit tests of the numeric helpers functions share.

use super::{go_format_float, go_max, go_min, kahan_inc, quantile};

fn check_quantile(q: f64, values: &[f64], expect: f64) {
    let got = quantile(q, &mut values.to_vec());
    assert!(got == expect || (got.is_nan() && expect.is_nan()), "quantile({q}, {values:?}) = {got}, want {expect}");
}

#[test]
fn quantile_interpolates_between_closest_ranks() {
    check_quantile(0.5, &[1.0, 2.0, 3.0, 4.0], 2.5);
    check_quantile(0.0, &[3.0, 1.0], 1.0);
    check_quantile(1.0, &[3.0, 1.0], 3.0);
    check_quantile(-0.1, &[1.0], f64::NEG_INFINITY);
    check_quantile(1.1, &[1.0], f64::INFINITY);
    check_quantile(0.5, &[], f64::NAN);
}

#[test]
fn kahan_summation_keeps_small_terms() {
    let (mut sum, mut c) = (0.0, 0.0);
    for v in [1e16, 1.0, -1e16] {
        (sum, c) = kahan_inc(v, sum, c);
    }
    assert_eq!(sum + c, 1.0);
}

#[test]
fn go_min_max_let_nan_win() {
    assert!(go_max(1.0, f64::NAN).is_nan());
    assert!(go_min(f64::NAN, 1.0).is_nan());
    assert_eq!(go_max(1.0, 2.0), 2.0);
    assert!(go_max(-0.0, 0.0).is_sign_positive());
    assert!(go_min(0.0, -0.0).is_sign_negative());
}

#[test]
fn floats_format_as_go_does() {
    assert_eq!(go_format_float(1.0), "1");
    assert_eq!(go_format_float(0.1), "0.1");
    assert_eq!(go_format_float(1e21), "1000000000000000000000");
    assert_eq!(go_format_float(f64::INFINITY), "+Inf");
    assert_eq!(go_format_float(f64::NAN), "NaN");
}
