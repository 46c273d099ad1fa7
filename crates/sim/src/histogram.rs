//! Classic Prometheus histograms and summaries as the engines' client libraries keep them.

/// A histogram with fixed upper bounds (the `+Inf` bucket is implicit).
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last entry is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, counts: vec![0; bounds.len() + 1], sum: 0.0 }
    }

    /// Adds one observation to the first bucket whose bound is at least `value`.
    pub(crate) fn observe(&mut self, value: f64) {
        let idx = self.bounds.partition_point(|bound| *bound < value);
        self.counts[idx] += 1;
        self.sum += value;
    }

    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub(crate) fn sum(&self) -> f64 {
        self.sum
    }

    /// `(upper bound, cumulative count)`, ending with `(+Inf, count)`.
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let bounds = self.bounds.iter().copied().chain(std::iter::once(f64::INFINITY));
        bounds.zip(self.counts.iter().scan(0u64, |acc, n| {
            *acc += n;
            Some(*acc)
        }))
    }
}

/// A summary without quantiles: count and sum (what prometheus-fastapi-instrumentator exposes).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Summary {
    pub(crate) count: u64,
    pub(crate) sum: f64,
}

impl Summary {
    pub(crate) fn observe(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn observations_land_in_the_first_bucket_at_or_above_them() {
        let mut h = Histogram::new(&[1.0, 2.0, 5.0]);
        for v in [0.5, 1.0, 1.5, 7.0] {
            h.observe(v);
        }
        let buckets: Vec<(f64, u64)> = h.cumulative().collect();
        assert_eq!(buckets, vec![(1.0, 2), (2.0, 3), (5.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(h.count(), 4);
        assert_eq!(h.sum(), 10.0);
    }
}
