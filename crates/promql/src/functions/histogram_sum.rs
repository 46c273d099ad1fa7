//! Sums and means of native histograms as Prometheus computes them for
//! `sum`, `avg`, `sum_over_time` and `avg_over_time`: with Kahan-Neumaier
//! compensation in every bucket, and a mean that switches to incremental
//! updates once the plain sum would overflow.

use series::{Combined, CounterResetHint, FloatHistogram, HistogramError, KahanSum};

/// A running mean of histograms.
#[derive(Debug, Clone)]
pub(crate) struct HistogramMean {
    sum: KahanSum,
    /// The running mean, once the sum overflowed.
    mean: Option<KahanSum>,
    count: f64,
}

impl HistogramMean {
    /// A mean that starts with `first`.
    pub fn new(first: &FloatHistogram) -> HistogramMean {
        HistogramMean { sum: start_sum(first), mean: None, count: 1.0 }
    }

    /// Adds `h` to the mean: to the compensated sum while it stays finite,
    /// else to the mean itself, weighted.
    pub fn add(&mut self, h: &FloatHistogram) -> Result<Combined, HistogramError> {
        self.count += 1.0;
        if self.mean.is_none() {
            let mut sum = self.sum.clone();
            let combined = sum.add(h)?;
            if !sum.has_overflow() {
                self.sum = sum;
                return Ok(combined);
            }
            let mut mean = self.sum.clone();
            mean.div(self.count - 1.0);
            self.mean = Some(mean);
        }
        let mean = self.mean.as_mut().expect("the mean is set once the sum overflows");
        mean.mul((self.count - 1.0) / self.count);
        let mut weighted = h.clone();
        weighted.div(self.count);
        mean.add(&weighted)
    }

    /// The mean of the histograms added.
    pub fn mean(self) -> FloatHistogram {
        match self.mean {
            Some(mean) => mean.total(),
            None => {
                let mut sum = self.sum;
                sum.div(self.count);
                sum.total()
            }
        }
    }
}

/// A compensated sum that starts with `first`. A reset hint does not
/// describe the sum, so it becomes unknown (Prometheus issue 15346).
pub(crate) fn start_sum(first: &FloatHistogram) -> KahanSum {
    let mut first = first.clone();
    if first.counter_reset_hint == CounterResetHint::Reset {
        first.counter_reset_hint = CounterResetHint::Unknown;
    }
    KahanSum::new(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(count: f64, sum: f64) -> FloatHistogram {
        FloatHistogram { count, sum, ..FloatHistogram::default() }
    }

    #[test]
    fn huge_values_that_cancel_leave_the_small_ones_exact() {
        let mut total = start_sum(&histogram(1.0, 1.0));
        for (count, sum) in [(2.0, 1e100), (3.0, 1.0), (4.0, -1e100)] {
            total.add(&histogram(count, sum)).expect("both exponential");
        }
        let total = total.total();
        assert_eq!((total.count, total.sum), (10.0, 2.0));
    }

    #[test]
    fn the_mean_survives_a_sum_that_overflows() {
        let mut mean = HistogramMean::new(&histogram(f64::MAX, 1.0));
        mean.add(&histogram(f64::MAX, 3.0)).expect("both exponential");
        let mean = mean.mean();
        assert_eq!((mean.count, mean.sum), (f64::MAX, 2.0));
    }
}
