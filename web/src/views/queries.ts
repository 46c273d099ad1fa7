// PromQL shared by the views: cross-engine selectors (vLLM and SGLang) and quantiles.
import { matchers, type State } from "../state";

/** A selector for one or more metric names with the filters of `family` (and `extra` matchers). */
export function sel(s: State, names: string | string[], family: "gateway" | "engine" | "gpu", extra: string[] = []): string {
  const list = Array.isArray(names) ? names : [names];
  const m = matchers(s, family, extra);
  if (list.length === 1) return `${list[0]}${m}`;
  const inner = m ? `,${m.slice(1, -1)}` : "";
  return `{__name__=~"${list.join("|")}"${inner}}`;
}

/** The same concept in vLLM's and SGLang's names. */
export const ENGINE = {
  ttft: ["vllm:time_to_first_token_seconds_bucket", "sglang:time_to_first_token_seconds_bucket"],
  itl: ["vllm:inter_token_latency_seconds_bucket", "sglang:inter_token_latency_seconds_bucket"],
  e2e: ["vllm:e2e_request_latency_seconds_bucket", "sglang:e2e_request_latency_seconds_bucket"],
  requests: ["vllm:e2e_request_latency_seconds_count", "sglang:e2e_request_latency_seconds_count"],
  kv: ["vllm:kv_cache_usage_perc", "sglang:token_usage"],
  running: ["vllm:num_requests_running", "sglang:num_running_reqs"],
  waiting: ["vllm:num_requests_waiting", "sglang:num_queue_reqs"],
  prompt: ["vllm:prompt_tokens_total", "sglang:prompt_tokens_total"],
  generation: ["vllm:generation_tokens_total", "sglang:generation_tokens_total"],
};

/** `histogram_quantile` of an engine histogram across vLLM and SGLang, by `by`. */
export function engineQuantile(s: State, phi: number, buckets: string[], rw: string, by: string): string {
  return `histogram_quantile(${phi}, sum by (le, ${by}) (rate(${sel(s, buckets, "engine")}[${rw}])))`;
}

export function gatewayQuantile(s: State, phi: number, hist: string, rw: string, by = "gen_ai_request_model"): string {
  return `histogram_quantile(${phi}, sum by (le, ${by}) (rate(${hist}_bucket${matchers(s, "gateway")}[${rw}])))`;
}
