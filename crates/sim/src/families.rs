//! HELP and TYPE lines of every family the simulated engines and exporters render, as the real ones write them.

/// One metric family's header: name, Prometheus type and help text (verbatim, trailing spaces included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family {
    pub name: &'static str,
    pub kind: &'static str,
    pub help: &'static str,
}

/// Families of the vllm page, in the order the real exporter writes them.
pub(crate) const VLLM: &[Family] = &[
    Family { name: "python_gc_objects_collected_total", kind: "counter", help: "Objects collected during gc" },
    Family {
        name: "python_gc_objects_uncollectable_total",
        kind: "counter",
        help: "Uncollectable objects found during GC",
    },
    Family {
        name: "python_gc_collections_total",
        kind: "counter",
        help: "Number of times this generation was collected",
    },
    Family { name: "python_info", kind: "gauge", help: "Python platform information" },
    Family { name: "process_virtual_memory_bytes", kind: "gauge", help: "Virtual memory size in bytes." },
    Family { name: "process_resident_memory_bytes", kind: "gauge", help: "Resident memory size in bytes." },
    Family {
        name: "process_start_time_seconds",
        kind: "gauge",
        help: "Start time of the process since unix epoch in seconds.",
    },
    Family {
        name: "process_cpu_seconds_total",
        kind: "counter",
        help: "Total user and system CPU time spent in seconds.",
    },
    Family { name: "process_open_fds", kind: "gauge", help: "Number of open file descriptors." },
    Family { name: "process_max_fds", kind: "gauge", help: "Maximum number of open file descriptors." },
    Family {
        name: "vllm:estimated_flops_per_gpu_total",
        kind: "counter",
        help: "Estimated number of floating point operations per GPU (for Model Flops Utilization calculations).",
    },
    Family {
        name: "vllm:estimated_flops_per_gpu_created",
        kind: "gauge",
        help: "Estimated number of floating point operations per GPU (for Model Flops Utilization calculations).",
    },
    Family {
        name: "vllm:estimated_read_bytes_per_gpu_total",
        kind: "counter",
        help: "Estimated number of bytes read from memory per GPU (for Model Flops Utilization calculations).",
    },
    Family {
        name: "vllm:estimated_read_bytes_per_gpu_created",
        kind: "gauge",
        help: "Estimated number of bytes read from memory per GPU (for Model Flops Utilization calculations).",
    },
    Family {
        name: "vllm:estimated_write_bytes_per_gpu_total",
        kind: "counter",
        help: "Estimated number of bytes written to memory per GPU (for Model Flops Utilization calculations).",
    },
    Family {
        name: "vllm:estimated_write_bytes_per_gpu_created",
        kind: "gauge",
        help: "Estimated number of bytes written to memory per GPU (for Model Flops Utilization calculations).",
    },
    Family { name: "vllm:num_requests_running", kind: "gauge", help: "Number of requests in model execution batches." },
    Family { name: "vllm:num_requests_waiting", kind: "gauge", help: "Number of requests waiting to be processed." },
    Family {
        name: "vllm:num_requests_waiting_by_reason",
        kind: "gauge",
        help: "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget, KV transfer, blocked status). Sum of all reasons equals vllm:num_requests_waiting.",
    },
    Family {
        name: "vllm:engine_sleep_state",
        kind: "gauge",
        help: "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
    },
    Family { name: "vllm:kv_cache_usage_perc", kind: "gauge", help: "KV-cache usage. 1 means 100 percent usage." },
    Family {
        name: "vllm:prefix_cache_queries_total",
        kind: "counter",
        help: "Prefix cache queries, in terms of number of queried tokens.",
    },
    Family {
        name: "vllm:prefix_cache_queries_created",
        kind: "gauge",
        help: "Prefix cache queries, in terms of number of queried tokens.",
    },
    Family {
        name: "vllm:prefix_cache_hits_total",
        kind: "counter",
        help: "Prefix cache hits, in terms of number of cached tokens.",
    },
    Family {
        name: "vllm:prefix_cache_hits_created",
        kind: "gauge",
        help: "Prefix cache hits, in terms of number of cached tokens.",
    },
    Family {
        name: "vllm:external_prefix_cache_queries_total",
        kind: "counter",
        help: "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",
    },
    Family {
        name: "vllm:external_prefix_cache_queries_created",
        kind: "gauge",
        help: "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",
    },
    Family {
        name: "vllm:external_prefix_cache_hits_total",
        kind: "counter",
        help: "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",
    },
    Family {
        name: "vllm:external_prefix_cache_hits_created",
        kind: "gauge",
        help: "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",
    },
    Family {
        name: "vllm:mm_cache_queries_total",
        kind: "counter",
        help: "Multi-modal cache queries, in terms of number of queried items.",
    },
    Family {
        name: "vllm:mm_cache_queries_created",
        kind: "gauge",
        help: "Multi-modal cache queries, in terms of number of queried items.",
    },
    Family {
        name: "vllm:mm_cache_hits_total",
        kind: "counter",
        help: "Multi-modal cache hits, in terms of number of cached items.",
    },
    Family {
        name: "vllm:mm_cache_hits_created",
        kind: "gauge",
        help: "Multi-modal cache hits, in terms of number of cached items.",
    },
    Family {
        name: "vllm:num_preemptions_total",
        kind: "counter",
        help: "Cumulative number of preemption from the engine.",
    },
    Family {
        name: "vllm:num_preemptions_created",
        kind: "gauge",
        help: "Cumulative number of preemption from the engine.",
    },
    Family { name: "vllm:prompt_tokens_total", kind: "counter", help: "Number of prefill tokens processed." },
    Family { name: "vllm:prompt_tokens_created", kind: "gauge", help: "Number of prefill tokens processed." },
    Family { name: "vllm:prompt_tokens_by_source_total", kind: "counter", help: "Number of prompt tokens by source." },
    Family { name: "vllm:prompt_tokens_by_source_created", kind: "gauge", help: "Number of prompt tokens by source." },
    Family {
        name: "vllm:prompt_tokens_cached_total",
        kind: "counter",
        help: "Number of cached prompt tokens (local + external).",
    },
    Family {
        name: "vllm:prompt_tokens_cached_created",
        kind: "gauge",
        help: "Number of cached prompt tokens (local + external).",
    },
    Family {
        name: "vllm:prompt_tokens_cached_by_source_total",
        kind: "counter",
        help: "Prefix-cache hit tokens by the cache tier that supplied them: device (local HBM), host (offloaded to DRAM), disk, p2p (transferred from another vLLM instance) or external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits + vllm:external_prefix_cache_hits.",
    },
    Family {
        name: "vllm:prompt_tokens_cached_by_source_created",
        kind: "gauge",
        help: "Prefix-cache hit tokens by the cache tier that supplied them: device (local HBM), host (offloaded to DRAM), disk, p2p (transferred from another vLLM instance) or external_unspecified. Counted at admission; sums to vllm:prefix_cache_hits + vllm:external_prefix_cache_hits.",
    },
    Family { name: "vllm:generation_tokens_total", kind: "counter", help: "Number of generation tokens processed." },
    Family { name: "vllm:generation_tokens_created", kind: "gauge", help: "Number of generation tokens processed." },
    Family { name: "vllm:request_success_total", kind: "counter", help: "Count of successfully processed requests." },
    Family { name: "vllm:request_success_created", kind: "gauge", help: "Count of successfully processed requests." },
    Family {
        name: "vllm:admission_rejections_total",
        kind: "counter",
        help: "Number of admission attempts rejected by a queue limit, by reason.",
    },
    Family {
        name: "vllm:admission_rejections_created",
        kind: "gauge",
        help: "Number of admission attempts rejected by a queue limit, by reason.",
    },
    Family { name: "vllm:request_prompt_tokens", kind: "histogram", help: "Number of prefill tokens processed." },
    Family { name: "vllm:request_prompt_tokens_created", kind: "gauge", help: "Number of prefill tokens processed." },
    Family {
        name: "vllm:request_generation_tokens",
        kind: "histogram",
        help: "Number of generation tokens processed.",
    },
    Family {
        name: "vllm:request_generation_tokens_created",
        kind: "gauge",
        help: "Number of generation tokens processed.",
    },
    Family {
        name: "vllm:iteration_tokens_total",
        kind: "histogram",
        help: "Histogram of number of tokens per engine_step.",
    },
    Family {
        name: "vllm:iteration_tokens_total_created",
        kind: "gauge",
        help: "Histogram of number of tokens per engine_step.",
    },
    Family {
        name: "vllm:request_max_num_generation_tokens",
        kind: "histogram",
        help: "Histogram of maximum number of requested generation tokens.",
    },
    Family {
        name: "vllm:request_max_num_generation_tokens_created",
        kind: "gauge",
        help: "Histogram of maximum number of requested generation tokens.",
    },
    Family { name: "vllm:request_params_n", kind: "histogram", help: "Histogram of the n request parameter." },
    Family { name: "vllm:request_params_n_created", kind: "gauge", help: "Histogram of the n request parameter." },
    Family {
        name: "vllm:request_params_max_tokens",
        kind: "histogram",
        help: "Histogram of the max_tokens request parameter.",
    },
    Family {
        name: "vllm:request_params_max_tokens_created",
        kind: "gauge",
        help: "Histogram of the max_tokens request parameter.",
    },
    Family {
        name: "vllm:time_to_first_token_seconds",
        kind: "histogram",
        help: "Histogram of time to first token in seconds.",
    },
    Family {
        name: "vllm:time_to_first_token_seconds_created",
        kind: "gauge",
        help: "Histogram of time to first token in seconds.",
    },
    Family {
        name: "vllm:inter_token_latency_seconds",
        kind: "histogram",
        help: "Histogram of inter-token latency in seconds.",
    },
    Family {
        name: "vllm:inter_token_latency_seconds_created",
        kind: "gauge",
        help: "Histogram of inter-token latency in seconds.",
    },
    Family {
        name: "vllm:request_time_per_output_token_seconds",
        kind: "histogram",
        help: "Histogram of time_per_output_token_seconds per request.",
    },
    Family {
        name: "vllm:request_time_per_output_token_seconds_created",
        kind: "gauge",
        help: "Histogram of time_per_output_token_seconds per request.",
    },
    Family {
        name: "vllm:e2e_request_latency_seconds",
        kind: "histogram",
        help: "Histogram of e2e request latency in seconds.",
    },
    Family {
        name: "vllm:e2e_request_latency_seconds_created",
        kind: "gauge",
        help: "Histogram of e2e request latency in seconds.",
    },
    Family {
        name: "vllm:request_queue_time_seconds",
        kind: "histogram",
        help: "Histogram of time spent in WAITING phase for request.",
    },
    Family {
        name: "vllm:request_queue_time_seconds_created",
        kind: "gauge",
        help: "Histogram of time spent in WAITING phase for request.",
    },
    Family {
        name: "vllm:request_inference_time_seconds",
        kind: "histogram",
        help: "Histogram of time spent in RUNNING phase for request.",
    },
    Family {
        name: "vllm:request_inference_time_seconds_created",
        kind: "gauge",
        help: "Histogram of time spent in RUNNING phase for request.",
    },
    Family {
        name: "vllm:request_prefill_time_seconds",
        kind: "histogram",
        help: "Histogram of time spent in PREFILL phase for request.",
    },
    Family {
        name: "vllm:request_prefill_time_seconds_created",
        kind: "gauge",
        help: "Histogram of time spent in PREFILL phase for request.",
    },
    Family {
        name: "vllm:request_decode_time_seconds",
        kind: "histogram",
        help: "Histogram of time spent in DECODE phase for request.",
    },
    Family {
        name: "vllm:request_decode_time_seconds_created",
        kind: "gauge",
        help: "Histogram of time spent in DECODE phase for request.",
    },
    Family {
        name: "vllm:request_num_preemptions",
        kind: "histogram",
        help: "Histogram of the number of times a request was preempted.",
    },
    Family {
        name: "vllm:request_num_preemptions_created",
        kind: "gauge",
        help: "Histogram of the number of times a request was preempted.",
    },
    Family {
        name: "vllm:request_prefill_kv_computed_tokens",
        kind: "histogram",
        help: "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
    },
    Family {
        name: "vllm:request_prefill_kv_computed_tokens_created",
        kind: "gauge",
        help: "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
    },
    Family {
        name: "http_requests_total",
        kind: "counter",
        help: "Total number of requests by method, status and handler.",
    },
    Family {
        name: "http_requests_created",
        kind: "gauge",
        help: "Total number of requests by method, status and handler.",
    },
    Family {
        name: "http_request_size_bytes",
        kind: "summary",
        help: "Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
    },
    Family {
        name: "http_request_size_bytes_created",
        kind: "gauge",
        help: "Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
    },
    Family {
        name: "http_response_size_bytes",
        kind: "summary",
        help: "Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
    },
    Family {
        name: "http_response_size_bytes_created",
        kind: "gauge",
        help: "Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
    },
    Family {
        name: "http_request_duration_highr_seconds",
        kind: "histogram",
        help: "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
    },
    Family {
        name: "http_request_duration_highr_seconds_created",
        kind: "gauge",
        help: "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
    },
    Family {
        name: "http_request_duration_seconds",
        kind: "histogram",
        help: "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
    },
    Family {
        name: "http_request_duration_seconds_created",
        kind: "gauge",
        help: "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
    },
    Family { name: "vllm:cache_config_info", kind: "gauge", help: "Information of the LLMEngine CacheConfig" },
];

/// Families of the sglang page, in the order the real exporter writes them.
pub(crate) const SGLANG: &[Family] = &[
    Family { name: "sglang:num_running_reqs", kind: "gauge", help: "The number of running requests." },
    Family { name: "sglang:num_queue_reqs", kind: "gauge", help: "The number of requests in the waiting queue." },
    Family {
        name: "sglang:num_grammar_queue_reqs",
        kind: "gauge",
        help: "The number of requests in the grammar waiting queue.",
    },
    Family { name: "sglang:gen_throughput", kind: "gauge", help: "The generation throughput (token/s)." },
    Family { name: "sglang:cache_hit_rate", kind: "gauge", help: "The prefix cache hit rate." },
    Family { name: "sglang:token_usage", kind: "gauge", help: "The token usage." },
    Family { name: "sglang:full_token_usage", kind: "gauge", help: "The token usage for full attention layers." },
    Family { name: "sglang:num_used_tokens", kind: "gauge", help: "The number of used tokens." },
    Family {
        name: "sglang:kv_available_tokens",
        kind: "gauge",
        help: "Number of free token slots in the KV cache pool.",
    },
    Family {
        name: "sglang:kv_evictable_tokens",
        kind: "gauge",
        help: "Number of evictable (radix-cached) token slots in the KV cache pool.",
    },
    Family {
        name: "sglang:kv_used_tokens",
        kind: "gauge",
        help: "Number of actively used token slots in the KV cache pool.",
    },
    Family { name: "sglang:utilization", kind: "gauge", help: "The utilization." },
    Family { name: "sglang:new_token_ratio", kind: "gauge", help: "The new token ratio." },
    Family { name: "sglang:is_cuda_graph", kind: "gauge", help: "Whether the batch is using CUDA graph." },
    Family {
        name: "sglang:max_total_num_tokens",
        kind: "gauge",
        help: "Maximum total number of tokens in the KV cache pool.",
    },
    Family { name: "sglang:weight_memory_usage_gb", kind: "gauge", help: "Memory used by model weights in GB." },
    Family { name: "sglang:kv_cache_memory_usage_gb", kind: "gauge", help: "Memory used by the KV cache pools in GB." },
    Family { name: "sglang:page_size", kind: "gauge", help: "KV cache page size in tokens." },
    Family { name: "sglang:context_len", kind: "gauge", help: "Maximum context length." },
    Family { name: "sglang:prompt_tokens_histogram", kind: "histogram", help: "Histogram of prompt token length." },
    Family {
        name: "sglang:generation_tokens_histogram",
        kind: "histogram",
        help: "Histogram of generation token length.",
    },
    Family {
        name: "sglang:time_to_first_token_seconds",
        kind: "histogram",
        help: "Histogram of time to first token in seconds.",
    },
    Family {
        name: "sglang:request_time_per_output_token_seconds",
        kind: "histogram",
        help: "Per-request TPOT in seconds: (finished_time - first_token_time) / (completion_tokens - 1).",
    },
    Family {
        name: "sglang:e2e_request_latency_seconds",
        kind: "histogram",
        help: "Histogram of End-to-end request latency in seconds",
    },
    Family { name: "sglang:queue_time_seconds", kind: "histogram", help: "Histogram of queueing time in seconds." },
    Family {
        name: "sglang:inter_token_latency_seconds",
        kind: "histogram",
        help: "Histogram of inter-token latency in seconds.",
    },
    Family { name: "sglang:num_retracted_reqs", kind: "gauge", help: "The number of retracted requests." },
    Family {
        name: "sglang:num_paused_reqs",
        kind: "gauge",
        help: "The number of paused requests by async weight sync.",
    },
    Family {
        name: "sglang:http_requests_total",
        kind: "counter",
        help: "Total number of HTTP requests by endpoint and method",
    },
    Family {
        name: "sglang:http_responses_total",
        kind: "counter",
        help: "Total number of HTTP responses by endpoint and status code",
    },
    Family { name: "sglang:prompt_tokens_total", kind: "counter", help: "Number of prefill tokens processed." },
    Family { name: "sglang:generation_tokens_total", kind: "counter", help: "Number of generation tokens processed." },
    Family { name: "sglang:num_requests_total", kind: "counter", help: "Number of requests processed." },
    Family {
        name: "sglang:cached_tokens_total",
        kind: "counter",
        help: "Number of cached prompt tokens by source (device/host/storage).",
    },
    Family {
        name: "sglang:num_so_requests_total",
        kind: "counter",
        help: "Number of structured output requests processed.",
    },
    Family { name: "sglang:num_aborted_requests_total", kind: "counter", help: "Number of requests aborted." },
    Family {
        name: "sglang:realtime_tokens_total",
        kind: "counter",
        help: "Total number of tokens processed (updated on each log interval). mode: prefill_compute, prefill_cache, decode.",
    },
    Family {
        name: "sglang:prefill_effective_tokens_total",
        kind: "counter",
        help: "Effective prefill tokens with retracted-request re-counts excluded, updated on each log interval. mode: device_hit, host_hit, storage_hit, input. Windowed prefix cache hit rate = rate(sum of *_hit) / rate(sum of all modes); per-tier rate uses a single *_hit mode in the numerator.",
    },
    Family {
        name: "sglang:num_retracted_requests_total",
        kind: "counter",
        help: "Total number of retracted requests.",
    },
    Family { name: "sglang:http_requests_active", kind: "gauge", help: "Number of currently active HTTP requests" },
];

/// Families of the dcgm page, in the order the real exporter writes them.
pub(crate) const DCGM: &[Family] = &[
    Family { name: "DCGM_FI_DEV_SM_CLOCK", kind: "gauge", help: "SM clock frequency (in MHz)." },
    Family { name: "DCGM_FI_DEV_MEM_CLOCK", kind: "gauge", help: "Memory clock frequency (in MHz)." },
    // Not in the default counters file: the exporter exports it when configured to, and it is how a thermal throttle shows.
    Family {
        name: "DCGM_FI_DEV_CLOCKS_EVENT_REASONS",
        kind: "gauge",
        help: "Current clock event reasons (bitmask of DCGM_CLOCKS_EVENT_REASON_*).",
    },
    Family { name: "DCGM_FI_DEV_MEMORY_TEMP", kind: "gauge", help: "Memory temperature (in C)." },
    Family { name: "DCGM_FI_DEV_GPU_TEMP", kind: "gauge", help: "GPU temperature (in C)." },
    Family { name: "DCGM_FI_DEV_POWER_USAGE", kind: "gauge", help: "Power draw (in W)." },
    Family {
        name: "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        kind: "counter",
        help: "Total energy consumption since boot (in mJ).",
    },
    Family { name: "DCGM_FI_DEV_PCIE_REPLAY_COUNTER", kind: "counter", help: "Total number of PCIe retries." },
    Family { name: "DCGM_FI_DEV_GPU_UTIL", kind: "gauge", help: "GPU utilization (in %)." },
    Family { name: "DCGM_FI_DEV_MEM_COPY_UTIL", kind: "gauge", help: "Memory utilization (in %)." },
    Family { name: "DCGM_FI_DEV_ENC_UTIL", kind: "gauge", help: "Encoder utilization (in %)." },
    Family { name: "DCGM_FI_DEV_DEC_UTIL", kind: "gauge", help: "Decoder utilization (in %)." },
    Family { name: "DCGM_FI_DEV_XID_ERRORS", kind: "gauge", help: "Value of the last XID error encountered." },
    Family { name: "DCGM_FI_DEV_FB_FREE", kind: "gauge", help: "Framebuffer memory free (in MiB)." },
    Family { name: "DCGM_FI_DEV_FB_USED", kind: "gauge", help: "Framebuffer memory used (in MiB)." },
    Family { name: "DCGM_FI_DEV_FB_RESERVED", kind: "gauge", help: "Framebuffer memory reserved (in MiB)." },
    Family {
        name: "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
        kind: "counter",
        help: "Total number of NVLink bandwidth counters for all lanes.",
    },
    Family {
        name: "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
        kind: "counter",
        help: "Number of remapped rows for uncorrectable errors",
    },
    Family {
        name: "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
        kind: "counter",
        help: "Number of remapped rows for correctable errors",
    },
    Family { name: "DCGM_FI_DEV_ROW_REMAP_FAILURE", kind: "gauge", help: "Whether remapping of rows has failed" },
    Family {
        name: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        kind: "gauge",
        help: "Ratio of time the graphics engine is active.",
    },
    Family {
        name: "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        kind: "gauge",
        help: "Ratio of cycles the tensor (HMMA) pipe is active.",
    },
    Family {
        name: "DCGM_FI_PROF_DRAM_ACTIVE",
        kind: "gauge",
        help: "Ratio of cycles the device memory interface is active sending or receiving data.",
    },
    Family {
        name: "DCGM_FI_PROF_PCIE_TX_BYTES",
        kind: "gauge",
        help: "The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - in bytes per second.",
    },
    Family {
        name: "DCGM_FI_PROF_PCIE_RX_BYTES",
        kind: "gauge",
        help: "The rate of data received over the PCIe bus - including both protocol headers and data payloads - in bytes per second.",
    },
];
