//! A judge's hard limits: requests per minute, tokens and dollars per day.
//!
//! A call is let through only while every limit has room: the minute's
//! request count is checked and taken before the call, so it is never
//! exceeded; tokens and dollars are known only from the answer's usage, so
//! a call starts while today's spend is under the cap and is added when it
//! ends. Spend can therefore pass a daily cap by at most what the calls
//! already in flight use, and never by a call started after the cap was
//! reached. Minutes and days are UTC, from the caller's clock.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// The limits of one judge; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub struct Limits {
    /// Calls started per minute.
    pub requests_per_minute: Option<u32>,
    /// Input plus output tokens per day.
    pub tokens_per_day: Option<u64>,
    /// Dollars per day, from [`Price`]; ignored without a price.
    pub dollars_per_day: Option<f64>,
}

/// What the judge model costs, in dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
pub struct Price {
    /// Per million input tokens.
    pub input_per_million: f64,
    /// Per million output tokens.
    pub output_per_million: f64,
}

impl Price {
    /// Dollars for a call's tokens.
    pub fn dollars(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_million + output_tokens as f64 * self.output_per_million) / 1e6
    }
}

#[derive(Debug, Default)]
struct State {
    minute: i64,
    requests: u32,
    day: i64,
    tokens: u64,
    dollars: f64,
}

/// A judge's spend against its limits.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    price: Option<Price>,
    state: Mutex<State>,
}

/// Room for one call, taken from the budget; give it back with
/// [`Budget::spend`] once the call's usage is known (zero if it failed
/// before any).
#[derive(Debug)]
#[must_use = "a reservation is settled with Budget::spend"]
pub struct Reservation {
    day: i64,
}

impl Budget {
    /// A budget with these limits and, for the dollar limit and cost, a price.
    pub fn new(limits: Limits, price: Option<Price>) -> Budget {
        Budget { limits, price, state: Mutex::new(State::default()) }
    }

    /// Takes room for one call at `now_ms`, or says which limit has none
    /// (`requests_per_minute`, `tokens_per_day`, `dollars_per_day`).
    pub fn reserve(&self, now_ms: i64) -> Result<Reservation, &'static str> {
        let mut state = self.state.lock();
        let (minute, day) = (now_ms.div_euclid(MINUTE_MS), now_ms.div_euclid(DAY_MS));
        if state.minute != minute {
            state.minute = minute;
            state.requests = 0;
        }
        if state.day != day {
            state.day = day;
            state.tokens = 0;
            state.dollars = 0.0;
        }
        if self.limits.tokens_per_day.is_some_and(|cap| state.tokens >= cap) {
            return Err("tokens_per_day");
        }
        if self.price.is_some() && self.limits.dollars_per_day.is_some_and(|cap| state.dollars >= cap) {
            return Err("dollars_per_day");
        }
        if self.limits.requests_per_minute.is_some_and(|cap| state.requests >= cap) {
            return Err("requests_per_minute");
        }
        state.requests += 1;
        Ok(Reservation { day })
    }

    /// Adds a finished call's usage to its day; returns what it cost, when
    /// there is a price.
    pub fn spend(&self, reservation: Reservation, input_tokens: u64, output_tokens: u64) -> Option<f64> {
        let dollars = self.price.map(|price| price.dollars(input_tokens, output_tokens));
        let mut state = self.state.lock();
        if state.day == reservation.day {
            state.tokens += input_tokens + output_tokens;
            state.dollars += dollars.unwrap_or(0.0);
        }
        dollars
    }

    /// Each configured limit with what is used of it: calls this minute,
    /// tokens and dollars today, as of the last call (`limit`, used, cap).
    pub fn usage(&self) -> Vec<(&'static str, f64, f64)> {
        let state = self.state.lock();
        let mut usage = Vec::with_capacity(3);
        if let Some(cap) = self.limits.requests_per_minute {
            usage.push(("requests_per_minute", f64::from(state.requests), f64::from(cap)));
        }
        if let Some(cap) = self.limits.tokens_per_day {
            usage.push(("tokens_per_day", state.tokens as f64, cap as f64));
        }
        if let Some(cap) = self.limits.dollars_per_day.filter(|_| self.price.is_some()) {
            usage.push(("dollars_per_day", state.dollars, cap));
        }
        usage
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lists_each_configured_limit_with_what_is_used() {
        let price = Price { input_per_million: 1.0, output_per_million: 2.0 };
        let limits = Limits { requests_per_minute: Some(10), tokens_per_day: None, dollars_per_day: Some(5.0) };
        let budget = Budget::new(limits, Some(price));
        let reservation = budget.reserve(1_000).expect("room for one call");
        let _ = budget.spend(reservation, 1_000_000, 500_000);
        assert_eq!(budget.usage(), vec![("requests_per_minute", 1.0, 10.0), ("dollars_per_day", 2.0, 5.0)]);
        let unpriced = Budget::new(limits, None);
        assert_eq!(unpriced.usage(), vec![("requests_per_minute", 0.0, 10.0)], "no price, no dollar limit");
    }

    #[test]
    fn requests_per_minute_are_never_exceeded_and_refill_each_minute() {
        let budget = Budget::new(Limits { requests_per_minute: Some(3), ..Limits::default() }, None);
        let taken: Vec<_> = (0..5).map(|i| budget.reserve(1_000 + i)).collect();
        assert_eq!(taken.iter().filter(|r| r.is_ok()).count(), 3);
        assert_eq!(taken[4].as_ref().err(), Some(&"requests_per_minute"));
        assert!(budget.reserve(61_000).is_ok(), "a new minute");
    }

    #[test]
    fn daily_tokens_stop_new_calls_once_reached() {
        let budget = Budget::new(Limits { tokens_per_day: Some(250), ..Limits::default() }, None);
        let mut calls = 0;
        while let Ok(reservation) = budget.reserve(5_000) {
            let _ = budget.spend(reservation, 60, 40);
            calls += 1;
        }
        assert_eq!(calls, 3, "100 tokens a call, the third passes 250");
        assert_eq!(budget.usage(), [("tokens_per_day", 300.0, 250.0)]);
        assert!(budget.reserve(DAY_MS + 1).is_ok(), "a new day");
    }

    #[test]
    fn dollars_count_only_with_a_price() {
        let price = Price { input_per_million: 2.0, output_per_million: 8.0 };
        let budget = Budget::new(Limits { dollars_per_day: Some(0.001), ..Limits::default() }, Some(price));
        let reservation = budget.reserve(0).expect("room");
        let cost = budget.spend(reservation, 100, 100).expect("priced");
        assert!((cost - 0.001).abs() < 1e-12, "{cost}");
        assert_eq!(budget.reserve(1).err(), Some("dollars_per_day"));
        let unpriced = Budget::new(Limits { dollars_per_day: Some(0.0), ..Limits::default() }, None);
        assert!(unpriced.reserve(0).is_ok(), "no price, no dollar limit");
    }
}
