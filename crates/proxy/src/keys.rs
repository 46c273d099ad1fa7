//! Gateway keys at run time: who a client is ([`Keys::identify`]), whether
//! its request may go ([`Key::allows`] for its models, [`Key::admit`] for
//! its limits), and what each finished request spent ([`Admission`]).
//!
//! Minutes are sliding windows of 60 one-second buckets, so memory per key
//! is fixed and `Retry-After` is exact to the second. Requests count when
//! admitted; tokens when the request finishes, from the upstream's `usage`
//! (or, without one, its content chunks as output tokens). Days are UTC
//! days. A request is refused once the day's spend is at or over the
//! budget, so the spend passes it by at most what the requests in flight
//! at that moment use.

use std::fmt;
use std::sync::Arc;

use access::{HashChecker, constant_time_eq};
use inference::Usage;
use parking_lot::Mutex;

use crate::Clock;
use crate::config::{KeySettings, Limits, Secret, TokenPrice};
use crate::route::ModelPattern;

const MINUTE_SECONDS: i64 = 60;
const DAY_MS: i64 = 86_400_000;

/// The keys a client may present: plain `api_keys` and named `[[gateway.key]]`s.
pub(crate) struct Keys {
    api_keys: Vec<Secret>,
    keys: Vec<Arc<Key>>,
    checker: HashChecker,
    clock: Clock,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("n_api_keys", &self.api_keys.len())
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Who a request comes from.
#[derive(Debug, Clone)]
pub(crate) enum Identity {
    /// No key is configured: everyone is let in.
    Open,
    /// One of the plain `api_keys`: no name, no limits.
    Plain,
    /// A `[[gateway.key]]`.
    Named(Arc<Key>),
}

impl Identity {
    /// The `infersight_gateway_key` label value: the key's name, or empty.
    pub fn label(&self) -> &str {
        match self {
            Identity::Named(key) => &key.name,
            Identity::Open | Identity::Plain => "",
        }
    }
}

impl Keys {
    /// The keys of the settings; `prices` are every model's token prices.
    pub fn new(api_keys: Vec<Secret>, keys: Vec<KeySettings>, prices: &[TokenPrice], clock: Clock) -> Keys {
        let keys = keys.into_iter().map(|settings| Arc::new(Key::new(settings, prices))).collect();
        Keys { api_keys, keys, checker: HashChecker::new(), clock }
    }

    /// Whether clients must send a key.
    pub fn checks_keys(&self) -> bool {
        !self.api_keys.is_empty() || !self.keys.is_empty()
    }

    /// Whether checking a key may run bcrypt, so must run off the async threads.
    pub fn needs_blocking(&self) -> bool {
        self.keys.iter().any(|key| key.hash.is_bcrypt())
    }

    /// Who sent `token` (the bearer token, `None` without one); `None` when
    /// keys are checked and it is none of them. May run bcrypt: see
    /// [`Keys::needs_blocking`].
    pub fn identify(&self, token: Option<&str>) -> Option<Identity> {
        if !self.checks_keys() {
            return Some(Identity::Open);
        }
        let token = token?;
        if self.api_keys.iter().any(|accepted| constant_time_eq(accepted.expose().as_bytes(), token.as_bytes())) {
            return Some(Identity::Plain);
        }
        let key = self.keys.iter().find(|key| self.checker.matches(&key.hash, token))?;
        Some(Identity::Named(Arc::clone(key)))
    }

    /// The clock, for admissions to charge by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}

/// One `[[gateway.key]]` and what it has spent.
pub(crate) struct Key {
    /// The configured name.
    pub name: String,
    hash: access::SecretHash,
    models: Vec<ModelPattern>,
    limits: Limits,
    /// The prices of the models it may use, by exact name.
    prices: Vec<TokenPrice>,
    spend: Mutex<Spend>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("name", &self.name).field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// A limit a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    RequestsPerMinute,
    TokensPerMinute,
    DailyTokens,
    DailyDollars,
}

impl Limit {
    /// The limit's name: its key in the configuration, the `code` of the
    /// error and the `reason` of the rejection counter.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::RequestsPerMinute => "requests_per_minute",
            Limit::TokensPerMinute => "tokens_per_minute",
            Limit::DailyTokens => "daily_tokens",
            Limit::DailyDollars => "daily_dollars",
        }
    }

    /// OpenAI's error `type`: a rate limit frees within a minute, a budget at midnight UTC.
    pub fn error_type(self) -> &'static str {
        match self {
            Limit::RequestsPerMinute | Limit::TokensPerMinute => "rate_limit_exceeded",
            Limit::DailyTokens | Limit::DailyDollars => "insufficient_quota",
        }
    }
}

/// Why a key's request was refused, and when to come back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub limit: Limit,
    /// Whole seconds until the limit lets a request through again.
    pub retry_after_s: u64,
    /// The limit's value, as written.
    pub allowed: String,
}

impl Refusal {
    /// The error message: the key's name, the limit, when to retry; never the key.
    pub fn message(&self, key: &str) -> String {
        let what = match self.limit {
            Limit::RequestsPerMinute => format!("{} requests per minute", self.allowed),
            Limit::TokensPerMinute => format!("{} tokens per minute", self.allowed),
            Limit::DailyTokens => format!("its daily budget of {} tokens", self.allowed),
            Limit::DailyDollars => format!("its daily budget of ${}", self.allowed),
        };
        format!("The gateway key {key:?} has reached {what}. Retry in {}s.", self.retry_after_s)
    }
}

impl Key {
    fn new(settings: KeySettings, prices: &[TokenPrice]) -> Key {
        let prices = prices
            .iter()
            .filter(|price| settings.models.is_empty() || settings.models.iter().any(|m| m.matches(&price.model)))
            .cloned()
            .collect();
        Key {
            name: settings.name,
            hash: settings.hash,
            models: settings.models,
            limits: settings.limits,
            prices,
            spend: Mutex::new(Spend::default()),
        }
    }

    /// Whether the key may ask for `model`.
    pub fn allows(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|pattern| pattern.matches(model))
    }

    /// Admits a request for `model` now (by `clock`), counting it against
    /// `requests_per_minute`, or says which limit refuses it.
    pub fn admit(self: &Arc<Key>, model: &str, clock: &Clock) -> Result<Admission, Refusal> {
        let now_ms = clock();
        let now_s = now_ms.div_euclid(1000);
        let limits = self.limits;
        let mut spend = self.spend.lock();
        spend.roll_day(now_ms);
        let until_midnight = || {
            let next_day_ms = (now_ms.div_euclid(DAY_MS) + 1) * DAY_MS;
            ((next_day_ms - now_ms) as u64).div_ceil(1000)
        };
        if let Some(budget) = limits.daily_tokens
            && spend.day_tokens >= budget
        {
            return Err(Refusal {
                limit: Limit::DailyTokens,
                retry_after_s: until_midnight(),
                allowed: budget.to_string(),
            });
        }
        if let Some(budget) = limits.daily_dollars
            && spend.day_dollars >= budget
        {
            return Err(Refusal {
                limit: Limit::DailyDollars,
                retry_after_s: until_midnight(),
                allowed: budget.to_string(),
            });
        }
        if let Some(limit) = limits.tokens_per_minute
            && let Some(retry_after_s) = spend.tokens.retry_after(now_s, limit)
        {
            return Err(Refusal { limit: Limit::TokensPerMinute, retry_after_s, allowed: limit.to_string() });
        }
        if let Some(limit) = limits.requests_per_minute
            && let Some(retry_after_s) = spend.requests.retry_after(now_s, limit)
        {
            return Err(Refusal { limit: Limit::RequestsPerMinute, retry_after_s, allowed: limit.to_string() });
        }
        spend.requests.add(now_s, 1);
        let price = self.prices.iter().find(|price| price.model == model).cloned();
        Ok(Admission { key: Arc::clone(self), price, clock: Arc::clone(clock) })
    }

    /// Adds what a finished request used.
    fn charge(&self, now_ms: i64, tokens: u64, dollars: f64) {
        let mut spend = self.spend.lock();
        spend.roll_day(now_ms);
        spend.tokens.add(now_ms.div_euclid(1000), tokens);
        spend.day_tokens = spend.day_tokens.saturating_add(tokens);
        spend.day_dollars += dollars;
    }
}

/// An admitted request of a key: when it finishes, what it used is charged.
#[derive(Clone)]
pub(crate) struct Admission {
    key: Arc<Key>,
    price: Option<TokenPrice>,
    clock: Clock,
}

impl fmt::Debug for Admission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admission").field("key", &self.key.name).finish_non_exhaustive()
    }
}

impl Admission {
    /// Charges the key for `usage`, at the request model's prices.
    pub fn charge(&self, usage: Usage) {
        let tokens = usage.input_tokens.saturating_add(usage.output_tokens);
        let dollars = self.price.as_ref().map_or(0.0, |price| {
            usage.input_tokens as f64 * price.input_per_token + usage.output_tokens as f64 * price.output_per_token
        });
        self.key.charge((self.clock)(), tokens, dollars);
    }
}

/// What a key has spent: the last minute's requests and tokens, and the day's tokens and dollars.
#[derive(Debug, Default)]
struct Spend {
    requests: Window,
    tokens: Window,
    /// The UTC day (days since the Unix epoch) the totals below are of.
    day: i64,
    day_tokens: u64,
    day_dollars: f64,
}

impl Spend {
    /// Starts a new day's totals when `now_ms` is on a later UTC day.
    fn roll_day(&mut self, now_ms: i64) {
        let day = now_ms.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.day_tokens = 0;
            self.day_dollars = 0.0;
        }
    }
}

/// Counts over the last 60 seconds, in one bucket per second.
#[derive(Debug)]
struct Window {
    /// The second each bucket is of (`second % 60` picks the bucket).
    seconds: [i64; MINUTE_SECONDS as usize],
    counts: [u64; MINUTE_SECONDS as usize],
}

impl Default for Window {
    fn default() -> Window {
        Window { seconds: [i64::MIN; MINUTE_SECONDS as usize], counts: [0; MINUTE_SECONDS as usize] }
    }
}

impl Window {
    fn add(&mut self, now_s: i64, n: u64) {
        let slot = now_s.rem_euclid(MINUTE_SECONDS) as usize;
        if self.seconds[slot] != now_s {
            self.seconds[slot] = now_s;
            self.counts[slot] = 0;
        }
        self.counts[slot] = self.counts[slot].saturating_add(n);
    }

    /// The buckets of the 60 seconds up to `now_s`, oldest first.
    fn live(&self, now_s: i64) -> Vec<(i64, u64)> {
        let mut live: Vec<(i64, u64)> = (0..self.seconds.len())
            .filter(|&i| self.seconds[i] > now_s - MINUTE_SECONDS && self.seconds[i] <= now_s)
            .map(|i| (self.seconds[i], self.counts[i]))
            .collect();
        live.sort_unstable();
        live
    }

    /// `None` while the last 60 seconds hold less than `limit`; else the
    /// whole seconds until enough of them have passed out of the window.
    fn retry_after(&self, now_s: i64, limit: u64) -> Option<u64> {
        let live = self.live(now_s);
        let mut total: u64 = live.iter().map(|(_, n)| n).sum();
        if total < limit {
            return None;
        }
        for (second, n) in live {
            total -= n;
            if total < limit {
                // The bucket of `second` leaves the window when `second + 60` begins.
                return Some((second + MINUTE_SECONDS - now_s).max(1) as u64);
            }
        }
        Some(MINUTE_SECONDS as u64)
    }
}

#[cfg(test)]
mod tests;
