#!/usr/bin/env python3
"""Checks judges and golden probes in a live `infersight demo`.

Usage: scripts/quality/demo-judging-check.py [--bin target/release/infersight]
           [--port 8590] [--backfill 0s] [--minutes 16]

Starts the demo, then polls its API every 5 s and prints:
  - seconds until /-/ready, and until
    `count by (gen_ai_evaluation_name) (gen_ai_evaluation_score_count)` lists
    judge rubrics (`judge_*`), counted from the start and from ready;
  - seconds until `infersight_probe_success` exists for every simulated model;
  - the `reference` probe score per model before and during the scripted
    silent model swap (replica sglang-r1-1b from +12 m for 20 m), from the
    probe runs' gauges, and the judges' failing share per model.
Exits 1 when a point is not met: judge rubrics within 60 s of ready, probes
for every model, and the swapped model's probe score lower during the swap
than before while the other models' hold (within 0.1).
"""
import argparse
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from infersight_process import api, stop  # noqa: E402

# The demo's scripted swap (crates/sim/src/demo.rs): one of the two replicas
# of this model answers as a weaker model.
SWAPPED_REPLICA = "sglang-r1-1b"
SWAPPED_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
SWAP_START_S = 12 * 60
# The demo's fleet serves three models (crates/sim/src/demo.rs).
EXPECTED_MODELS = 3


def query(base, expr):
    try:
        return api(base, "/api/v1/query", {"query": expr})["result"]
    except RuntimeError:
        return []


def ready(base):
    try:
        with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def by(result, label):
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in result}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="target/release/infersight")
    parser.add_argument("--port", type=int, default=8590)
    parser.add_argument("--backfill", default="0s")
    parser.add_argument("--minutes", type=float, default=16)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    started = time.monotonic()
    demo = subprocess.Popen(
        [args.bin, "demo", "--listen", f"127.0.0.1:{args.port}", "--backfill", args.backfill],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    failures = []
    try:
        while not ready(base):
            if demo.poll() is not None or time.monotonic() - started > 300:
                print("the demo did not become ready")
                return 1
            time.sleep(0.5)
        ready_s = time.monotonic() - started
        print(f"ready after {ready_s:.1f} s")
        models = set()
        judged_s = probes_s = None
        # Probe score per model per probe run (the gauge's value changes once a run).
        runs = {}
        while time.monotonic() - started < args.minutes * 60:
            elapsed = time.monotonic() - started
            # The simulated models, as the gateway has seen them so far.
            models |= set(by(query(base, "count by (gen_ai_request_model) (gen_ai_client_operation_duration_seconds_count)"), "gen_ai_request_model"))
            if judged_s is None:
                names = by(query(base, "count by (gen_ai_evaluation_name) (gen_ai_evaluation_score_count)"), "gen_ai_evaluation_name")
                judges = sorted(n for n in names if n.startswith("judge_"))
                if judges:
                    judged_s = elapsed
                    print(f"judge rubrics after {judged_s:.0f} s ({judged_s - ready_s:.0f} s after ready): {', '.join(judges)}")
            probed = set(by(query(base, "infersight_probe_success"), "gen_ai_request_model"))
            if probes_s is None and len(models) >= EXPECTED_MODELS and models <= probed:
                probes_s = elapsed
                print(f"infersight_probe_success for all {len(models)} models after {probes_s:.0f} s")
            for r in query(base, 'infersight_probe_score{gen_ai_evaluation_name="reference"}'):
                model = r["metric"]["gen_ai_request_model"]
                series = runs.setdefault(model, [])
                value = float(r["value"][1])
                phase = "swap" if elapsed >= SWAP_START_S + 30 else ("before" if elapsed < SWAP_START_S else "")
                series.append((elapsed, value, phase))
            time.sleep(5)
        if judged_s is None or judged_s - ready_s > 60:
            failures.append("judge rubrics not listed within 60 s of ready")
        if probes_s is None:
            failures.append(f"infersight_probe_success missing for {sorted(models - probed)}")
        swapped_model = SWAPPED_MODEL
        print(f"swapped replica {SWAPPED_REPLICA} serves {swapped_model}")
        print("reference probe score, mean of samples (every 5 s) before the swap and from 30 s into it:")
        for model, series in sorted(runs.items()):
            before = [v for _, v, p in series if p == "before"]
            during = [v for _, v, p in series if p == "swap"]
            mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")
            drop = mean(before) - mean(during)
            mark = " <- swapped" if model == swapped_model else ""
            print(f"  {model}: before {mean(before):.3f} (n={len(before)}), during {mean(during):.3f} (n={len(during)}), drop {drop:+.3f}{mark}")
            if model == swapped_model and not drop > 0:
                failures.append(f"the swapped model's probe score did not drop ({drop:+.3f})")
            if model != swapped_model and drop > 0.1:
                failures.append(f"{model}'s probe score fell by {drop:.3f} without a swap")
        fail_share = by(query(base, 'sum by (gen_ai_request_model) (rate(infersight_quality_flagged_total{gen_ai_evaluation_name=~"judge_.*"}[5m])) / sum by (gen_ai_request_model) (rate(gen_ai_evaluation_score_count{gen_ai_evaluation_name=~"judge_.*"}[5m]))'), "gen_ai_request_model")
        print("judges' failing share per model over the last 5 min: " + ", ".join(f"{m} {v:.2f}" for m, v in sorted(fail_share.items())))
    finally:
        stop(demo, timeout=30)
    for f in failures:
        print(f"FAIL: {f}")
    print("all points met" if not failures else f"{len(failures)} point(s) not met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
