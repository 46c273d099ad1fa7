#!/usr/bin/env python3
"""Checks that a running `infersight demo` answers the questions it exists for.

Usage: scripts/demo-check.py [BASE_URL]   (default http://127.0.0.1:8490)

Runs one PromQL query per question through /api/v1/query over the last 6 h
and prints how many series answered and a few values. Exits 1 if any answer
is empty or not plausible (NaN, negative, or all zero where load exists).
"""
import json
import math
import sys
import urllib.parse
import urllib.request

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8490"

# (question, query, check of each value)
CHECKS = [
    ("request rate per model (gateway)",
     'sum by (gen_ai_request_model) (rate(infersight_gateway_requests_total[5m]))', lambda v: v > 0),
    ("TTFT p95 per model (gateway)",
     'histogram_quantile(0.95, sum by (gen_ai_request_model, le) (rate(gen_ai_server_time_to_first_token_seconds_bucket[5m])))',
     lambda v: 0 < v < 60),
    ("TTFT p95 per model (vLLM engines)",
     'histogram_quantile(0.95, sum by (model_name, le) (rate(vllm:time_to_first_token_seconds_bucket[5m])))',
     lambda v: 0 < v < 60),
    ("TTFT p95 per model (SGLang engines)",
     'histogram_quantile(0.95, sum by (model_name, le) (rate(sglang:time_to_first_token_seconds_bucket[5m])))',
     lambda v: 0 < v < 60),
    ("KV-cache usage per replica, max over 6h (vLLM)",
     'max_over_time(vllm:kv_cache_usage_perc[6h])', lambda v: 0 < v <= 1),
    ("KV-cache usage per replica, max over 6h (SGLang)",
     'max_over_time(sglang:token_usage[6h])', lambda v: 0 < v <= 1),
    ("GPU utilisation per GPU, mean over 6h",
     'avg_over_time(DCGM_FI_DEV_GPU_UTIL[6h])', lambda v: 0 < v <= 100),
    ("GPU memory used per GPU (MiB)",
     'DCGM_FI_DEV_FB_USED', lambda v: v > 0),
    ("token throughput in/out (tokens/s)",
     'sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum[5m]))', lambda v: v > 0),
    ("error ratio per model over 6h",
     'sum by (gen_ai_request_model) (increase(infersight_gateway_requests_total{status_class=~"5.."}[6h]))'
     ' / sum by (gen_ai_request_model) (increase(infersight_gateway_requests_total[6h]))',
     lambda v: 0 <= v < 0.5),
    ("mean quality score per model and scorer over 6h",
     'sum by (gen_ai_request_model, gen_ai_evaluation_name) (increase(gen_ai_evaluation_score_sum[6h]))'
     ' / sum by (gen_ai_request_model, gen_ai_evaluation_name) (increase(gen_ai_evaluation_score_count[6h]))',
     lambda v: 0 <= v <= 1),
    ("hours of history (gateway requests)",
     '(time() - min_over_time(timestamp(infersight_gateway_requests_total)[6h:5m])) / 3600', lambda v: v > 5),
]


def query(expr):
    url = f"{BASE}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    return body["data"]["result"]


def main():
    failed = 0
    for question, expr, plausible in CHECKS:
        try:
            result = query(expr)
        except Exception as error:  # noqa: BLE001 - reported per check
            print(f"FAIL {question}: {error}")
            failed += 1
            continue
        values = [float(r["value"][1]) for r in result]
        good = bool(values) and all(not math.isnan(v) for v in values) and any(plausible(v) for v in values)
        shown = ", ".join(
            f"{'/'.join(v for k, v in sorted(r['metric'].items()) if k not in ('job', 'instance', 'serving_engine'))}"
            f"={float(r['value'][1]):.3g}" for r in result[:4])
        print(f"{'ok  ' if good else 'FAIL'} {question}: {len(values)} series; {shown}")
        failed += not good
    print(f"{len(CHECKS) - failed}/{len(CHECKS)} checks passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
