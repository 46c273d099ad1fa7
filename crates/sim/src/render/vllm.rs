//! vLLM's `/metrics` (V1 engine, 0.33-style, one API server): what it counts and how it writes it.

use crate::engine::{Finished, IterationReport};
use crate::expfmt::Page;
use crate::families::VLLM;
use crate::histogram::Histogram;
use crate::render::{HttpStats, ProcessInfo};

/// `request_tokens` buckets for `max_model_len` 32768.
const REQUEST_TOKENS: &[f64] =
    &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0];
const ITERATION_TOKENS: &[f64] =
    &[1.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0];
const PARAMS_N: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0];
const TTFT: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
    160.0, 640.0, 2560.0,
];
const ITL: &[f64] =
    &[0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const REQUEST_LATENCY: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
    1920.0, 7680.0,
];
const PREEMPTIONS: &[f64] = &[1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0];

const FINISH_REASONS: [&str; 5] = ["stop", "length", "abort", "error", "repetition"];

/// What one vLLM engine counts since its process started.
#[derive(Debug, Clone)]
pub(crate) struct VllmStats {
    pub(crate) prompt_tokens: u64,
    pub(crate) prompt_computed: u64,
    pub(crate) prompt_cached: u64,
    pub(crate) generation_tokens: u64,
    pub(crate) preemptions: u64,
    pub(crate) finished: [u64; 5],
    pub(crate) flops: f64,
    pub(crate) read_bytes: f64,
    pub(crate) write_bytes: f64,
    pub(crate) request_prompt_tokens: Histogram,
    pub(crate) request_generation_tokens: Histogram,
    pub(crate) iteration_tokens: Histogram,
    pub(crate) max_num_generation_tokens: Histogram,
    pub(crate) params_n: Histogram,
    pub(crate) params_max_tokens: Histogram,
    pub(crate) ttft: Histogram,
    pub(crate) itl: Histogram,
    pub(crate) tpot: Histogram,
    pub(crate) e2e: Histogram,
    pub(crate) queue: Histogram,
    pub(crate) inference: Histogram,
    pub(crate) prefill: Histogram,
    pub(crate) decode: Histogram,
    pub(crate) num_preemptions: Histogram,
    pub(crate) prefill_kv_computed: Histogram,
}

impl VllmStats {
    pub(crate) fn new() -> VllmStats {
        VllmStats {
            prompt_tokens: 0,
            prompt_computed: 0,
            prompt_cached: 0,
            generation_tokens: 0,
            preemptions: 0,
            finished: [0; 5],
            flops: 0.0,
            read_bytes: 0.0,
            write_bytes: 0.0,
            request_prompt_tokens: Histogram::new(REQUEST_TOKENS),
            request_generation_tokens: Histogram::new(REQUEST_TOKENS),
            iteration_tokens: Histogram::new(ITERATION_TOKENS),
            max_num_generation_tokens: Histogram::new(REQUEST_TOKENS),
            params_n: Histogram::new(PARAMS_N),
            params_max_tokens: Histogram::new(REQUEST_TOKENS),
            ttft: Histogram::new(TTFT),
            itl: Histogram::new(ITL),
            tpot: Histogram::new(ITL),
            e2e: Histogram::new(REQUEST_LATENCY),
            queue: Histogram::new(REQUEST_LATENCY),
            inference: Histogram::new(REQUEST_LATENCY),
            prefill: Histogram::new(REQUEST_LATENCY),
            decode: Histogram::new(REQUEST_LATENCY),
            num_preemptions: Histogram::new(PREEMPTIONS),
            prefill_kv_computed: Histogram::new(REQUEST_TOKENS),
        }
    }

    pub(crate) fn iteration(&mut self, report: &IterationReport, params_b: f64) {
        let tokens = report.prefill_tokens + report.decode_tokens;
        if tokens > 0 {
            self.iteration_tokens.observe(f64::from(tokens));
        }
        self.prompt_tokens += u64::from(report.prefill_tokens + report.cached_tokens);
        self.prompt_computed += u64::from(report.prefill_tokens);
        self.prompt_cached += u64::from(report.cached_tokens);
        self.generation_tokens += u64::from(report.generated_tokens);
        self.preemptions += u64::from(report.preemptions);
        // 2 FLOPs per parameter per token; weights read once per iteration, KV written per token.
        self.flops += 2.0 * params_b * 1e9 * f64::from(tokens);
        self.read_bytes += params_b * 2e9 + f64::from(tokens) * 131_072.0;
        self.write_bytes += f64::from(tokens) * 131_072.0;
    }

    pub(crate) fn token_gap(&mut self, gap_s: f64) {
        self.itl.observe(gap_s);
    }

    pub(crate) fn finished<T>(&mut self, f: &Finished<T>) {
        let reason = FINISH_REASONS.iter().position(|r| *r == f.finish.as_str()).unwrap_or(3);
        self.finished[reason] += 1;
        self.request_prompt_tokens.observe(f64::from(f.job.prompt_tokens));
        self.request_generation_tokens.observe(f64::from(f.generated));
        self.max_num_generation_tokens.observe(f64::from(f.job.max_tokens));
        self.params_n.observe(1.0);
        self.params_max_tokens.observe(f64::from(f.job.max_tokens));
        if let Some(ttft) = f.ttft_s() {
            self.ttft.observe(ttft);
        }
        self.tpot.observe(f.tpot_s());
        self.e2e.observe(f.e2e_s());
        self.queue.observe(f.queue_s());
        self.inference.observe(f.inference_s());
        self.prefill.observe(f.prefill_s());
        self.decode.observe(f.decode_s());
        self.num_preemptions.observe(f64::from(f.preemptions));
        self.prefill_kv_computed.observe(f64::from(f.prefill_computed));
    }
}

/// Engine gauges at the moment of the scrape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VllmGauges {
    pub(crate) running: usize,
    pub(crate) waiting: usize,
    pub(crate) kv_usage: f64,
    pub(crate) num_gpu_blocks: u32,
}

/// Writes the page vLLM serves on `/metrics` at `now_s` (Unix seconds).
pub(crate) fn render(
    model: &str,
    stats: &VllmStats,
    gauges: VllmGauges,
    http: &HttpStats,
    process: &ProcessInfo,
    now_s: f64,
) -> String {
    let mut page = Page::with_capacity(96 * 1024);
    let uptime = process.uptime_s(now_s);
    let created = process.start_s + 0.0102;
    let e: &[(&str, &str)] = &[("engine", "0"), ("model_name", model)];

    // prometheus_client's default collectors.
    page.header(VLLM, "python_gc_objects_collected_total");
    for (generation, per_s) in [("0", 380.0), ("1", 91.0), ("2", 7.0)] {
        page.sample("python_gc_objects_collected_total", &[("generation", generation)], (uptime * per_s).floor());
    }
    page.header(VLLM, "python_gc_objects_uncollectable_total");
    for generation in ["0", "1", "2"] {
        page.sample("python_gc_objects_uncollectable_total", &[("generation", generation)], 0.0);
    }
    page.header(VLLM, "python_gc_collections_total");
    for (generation, per_s) in [("0", 2.8), ("1", 0.25), ("2", 0.014)] {
        page.sample("python_gc_collections_total", &[("generation", generation)], (uptime * per_s).floor());
    }
    page.header(VLLM, "python_info");
    page.sample(
        "python_info",
        &[("implementation", "CPython"), ("major", "3"), ("minor", "12"), ("patchlevel", "11"), ("version", "3.12.11")],
        1.0,
    );
    page.header(VLLM, "process_virtual_memory_bytes");
    page.sample("process_virtual_memory_bytes", &[], 6.9238697984e10);
    page.header(VLLM, "process_resident_memory_bytes");
    page.sample("process_resident_memory_bytes", &[], 5.0e9 + (gauges.running as f64) * 4.0e6);
    page.header(VLLM, "process_start_time_seconds");
    page.sample("process_start_time_seconds", &[], (process.start_s * 100.0).round() / 100.0);
    page.header(VLLM, "process_cpu_seconds_total");
    page.sample("process_cpu_seconds_total", &[], (uptime * 0.97 * 100.0).round() / 100.0);
    page.header(VLLM, "process_open_fds");
    page.sample("process_open_fds", &[], 180.0 + (gauges.running + gauges.waiting) as f64);
    page.header(VLLM, "process_max_fds");
    page.sample("process_max_fds", &[], 1_048_576.0);

    counter(&mut page, "vllm:estimated_flops_per_gpu", e, stats.flops.round(), created);
    counter(&mut page, "vllm:estimated_read_bytes_per_gpu", e, stats.read_bytes.round(), created);
    counter(&mut page, "vllm:estimated_write_bytes_per_gpu", e, stats.write_bytes.round(), created);

    page.header(VLLM, "vllm:num_requests_running");
    page.sample("vllm:num_requests_running", e, gauges.running as f64);
    page.header(VLLM, "vllm:num_requests_waiting");
    page.sample("vllm:num_requests_waiting", e, gauges.waiting as f64);
    page.header(VLLM, "vllm:num_requests_waiting_by_reason");
    page.sample("vllm:num_requests_waiting_by_reason", &with(e, ("reason", "capacity")), gauges.waiting as f64);
    page.sample("vllm:num_requests_waiting_by_reason", &with(e, ("reason", "deferred")), 0.0);
    page.header(VLLM, "vllm:engine_sleep_state");
    for (state, value) in [("awake", 1.0), ("weights_offloaded", 0.0), ("discard_all", 0.0)] {
        page.sample("vllm:engine_sleep_state", &with(e, ("sleep_state", state)), value);
    }
    page.header(VLLM, "vllm:kv_cache_usage_perc");
    page.sample("vllm:kv_cache_usage_perc", e, (gauges.kv_usage * 1e4).round() / 1e4);

    counter(&mut page, "vllm:prefix_cache_queries", e, stats.prompt_tokens as f64, created);
    counter(&mut page, "vllm:prefix_cache_hits", e, stats.prompt_cached as f64, created);
    counter(&mut page, "vllm:external_prefix_cache_queries", e, 0.0, created);
    counter(&mut page, "vllm:external_prefix_cache_hits", e, 0.0, created);
    counter(&mut page, "vllm:mm_cache_queries", e, 0.0, created);
    counter(&mut page, "vllm:mm_cache_hits", e, 0.0, created);
    counter(&mut page, "vllm:num_preemptions", e, stats.preemptions as f64, created);
    counter(&mut page, "vllm:prompt_tokens", e, stats.prompt_tokens as f64, created);

    let by_source = [
        ("local_compute", stats.prompt_computed as f64),
        ("local_cache_hit", stats.prompt_cached as f64),
        ("external_kv_transfer", 0.0),
    ];
    labelled_counter(&mut page, "vllm:prompt_tokens_by_source", e, "source", &by_source, created);
    counter(&mut page, "vllm:prompt_tokens_cached", e, stats.prompt_cached as f64, created);
    let cached_by_source = [
        ("device", stats.prompt_cached as f64),
        ("host", 0.0),
        ("p2p", 0.0),
        ("disk", 0.0),
        ("external_unspecified", 0.0),
    ];
    labelled_counter(&mut page, "vllm:prompt_tokens_cached_by_source", e, "source", &cached_by_source, created);
    counter(&mut page, "vllm:generation_tokens", e, stats.generation_tokens as f64, created);
    let finished: Vec<(&str, f64)> =
        FINISH_REASONS.iter().zip(stats.finished.iter()).map(|(r, n)| (*r, *n as f64)).collect();
    labelled_counter(&mut page, "vllm:request_success", e, "finished_reason", &finished, created);
    let rejections = [("max_num_queued_reqs", 0.0), ("max_num_queued_tokens", 0.0)];
    labelled_counter(&mut page, "vllm:admission_rejections", &[("model_name", model)], "reason", &rejections, created);

    for (name, hist) in [
        ("vllm:request_prompt_tokens", &stats.request_prompt_tokens),
        ("vllm:request_generation_tokens", &stats.request_generation_tokens),
        ("vllm:iteration_tokens_total", &stats.iteration_tokens),
        ("vllm:request_max_num_generation_tokens", &stats.max_num_generation_tokens),
        ("vllm:request_params_n", &stats.params_n),
        ("vllm:request_params_max_tokens", &stats.params_max_tokens),
        ("vllm:time_to_first_token_seconds", &stats.ttft),
        ("vllm:inter_token_latency_seconds", &stats.itl),
        ("vllm:request_time_per_output_token_seconds", &stats.tpot),
        ("vllm:e2e_request_latency_seconds", &stats.e2e),
        ("vllm:request_queue_time_seconds", &stats.queue),
        ("vllm:request_inference_time_seconds", &stats.inference),
        ("vllm:request_prefill_time_seconds", &stats.prefill),
        ("vllm:request_decode_time_seconds", &stats.decode),
        ("vllm:request_num_preemptions", &stats.num_preemptions),
        ("vllm:request_prefill_kv_computed_tokens", &stats.prefill_kv_computed),
    ] {
        page.header(VLLM, name);
        page.histogram(name, e, hist, false);
        let created_name = format!("{name}_created");
        page.header(VLLM, &created_name);
        page.sample(&created_name, e, created);
    }

    render_http(&mut page, http, created);

    page.header(VLLM, "vllm:cache_config_info");
    let blocks = gauges.num_gpu_blocks.to_string();
    page.sample(
        "vllm:cache_config_info",
        &[
            ("block_size", "16"),
            ("cache_dtype", "auto"),
            ("enable_prefix_caching", "True"),
            ("engine", "0"),
            ("gpu_memory_utilization", "0.9"),
            ("is_attention_free", "False"),
            ("kv_cache_memory_bytes", "None"),
            ("num_cpu_blocks", "None"),
            ("num_gpu_blocks", &blocks),
            ("num_gpu_blocks_override", "None"),
            ("prefix_caching_hash_algo", "sha256"),
            ("sliding_window", "None"),
        ],
        1.0,
    );
    page.into_string()
}

/// prometheus-fastapi-instrumentator's families.
fn render_http(page: &mut Page, http: &HttpStats, created: f64) {
    let status_class = |status: u16| match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    page.header(VLLM, "http_requests_total");
    for ((handler, method, status), n) in &http.requests {
        let labels = [("handler", *handler), ("method", *method), ("status", status_class(*status))];
        page.sample("http_requests_total", &labels, *n as f64);
    }
    page.header(VLLM, "http_requests_created");
    for (handler, method, status) in http.requests.keys() {
        let labels = [("handler", *handler), ("method", *method), ("status", status_class(*status))];
        page.sample("http_requests_created", &labels, created);
    }
    for (name, sizes) in
        [("http_request_size_bytes", &http.request_size), ("http_response_size_bytes", &http.response_size)]
    {
        page.header(VLLM, name);
        for (handler, summary) in sizes {
            page.sample(&format!("{name}_count"), &[("handler", handler)], summary.count as f64);
            page.sample(&format!("{name}_sum"), &[("handler", handler)], summary.sum);
        }
        let created_name = format!("{name}_created");
        page.header(VLLM, &created_name);
        for handler in sizes.keys() {
            page.sample(&created_name, &[("handler", handler)], created);
        }
    }
    page.header(VLLM, "http_request_duration_highr_seconds");
    page.histogram("http_request_duration_highr_seconds", &[], &http.highr, false);
    page.header(VLLM, "http_request_duration_highr_seconds_created");
    page.sample("http_request_duration_highr_seconds_created", &[], created);
    page.header(VLLM, "http_request_duration_seconds");
    for ((handler, method), hist) in &http.duration {
        page.histogram("http_request_duration_seconds", &[("handler", handler), ("method", method)], hist, false);
    }
    page.header(VLLM, "http_request_duration_seconds_created");
    for (handler, method) in http.duration.keys() {
        page.sample("http_request_duration_seconds_created", &[("handler", handler), ("method", method)], created);
    }
}

/// A counter as prometheus_client exposes it: `<base>_total`, then the `<base>_created` gauge family.
fn counter(page: &mut Page, base: &str, labels: &[(&str, &str)], value: f64, created: f64) {
    labelled(page, base, labels, None, &[("", value)], created);
}

fn labelled_counter(
    page: &mut Page,
    base: &str,
    labels: &[(&str, &str)],
    label: &str,
    values: &[(&str, f64)],
    created: f64,
) {
    labelled(page, base, labels, Some(label), values, created);
}

fn labelled(
    page: &mut Page,
    base: &str,
    labels: &[(&str, &str)],
    label: Option<&str>,
    values: &[(&str, f64)],
    created: f64,
) {
    let total = format!("{base}_total");
    let created_name = format!("{base}_created");
    page.header(VLLM, &total);
    for (value_label, value) in values {
        let all = match label {
            Some(label) => with(labels, (label, value_label)),
            None => labels.to_vec(),
        };
        page.sample(&total, &all, *value);
    }
    page.header(VLLM, &created_name);
    for (value_label, _) in values {
        let all = match label {
            Some(label) => with(labels, (label, value_label)),
            None => labels.to_vec(),
        };
        page.sample(&created_name, &all, created);
    }
}

fn with<'a>(labels: &[(&'a str, &'a str)], extra: (&'a str, &'a str)) -> Vec<(&'a str, &'a str)> {
    let mut all = labels.to_vec();
    all.push(extra);
    all
}
