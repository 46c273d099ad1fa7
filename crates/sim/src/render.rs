//! The pages a replica serves on `/metrics`: vLLM's or SGLang's, and the DCGM exporter's for its GPUs.
//!
//! Each engine's module owns what that engine counts ([`vllm::VllmStats`],
//! [`sglang::SglangStats`]) and writes it in the engine's exact layout: the
//! family names, HELP texts, label names, bucket boundaries and sample order
//! of the fixtures in `testdata/`.

pub(crate) mod dcgm;
pub(crate) mod sglang;
pub(crate) mod vllm;

use std::collections::BTreeMap;

use crate::histogram::{Histogram, Summary};

/// `http_request_duration_highr_seconds` buckets (prometheus-fastapi-instrumentator).
const HTTP_HIGHR_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 7.5, 10.0, 30.0, 60.0,
];
/// `http_request_duration_seconds` buckets (prometheus-fastapi-instrumentator).
const HTTP_BUCKETS: &[f64] = &[0.1, 0.5, 1.0];

/// What the engine's HTTP server counted, per handler.
#[derive(Debug, Clone)]
pub(crate) struct HttpStats {
    pub(crate) requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    pub(crate) request_size: BTreeMap<&'static str, Summary>,
    pub(crate) response_size: BTreeMap<&'static str, Summary>,
    pub(crate) highr: Histogram,
    pub(crate) duration: BTreeMap<(&'static str, &'static str), Histogram>,
    pub(crate) active: u64,
}

impl HttpStats {
    pub(crate) fn new() -> HttpStats {
        HttpStats {
            requests: BTreeMap::new(),
            request_size: BTreeMap::new(),
            response_size: BTreeMap::new(),
            highr: Histogram::new(HTTP_HIGHR_BUCKETS),
            duration: BTreeMap::new(),
            active: 0,
        }
    }

    /// One finished HTTP request.
    pub(crate) fn record(
        &mut self,
        handler: &'static str,
        method: &'static str,
        status: u16,
        request_bytes: f64,
        response_bytes: f64,
        duration_s: f64,
    ) {
        *self.requests.entry((handler, method, status)).or_default() += 1;
        self.request_size.entry(handler).or_default().observe(request_bytes);
        self.response_size.entry(handler).or_default().observe(response_bytes);
        self.highr.observe(duration_s);
        self.duration.entry((handler, method)).or_insert_with(|| Histogram::new(HTTP_BUCKETS)).observe(duration_s);
    }
}

/// The Python process behind an engine's `/metrics`, for `process_*` and `python_*`.
#[derive(Debug, Clone)]
pub(crate) struct ProcessInfo {
    pub(crate) start_s: f64,
    pub(crate) pid: u32,
}

impl ProcessInfo {
    /// Seconds the process has been up at `now_s`.
    pub(crate) fn uptime_s(&self, now_s: f64) -> f64 {
        (now_s - self.start_s).max(0.0)
    }
}
