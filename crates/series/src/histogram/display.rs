//! A histogram as Prometheus writes it in text (its `String()`), which is
//! also how `count_values` turns a histogram into a label value:
//! `{count:20, sum:10, [-2,-1):2, [-0.001,0.001]:2, (1,2]:2}`, with the
//! populated buckets from the lowest values to the highest and numbers in
//! Go's `%g` form.

use std::fmt;

use super::{BucketEnds, FloatHistogram};

impl fmt::Display for FloatHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{count:{}, sum:{}", GoFloat(self.count), GoFloat(self.sum))?;
        for b in self.populated_buckets() {
            let (open, close) = match b.ends {
                BucketEnds::OpenLeft => ('(', ']'),
                BucketEnds::OpenRight => ('[', ')'),
                BucketEnds::Closed => ('[', ']'),
            };
            write!(f, ", {open}{},{}{close}:{}", GoFloat(b.lower), GoFloat(b.upper), GoFloat(b.count))?;
        }
        f.write_str("}")
    }
}

/// A float as Go's `%g` (and `%v`) writes it: the shortest digits that read
/// back the same, in exponent form (`1e+06`, `1.5e-07`) when the decimal
/// exponent is below -4 or at least 6; and `+Inf`, `-Inf`, `NaN`.
struct GoFloat(f64);

impl fmt::Display for GoFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        if v.is_infinite() {
            return f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        }
        // Rust's `{:e}` gives the shortest round-tripping digits, as Go does.
        let scientific = format!("{v:e}");
        let (mantissa, exponent) = scientific.split_once('e').expect("{:e} always has an exponent");
        let exponent: i32 = exponent.parse().expect("{:e} writes an integer exponent");
        if (-4..6).contains(&exponent) {
            write!(f, "{v}")
        } else {
            let sign = if exponent < 0 { '-' } else { '+' };
            write!(f, "{mantissa}e{sign}{:02}", exponent.abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::{Bucket, CUSTOM_BUCKETS_SCHEMA};

    #[test]
    fn buckets_run_from_the_lowest_values_to_the_highest() {
        let h = FloatHistogram {
            count: 20.0,
            sum: 10.0,
            zero_threshold: 0.001,
            zero_count: 2.0,
            positive: vec![Bucket { index: 0, count: 1.0 }, Bucket { index: 1, count: 2.0 }],
            negative: vec![Bucket { index: 0, count: 1.0 }, Bucket { index: 1, count: 2.0 }],
            ..FloatHistogram::default()
        };
        assert_eq!(h.to_string(), "{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}");
    }

    #[test]
    fn empty_buckets_are_left_out_and_custom_bounds_reach_infinity() {
        let h = FloatHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count: 3.0,
            sum: 12.5,
            positive: vec![Bucket { index: 0, count: 0.0 }, Bucket { index: 2, count: 3.0 }],
            custom_values: std::sync::Arc::from([5.0, 10.0]),
            ..FloatHistogram::default()
        };
        assert_eq!(h.to_string(), "{count:3, sum:12.5, (10,+Inf]:3}");
    }

    #[test]
    fn numbers_are_written_as_go_writes_them() {
        let cases = [
            (0.5, "0.5"),
            (123456.5, "123456.5"),
            (1e6, "1e+06"),
            (1.25e300, "1.25e+300"),
            (1.5e-7, "1.5e-07"),
            (-0.0001, "-0.0001"),
        ];
        for (v, text) in cases {
            assert_eq!(GoFloat(v).to_string(), text);
        }
    }
}
