//! Differences of two cohorts' estimates, with variances that allow for observations correlated within time blocks.
//!
//! Requests served by one replica in the same seconds share its batch and
//! queue, so their latencies move together; a test that takes them as
//! independent finds differences between two identical replicas far more
//! often than α (the A/A test measured 37 % for time per output token).
//! Every estimate here is a ratio of sums over blocks (a share, a rate, a
//! mean), so its variance can also be estimated from how the blocks vary:
//! linearize each block's contribution, `y_k − r·n_k`, and sum the squares
//! (the delta method for ratio metrics, as Deng, Knoblich and Lu 2018 apply
//! it to online experiments). Each cohort takes the larger of that and the
//! independent variance, so few or quiet blocks never make a test bolder
//! than independence would, and a block variance brings its K − 1 degrees
//! of freedom into a Welch–Satterthwaite t test.

use crate::probability;

/// Fewest non-empty blocks for a block variance.
pub(crate) const MIN_BLOCKS: usize = 5;

/// One cohort's estimate, what it is a function of, and its blocks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Side {
    /// The estimate (a quantile, a rate, a mean).
    pub(crate) value: f64,
    /// Its variance were the observations independent.
    pub(crate) independent: f64,
    /// The ratio `Σy / Σn` the estimate is a function of (a share, a rate, a mean).
    pub(crate) ratio: f64,
    /// How far the estimate moves per unit of ratio (dQ/dF for a quantile, else 1).
    pub(crate) scale: f64,
    /// `(y_k, n_k)` per block.
    pub(crate) blocks: Vec<(f64, f64)>,
}

impl Side {
    fn total(&self) -> f64 {
        self.blocks.iter().map(|(_, n)| n).sum()
    }

    /// Block `k`'s linearized contribution to the estimate's error.
    fn residual(&self, k: usize, total: f64) -> f64 {
        let (y, n) = self.blocks[k];
        if total > 0.0 { self.scale * (y - self.ratio * n) / total } else { 0.0 }
    }

    /// The variance the estimate is tested with and its degrees of freedom:
    /// the larger of the independent and the block variance.
    fn variance(&self) -> (f64, f64) {
        let total = self.total();
        let filled: Vec<usize> = (0..self.blocks.len()).filter(|&k| self.blocks[k].1 > 0.0).collect();
        let k = filled.len();
        if k >= MIN_BLOCKS {
            let squares: f64 = filled.iter().map(|&i| self.residual(i, total).powi(2)).sum();
            let block = k as f64 / (k - 1) as f64 * squares;
            if block > self.independent {
                return (block, (k - 1) as f64);
            }
        }
        (self.independent, f64::INFINITY)
    }
}

/// A test of `b − a`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Difference {
    pub(crate) value: f64,
    pub(crate) p_value: f64,
    pub(crate) ci: (f64, f64),
    /// The smallest |b − a| detected with the given power at level α.
    pub(crate) min_detectable: f64,
    /// Degrees of freedom of a t test; `None` for a normal test.
    pub(crate) df: Option<f64>,
}

/// Tests `b.value − a.value`.
///
/// `paired`: block k of `a` and of `b` cover the same time, so the
/// variance comes from the blocks' paired differences of residuals, in
/// which whatever moves both cohorts at once (the load) cancels, with
/// K − 1 degrees of freedom. Otherwise each cohort brings the larger of its
/// independent and block variance, into a Welch–Satterthwaite t test
/// (normal when both are independent).
pub(crate) fn difference(a: &Side, b: &Side, paired: bool, alpha: f64, power: f64) -> Difference {
    let value = b.value - a.value;
    if paired && a.blocks.len() == b.blocks.len() {
        let (total_a, total_b) = (a.total(), b.total());
        let filled: Vec<usize> = (0..a.blocks.len()).filter(|&k| a.blocks[k].1 > 0.0 || b.blocks[k].1 > 0.0).collect();
        let k = filled.len();
        if k >= MIN_BLOCKS {
            let squares: f64 = filled.iter().map(|&i| (b.residual(i, total_b) - a.residual(i, total_a)).powi(2)).sum();
            let variance = k as f64 / (k - 1) as f64 * squares;
            return finish(value, variance, (k - 1) as f64, alpha, power);
        }
    }
    let ((va, dfa), (vb, dfb)) = (a.variance(), b.variance());
    let variance = va + vb;
    let denominator: f64 =
        [(va, dfa), (vb, dfb)].iter().filter(|(_, df)| df.is_finite()).map(|(v, df)| v * v / df).sum();
    let df = if denominator > 0.0 { variance * variance / denominator } else { f64::INFINITY };
    finish(value, variance, df, alpha, power)
}

fn finish(value: f64, variance: f64, df: f64, alpha: f64, power: f64) -> Difference {
    let se = variance.sqrt();
    let p_value = if se > 0.0 {
        probability::t_two_sided_p(value / se, df)
    } else if value == 0.0 {
        1.0
    } else {
        0.0
    };
    let critical = probability::t_quantile(0.975, df);
    let detect = probability::t_quantile(1.0 - alpha / 2.0, df) + probability::t_quantile(power, df);
    Difference {
        value,
        p_value,
        ci: (value - critical * se, value + critical * se),
        min_detectable: detect * se,
        df: df.is_finite().then_some(df),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(value: f64, independent: f64, blocks: Vec<(f64, f64)>) -> Side {
        let ratio = blocks.iter().map(|b| b.0).sum::<f64>() / blocks.iter().map(|b| b.1).sum::<f64>();
        Side { value, independent, ratio, scale: 1.0, blocks }
    }

    #[test]
    fn block_variance_replaces_a_smaller_independent_one() {
        // Ten blocks of 100, shares alternating 0.4 and 0.6: r = 0.5,
        // Σ((y − r·n)/N)² = 10 · (10/1000)² = 0.001, times 10/9 = 0.001111,
        // against the independent 0.25 / 1000.
        let alternating =
            side(0.5, 0.25 / 1000.0, (0..10).map(|k| (if k % 2 == 0 { 40.0 } else { 60.0 }, 100.0)).collect());
        let (variance, df) = alternating.variance();
        assert!((variance - 0.001_111_111).abs() < 1e-9 && df == 9.0, "{variance} {df}");
        // Identical blocks vary less than independence: the independent variance stays.
        let steady = side(0.5, 0.25 / 1000.0, (0..10).map(|_| (50.0, 100.0)).collect());
        assert_eq!(steady.variance(), (0.000_25, f64::INFINITY));
        // Four blocks are too few.
        let few = side(0.5, 0.0, (0..4).map(|k| (f64::from(k), 10.0)).collect());
        assert_eq!(few.variance(), (0.0, f64::INFINITY));
    }

    #[test]
    fn pairing_cancels_what_both_cohorts_share() {
        // Both cohorts' shares swing together from block to block: unpaired,
        // each brings the swing's variance; paired, only their difference counts.
        let swing = |offset: f64| -> Vec<(f64, f64)> {
            (0..10)
                .map(|k| (if k % 2 == 0 { 40.0 } else { 60.0 } + offset * if k < 5 { 1.0 } else { -1.0 }, 100.0))
                .collect()
        };
        let (a, b) = (side(0.5, 0.0, swing(0.0)), side(0.5, 0.0, swing(1.0)));
        let unpaired = difference(&a, &b, false, 0.05, 0.8);
        let paired = difference(&a, &b, true, 0.05, 0.8);
        // Paired residuals: ±1/1000 in every block, Σ = 10 · 1e-6, times 10/9.
        let paired_se = (10.0 / 9.0 * 10.0 * 1e-6_f64).sqrt();
        assert!(((paired.ci.1 - paired.ci.0) / 2.0 - 2.262_157 * paired_se).abs() < 1e-6, "{paired:?}");
        assert_eq!(paired.df, Some(9.0));
        assert!(unpaired.ci.1 - unpaired.ci.0 > 5.0 * (paired.ci.1 - paired.ci.0));
    }

    #[test]
    fn welch_degrees_of_freedom_and_the_interval() {
        let a = side(1.0, 0.0, (0..10).map(|k| (if k % 2 == 0 { 40.0 } else { 60.0 }, 100.0)).collect());
        let b = Side { value: 1.5, ..a.clone() };
        let d = difference(&a, &b, false, 0.05, 0.8);
        // Each variance 0.001111 with 9 df: df = (2v)² / (2v²/9) = 18.
        assert!((d.df.expect("t test") - 18.0).abs() < 1e-9);
        let se = (2.0 * 0.001_111_111_f64).sqrt();
        assert!((d.ci.0 - (0.5 - 2.100_922 * se)).abs() < 1e-5, "{:?}", d.ci);
        let independent =
            difference(&side(1.0, 0.01, vec![(1.0, 2.0)]), &side(1.5, 0.01, vec![(1.0, 2.0)]), false, 0.05, 0.8);
        assert_eq!(independent.df, None);
        assert!((independent.min_detectable - 2.801_585 * 0.02_f64.sqrt()).abs() < 1e-5);
        // t = 0.5 / √0.02 = 3.5355, normal: p = 0.000407.
        assert!((independent.p_value - 0.000_407).abs() < 5e-6, "{}", independent.p_value);
    }
}
