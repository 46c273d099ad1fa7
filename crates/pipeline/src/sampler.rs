//! Which exchanges are scored and which are kept: every error and flagged one, a share of the rest, within a budget.
//!
//! The share is taken systematically, not at random: each model carries a
//! running fraction, and an exchange is kept whenever the fraction crosses a
//! whole number. So a 10 % rate keeps exactly one exchange in ten, and two
//! runs over the same traffic keep the same exchanges. The budget counts
//! kept exchanges per model and minute of the exchanges' own time, so it
//! behaves the same on a simulated clock.

use std::collections::HashMap;

/// Why an exchange was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// It failed.
    Error,
    /// A scorer flagged it.
    Flagged,
    /// It fell in the sampled share.
    Sampled,
    /// A judge's sample picked it: its verdicts need the exchange stored.
    Judged,
}

impl Reason {
    /// The value of the `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Error => "error",
            Reason::Flagged => "flagged",
            Reason::Sampled => "sampled",
            Reason::Judged => "judged",
        }
    }
}

/// The verdict on one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Keep it, for this reason.
    Keep(Reason),
    /// Not sampled.
    Skip,
    /// It would be kept, but the model's budget for this minute is spent.
    OverBudget,
}

#[derive(Debug, Default)]
struct ModelState {
    minute: i64,
    kept_this_minute: u32,
}

/// Picks a systematic share of a stream, per key: each key carries a running
/// fraction, and an item is picked whenever it crosses a whole number.
#[derive(Debug, Default)]
pub struct Share {
    fractions: HashMap<String, f64>,
}

impl Share {
    /// Whether the next item of `key` is picked at `rate` (0 to 1).
    pub fn pick(&mut self, key: &str, rate: f64) -> bool {
        let rate = rate.clamp(0.0, 1.0);
        let fraction = match self.fractions.get_mut(key) {
            Some(fraction) => fraction,
            None => self.fractions.entry(key.to_owned()).or_default(),
        };
        *fraction += rate;
        if *fraction < 1.0 - 1e-9 {
            return false;
        }
        *fraction -= 1.0;
        true
    }
}

/// The sampler; one per pipeline.
#[derive(Debug)]
pub struct Sampler {
    default_rate: f64,
    rates: HashMap<String, f64>,
    budget_per_minute: u32,
    models: HashMap<String, ModelState>,
    share: Share,
}

impl Sampler {
    /// A sampler keeping `default_rate` of ordinary exchanges (or the rate in
    /// `rates` for the models it names), at most `budget_per_minute` per model.
    pub fn new(default_rate: f64, rates: HashMap<String, f64>, budget_per_minute: u32) -> Sampler {
        Sampler { default_rate, rates, budget_per_minute, models: HashMap::new(), share: Share::default() }
    }

    /// Decides on an exchange of `model` at `time_ms` that failed or not and
    /// was flagged or not.
    pub fn decide(&mut self, model: &str, time_ms: i64, failed: bool, flagged: bool) -> Decision {
        let rate = self.rates.get(model).copied().unwrap_or(self.default_rate);
        let reason = if failed {
            Reason::Error
        } else if flagged {
            Reason::Flagged
        } else if self.share.pick(model, rate) {
            Reason::Sampled
        } else {
            return Decision::Skip;
        };
        let state = match self.models.get_mut(model) {
            Some(state) => state,
            None => self.models.entry(model.to_owned()).or_default(),
        };
        let minute = time_ms.div_euclid(60_000);
        if minute != state.minute {
            state.minute = minute;
            state.kept_this_minute = 0;
        }
        if state.kept_this_minute >= self.budget_per_minute {
            return Decision::OverBudget;
        }
        state.kept_this_minute += 1;
        Decision::Keep(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(sampler: &mut Sampler, model: &str, n: usize) -> usize {
        (0..n).filter(|&i| matches!(sampler.decide(model, i as i64, false, false), Decision::Keep(_))).count()
    }

    #[test]
    fn a_rate_keeps_exactly_that_share_of_ordinary_exchanges() {
        let mut sampler = Sampler::new(0.1, HashMap::new(), u32::MAX);
        assert_eq!(kept(&mut sampler, "llama", 1000), 100);
        let mut all = Sampler::new(1.0, HashMap::new(), u32::MAX);
        assert_eq!(kept(&mut all, "llama", 50), 50);
        let mut none = Sampler::new(0.0, HashMap::new(), u32::MAX);
        assert_eq!(kept(&mut none, "llama", 50), 0);
    }

    #[test]
    fn errors_and_flagged_exchanges_are_always_kept() {
        let mut sampler = Sampler::new(0.0, HashMap::new(), u32::MAX);
        assert_eq!(sampler.decide("llama", 0, true, false), Decision::Keep(Reason::Error));
        assert_eq!(sampler.decide("llama", 0, false, true), Decision::Keep(Reason::Flagged));
        assert_eq!(sampler.decide("llama", 0, false, false), Decision::Skip);
    }

    #[test]
    fn per_model_rates_override_the_default() {
        let mut sampler = Sampler::new(0.0, HashMap::from([("qwen".to_owned(), 0.5)]), u32::MAX);
        assert_eq!(kept(&mut sampler, "qwen", 100), 50);
        assert_eq!(kept(&mut sampler, "llama", 100), 0);
    }

    #[test]
    fn the_budget_caps_each_model_per_minute_of_exchange_time() {
        let mut sampler = Sampler::new(1.0, HashMap::new(), 3);
        let decisions: Vec<Decision> = (0..5).map(|_| sampler.decide("llama", 1_000, true, false)).collect();
        assert_eq!(decisions[2], Decision::Keep(Reason::Error));
        assert_eq!(decisions[3], Decision::OverBudget, "errors count against the budget too");
        assert_eq!(
            sampler.decide("qwen", 1_000, false, false),
            Decision::Keep(Reason::Sampled),
            "budgets are per model"
        );
        assert_eq!(sampler.decide("llama", 61_000, false, false), Decision::Keep(Reason::Sampled), "a new minute");
    }
}
