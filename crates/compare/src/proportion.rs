//! Rates with few events (errors per request, flagged per scored exchange): Fisher's exact test and Newcombe's interval.

use crate::probability;

/// Events out of trials in one cohort; fractional counts (extrapolated
/// increases) are allowed and rounded only for Fisher's test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Counts {
    /// Trials with the event (errors, flagged exchanges).
    pub events: f64,
    /// All trials (requests, scored exchanges).
    pub trials: f64,
}

impl Counts {
    /// `events` out of `trials`.
    pub fn new(events: f64, trials: f64) -> Counts {
        Counts { events, trials }
    }

    pub(crate) fn rate(&self) -> f64 {
        if self.trials > 0.0 { (self.events / self.trials).clamp(0.0, 1.0) } else { 0.0 }
    }
}

/// Smallest expected count in any cell of the 2×2 table for which the
/// normal approximation is used; below it, Fisher's exact test.
pub(crate) const MIN_EXPECTED: f64 = 5.0;

/// The smallest expected count in the 2×2 table of `a` and `b` under "no difference".
pub(crate) fn min_expected(a: Counts, b: Counts) -> f64 {
    let pooled = (a.events + b.events) / (a.trials + b.trials);
    [a.trials, b.trials].iter().flat_map(|n| [n * pooled, n * (1.0 - pooled)]).fold(f64::INFINITY, f64::min)
}

/// Standard error of `b − a` under "no difference": the pooled rate,
/// kept at least three events (the rule of three) from 0 and from 1, so
/// that two cohorts without a single error still state what they could
/// have seen.
pub(crate) fn null_standard_error(a: Counts, b: Counts) -> f64 {
    let total = a.trials + b.trials;
    let floor = (3.0 / total).min(0.5);
    let rate = ((a.events + b.events) / total).clamp(floor, 1.0 - floor);
    (rate * (1.0 - rate) * (1.0 / a.trials + 1.0 / b.trials)).sqrt()
}

/// Wilson's score interval of one rate.
fn wilson(counts: Counts, z: f64) -> (f64, f64) {
    let n = counts.trials;
    let p = counts.rate();
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Newcombe's hybrid score interval of `b − a` (his method 10), which stays
/// inside [−1, 1] and behaves with zero events.
pub(crate) fn newcombe(a: Counts, b: Counts, z: f64) -> (f64, f64) {
    let (pa, pb) = (a.rate(), b.rate());
    let (la, ua) = wilson(a, z);
    let (lb, ub) = wilson(b, z);
    let difference = pb - pa;
    let lower = difference - ((pb - lb).powi(2) + (ua - pa).powi(2)).sqrt();
    let upper = difference + ((ub - pb).powi(2) + (pa - la).powi(2)).sqrt();
    (lower, upper)
}

/// Fisher's exact test, two-sided: the probability, with both margins of the
/// 2×2 table fixed, of a table at most as likely as the one observed.
pub(crate) fn fisher_two_sided(a: Counts, b: Counts) -> f64 {
    let na = a.trials.round();
    let nb = b.trials.round();
    let ka = a.events.round().clamp(0.0, na);
    let kb = b.events.round().clamp(0.0, nb);
    let k = ka + kb;
    let ln_choose = |n: f64, r: f64| {
        probability::ln_gamma(n + 1.0) - probability::ln_gamma(r + 1.0) - probability::ln_gamma(n - r + 1.0)
    };
    let ln_total = ln_choose(na + nb, k);
    let ln_p = |x: f64| ln_choose(na, x) + ln_choose(nb, k - x) - ln_total;
    let observed = ln_p(ka);
    let low = (k - nb).max(0.0) as u64;
    let high = k.min(na) as u64;
    // Tables as likely as the observed one, within rounding, count as "at most as likely".
    let threshold = observed + 1e-7;
    let p: f64 = (low..=high).map(|x| ln_p(x as f64)).filter(|lp| *lp <= threshold).map(f64::exp).sum();
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_matches_the_tea_tasting_table() {
        // Fisher's lady tasting tea: 3 of 4 right in each group, p = 0.4857 (two-sided).
        let p = fisher_two_sided(Counts::new(3.0, 4.0), Counts::new(1.0, 4.0));
        assert!((p - 0.485_714_285_714).abs() < 1e-9, "{p}");
        // 0/100 against 6/100: p = 0.0289303 (summed exactly with Python's math.comb).
        let p = fisher_two_sided(Counts::new(0.0, 100.0), Counts::new(6.0, 100.0));
        assert!((p - 0.028_930_3).abs() < 1e-6, "{p}");
    }

    #[test]
    fn newcombe_interval_and_null_error_match_hand_figures() {
        // Newcombe's method 10 for 80/1000 − 50/1000, from Wilson intervals by hand: (0.008387, 0.051952).
        let ci = newcombe(Counts::new(50.0, 1000.0), Counts::new(80.0, 1000.0), 1.959_963_984_540_054);
        assert!((ci.0 - 0.008_387).abs() < 1e-5 && (ci.1 - 0.051_952).abs() < 1e-5, "{ci:?}");
        let few = newcombe(Counts::new(0.0, 100.0), Counts::new(1.0, 100.0), 1.96);
        assert!(few.0 < 0.0 && few.1 > 0.0);
        // No events in 2 × 1000: the rate taken is 3/2000, se = √(0.0015 · 0.9985 · 0.002).
        let se = null_standard_error(Counts::new(0.0, 1000.0), Counts::new(0.0, 1000.0));
        assert!((se - (0.0015_f64 * 0.9985 * 0.002).sqrt()).abs() < 1e-12);
        assert_eq!(min_expected(Counts::new(1.0, 100.0), Counts::new(1.0, 100.0)), 1.0);
    }
}
