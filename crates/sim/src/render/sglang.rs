//! SGLang's `/metrics` (0.5-style, prometheus_client multiprocess mode): what it counts and how it writes it.

use crate::engine::{Finish, Finished, IterationReport};
use crate::expfmt::Page;
use crate::families::SGLANG;
use crate::histogram::Histogram;
use crate::render::HttpStats;

const TOKENS: &[f64] = &[
    100.0, 300.0, 500.0, 700.0, 1000.0, 1500.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0,
    10000.0, 12500.0, 15000.0, 17500.0, 20000.0, 22500.0, 25000.0, 27500.0, 30000.0, 35000.0, 40000.0, 60000.0,
    80000.0, 100000.0, 200000.0, 300000.0, 400000.0, 600000.0, 800000.0, 1e6, 1.1e6,
];
const TTFT: &[f64] =
    &[0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 400.0];
const ITL: &[f64] = &[
    0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0,
    2.0, 4.0, 6.0, 8.0,
];
const E2E: &[f64] = &[
    0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 400.0, 600.0, 1200.0,
    1800.0, 2400.0,
];
const QUEUE: &[f64] = &[
    0.0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
    70.0, 80.0, 90.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1200.0, 1400.0, 1600.0,
    1800.0, 2000.0, 2500.0, 3000.0,
];

/// `is_streaming` values in the order SGLang's output lists them.
const STREAMING: [&str; 2] = ["true", "false"];

/// What one SGLang server counts since its processes started.
#[derive(Debug, Clone)]
pub(crate) struct SglangStats {
    /// Indexed by `is_streaming` (0 = true, 1 = false).
    pub(crate) prompt_tokens: [u64; 2],
    pub(crate) generation_tokens: [u64; 2],
    pub(crate) num_requests: [u64; 2],
    pub(crate) cached_tokens: u64,
    pub(crate) aborted: u64,
    pub(crate) realtime_prefill_compute: u64,
    pub(crate) realtime_decode: u64,
    pub(crate) retracted: u64,
    pub(crate) prompt_hist: Histogram,
    pub(crate) generation_hist: Histogram,
    pub(crate) ttft: [Histogram; 2],
    pub(crate) tpot: [Histogram; 2],
    pub(crate) e2e: [Histogram; 2],
    pub(crate) queue: Histogram,
    pub(crate) itl: Histogram,
}

impl SglangStats {
    pub(crate) fn new() -> SglangStats {
        SglangStats {
            prompt_tokens: [0; 2],
            generation_tokens: [0; 2],
            num_requests: [0; 2],
            cached_tokens: 0,
            aborted: 0,
            realtime_prefill_compute: 0,
            realtime_decode: 0,
            retracted: 0,
            prompt_hist: Histogram::new(TOKENS),
            generation_hist: Histogram::new(TOKENS),
            ttft: [Histogram::new(TTFT), Histogram::new(TTFT)],
            tpot: [Histogram::new(ITL), Histogram::new(ITL)],
            e2e: [Histogram::new(E2E), Histogram::new(E2E)],
            queue: Histogram::new(QUEUE),
            itl: Histogram::new(ITL),
        }
    }

    pub(crate) fn iteration(&mut self, report: &IterationReport) {
        self.realtime_prefill_compute += u64::from(report.prefill_tokens);
        self.cached_tokens += u64::from(report.cached_tokens);
        self.realtime_decode += u64::from(report.generated_tokens);
        self.retracted += u64::from(report.preemptions);
    }

    pub(crate) fn token_gap(&mut self, gap_s: f64) {
        self.itl.observe(gap_s);
    }

    pub(crate) fn finished<T>(&mut self, f: &Finished<T>) {
        let s = usize::from(!f.job.stream);
        if f.finish == Finish::Abort || f.finish == Finish::Error {
            self.aborted += 1;
        }
        // The tokenizer manager counts requests that produced output.
        self.num_requests[s] += 1;
        self.prompt_tokens[s] += u64::from(f.job.prompt_tokens);
        self.generation_tokens[s] += u64::from(f.generated);
        self.prompt_hist.observe(f64::from(f.job.prompt_tokens));
        self.generation_hist.observe(f64::from(f.generated));
        if let Some(ttft) = f.ttft_s() {
            self.ttft[s].observe(ttft);
        }
        if f.generated > 1 {
            self.tpot[s].observe(f.tpot_s());
        }
        self.e2e[s].observe(f.e2e_s());
        self.queue.observe(f.queue_s());
    }
}

/// Scheduler gauges at the moment of the scrape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SglangGauges {
    pub(crate) running: usize,
    pub(crate) waiting: usize,
    pub(crate) used_tokens: u64,
    pub(crate) max_total_tokens: u64,
    pub(crate) gen_throughput: f64,
    pub(crate) weights_gb: f64,
    pub(crate) kv_cache_gb: f64,
    pub(crate) context_len: u32,
    pub(crate) pid: u32,
}

/// Writes the page SGLang serves on `/metrics`.
pub(crate) fn render(model: &str, stats: &SglangStats, gauges: SglangGauges, http: &HttpStats) -> String {
    let mut page = Page::with_capacity(64 * 1024);
    let sched: &[(&str, &str)] =
        &[("engine_type", "unified"), ("model_name", model), ("moe_ep_rank", "0"), ("pp_rank", "0"), ("tp_rank", "0")];
    let tok: &[(&str, &str)] = &[("engine_type", "unified"), ("model_name", model)];
    let usage = gauges.used_tokens as f64 / (gauges.max_total_tokens.max(1)) as f64;
    let usage = (usage * 100.0).round() / 100.0;
    let evictable = ((gauges.max_total_tokens - gauges.used_tokens.min(gauges.max_total_tokens)) as f64 * 0.4).round();
    let available = (gauges.max_total_tokens as f64 - gauges.used_tokens as f64 - evictable).max(0.0);
    let total_prompt = stats.realtime_prefill_compute + stats.cached_tokens;
    let hit_rate = if total_prompt == 0 { 0.0 } else { stats.cached_tokens as f64 / total_prompt as f64 };
    for (name, value) in [
        ("sglang:num_running_reqs", gauges.running as f64),
        ("sglang:num_queue_reqs", gauges.waiting as f64),
        ("sglang:num_grammar_queue_reqs", 0.0),
        ("sglang:gen_throughput", (gauges.gen_throughput * 10.0).round() / 10.0),
        ("sglang:cache_hit_rate", (hit_rate * 1e4).round() / 1e4),
        ("sglang:token_usage", usage),
        ("sglang:full_token_usage", usage),
        ("sglang:num_used_tokens", gauges.used_tokens as f64),
        ("sglang:kv_available_tokens", available),
        ("sglang:kv_evictable_tokens", evictable),
        ("sglang:kv_used_tokens", gauges.used_tokens as f64),
        ("sglang:utilization", usage),
        ("sglang:new_token_ratio", 0.7),
        ("sglang:is_cuda_graph", 1.0),
        ("sglang:max_total_num_tokens", gauges.max_total_tokens as f64),
        ("sglang:weight_memory_usage_gb", (gauges.weights_gb * 100.0).round() / 100.0),
        ("sglang:kv_cache_memory_usage_gb", (gauges.kv_cache_gb * 100.0).round() / 100.0),
        ("sglang:page_size", 1.0),
        ("sglang:context_len", f64::from(gauges.context_len)),
    ] {
        page.header(SGLANG, name);
        page.sample(name, sched, value);
    }
    for (name, hist) in [
        ("sglang:prompt_tokens_histogram", &stats.prompt_hist),
        ("sglang:generation_tokens_histogram", &stats.generation_hist),
    ] {
        page.header(SGLANG, name);
        page.histogram(name, tok, hist, true);
    }
    for (name, hists) in [
        ("sglang:time_to_first_token_seconds", &stats.ttft),
        ("sglang:request_time_per_output_token_seconds", &stats.tpot),
        ("sglang:e2e_request_latency_seconds", &stats.e2e),
    ] {
        page.header(SGLANG, name);
        for (streaming, hist) in STREAMING.iter().zip(hists.iter()) {
            let labels = [tok[0], ("is_streaming", *streaming), tok[1]];
            page.histogram(name, &labels, hist, true);
        }
    }
    page.header(SGLANG, "sglang:queue_time_seconds");
    page.histogram("sglang:queue_time_seconds", sched, &stats.queue, true);
    page.header(SGLANG, "sglang:inter_token_latency_seconds");
    page.histogram("sglang:inter_token_latency_seconds", tok, &stats.itl, true);
    let pid = gauges.pid.to_string();
    for name in ["sglang:num_retracted_reqs", "sglang:num_paused_reqs"] {
        page.header(SGLANG, name);
        let mut labels = sched.to_vec();
        labels.push(("pid", &pid));
        page.sample(name, &labels, 0.0);
    }
    page.header(SGLANG, "sglang:http_requests_total");
    let mut per_endpoint: std::collections::BTreeMap<(&str, &str), u64> = std::collections::BTreeMap::new();
    for ((handler, method, _), n) in &http.requests {
        *per_endpoint.entry((handler, method)).or_default() += n;
    }
    for ((endpoint, method), n) in &per_endpoint {
        page.sample("sglang:http_requests_total", &[("endpoint", endpoint), ("method", method)], *n as f64);
    }
    page.header(SGLANG, "sglang:http_responses_total");
    for ((endpoint, method, status), n) in &http.requests {
        let status = status.to_string();
        let labels = [("endpoint", *endpoint), ("method", *method), ("status_code", status.as_str())];
        page.sample("sglang:http_responses_total", &labels, *n as f64);
    }
    for (name, values) in [
        ("sglang:prompt_tokens_total", &stats.prompt_tokens),
        ("sglang:generation_tokens_total", &stats.generation_tokens),
        ("sglang:num_requests_total", &stats.num_requests),
    ] {
        page.header(SGLANG, name);
        for (streaming, value) in STREAMING.iter().zip(values.iter()) {
            page.sample(name, &[tok[0], ("is_streaming", *streaming), tok[1]], *value as f64);
        }
    }
    page.header(SGLANG, "sglang:cached_tokens_total");
    for (source, value) in [("device", stats.cached_tokens as f64), ("host", 0.0)] {
        page.sample("sglang:cached_tokens_total", &[("cache_source", source), tok[0], tok[1]], value);
    }
    page.header(SGLANG, "sglang:num_so_requests_total");
    page.sample("sglang:num_so_requests_total", tok, 0.0);
    page.header(SGLANG, "sglang:num_aborted_requests_total");
    page.sample("sglang:num_aborted_requests_total", tok, stats.aborted as f64);
    page.header(SGLANG, "sglang:realtime_tokens_total");
    for (mode, value) in [
        ("prefill_compute", stats.realtime_prefill_compute),
        ("prefill_cache", stats.cached_tokens),
        ("decode", stats.realtime_decode),
    ] {
        let mut labels = sched.to_vec();
        labels.push(("mode", mode));
        page.sample("sglang:realtime_tokens_total", &labels, value as f64);
    }
    page.header(SGLANG, "sglang:prefill_effective_tokens_total");
    for (mode, value) in
        [("input", total_prompt), ("device_hit", stats.cached_tokens), ("host_hit", 0), ("storage_hit", 0)]
    {
        let mut labels = sched.to_vec();
        labels.push(("mode", mode));
        page.sample("sglang:prefill_effective_tokens_total", &labels, value as f64);
    }
    page.header(SGLANG, "sglang:num_retracted_requests_total");
    page.sample("sglang:num_retracted_requests_total", sched, stats.retracted as f64);
    page.header(SGLANG, "sglang:http_requests_active");
    for (endpoint, method) in per_endpoint.keys() {
        page.sample("sglang:http_requests_active", &[("endpoint", endpoint), ("method", method)], http.active as f64);
    }
    page.into_string()
}
