#!/usr/bin/env python3
"""Measures how soon `infersight demo` is live and how long its history takes to backfill.

Usage: scripts/demo-live-check.py [--binary target/release/infersight] [--backfill 6h]
                                  [--port 38490] [--live-after 20]

Starts `BINARY demo` on a fresh (temporary) data directory and reports:
  - seconds to live: until /-/ready answers, an overview query of the
    dashboard is non-empty, and live scrapes (after the join) are stored;
  - seconds until /api/v1/infersight/backfill says the history is written;
  - the process's CPU (seconds, and cores on average) and RSS (at the end of
    the backfill, and the peak), read from /proc;
  - the joins, where the history meets live data and where its two spans
    (written by fleets of their own, the last 15 min first) meet:
    `sum(rate(gen_ai_client_operation_duration_seconds_count[5m]))` and an
    engine counter's rate, step by step (no step may be empty, none twice
    or half the median before), and each raw series' largest gap between
    samples of `up` and counter resets across the live join;
  - metric names live data writes that the history lacks, and the reverse
    (from /api/v1/series inside the history and after the join).
Exits 1 when a target is missed (live > 10 s) or the join has a gap or a
double count. On a shared machine the timings vary: say so with them.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from infersight_process import api, cpu_seconds, memory_mib, stop  # noqa: E402

OVERVIEW = 'sum by (gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_count[5m]))'
GATEWAY = 'sum(rate(gen_ai_client_operation_duration_seconds_count[5m]))'
ENGINE = 'sum(rate(vllm:request_success_total[5m]))'
RAW = ['up', 'gen_ai_client_operation_duration_seconds_count', 'vllm:request_success_total']
SCRAPE_INTERVAL_S = 15


def answers(base, path, params=None):
    try:
        return api(base, path, params, timeout=5)
    except Exception:  # noqa: BLE001 - not up yet
        return None


def series(base, start, end):
    """Every series with samples in [start, end], as sorted label tuples."""
    data = api(base, "/api/v1/series", {"match[]": '{__name__=~".+"}', "start": start, "end": end}, timeout=120)
    return {tuple(sorted(s.items())) for s in data}


def check_join(base, query, join_s, end_s, what):
    """`query` every scrape interval from 15 min before `join_s` to `end_s`:
    every step has a value, and none within 5 min of the join is twice or
    half the median before it (a double count or a hole would be)."""
    start = int(join_s - 900)
    data = api(base, "/api/v1/query_range",
               {"query": query, "start": start, "end": end_s, "step": SCRAPE_INTERVAL_S}, timeout=60)
    values = {round(float(t)): float(v) for s in data["result"] for t, v in s["values"]}
    steps = [(t, values.get(t)) for t in range(start, int(end_s) + 1, SCRAPE_INTERVAL_S)]
    missing = [t for t, v in steps if v is None]
    before = [v for t, v in steps if v is not None and t < join_s - 300]
    near = [(round(t - join_s), v) for t, v in steps if v is not None and abs(t - join_s) <= 300]
    median = statistics.median(before) if before else float("nan")
    odd = [(dt, v) for dt, v in near if not (0.5 * median <= v <= 2.0 * median)]
    shown = ", ".join(f"{dt:+d}s={v:.2f}" for dt, v in near[::4])
    ok = bool(before) and not missing and not odd
    print(f"  {'ok  ' if ok else 'FAIL'} {what}: {query}: {len(steps)} steps, {len(missing)} empty, "
          f"median before {median:.2f}; around the join: {shown}")
    if odd:
        print(f"       out of [0.5, 2] x median: {odd[:5]}")
    return ok


def check_raw(base, metric, join_s, now_s):
    """Each series of `metric` that spans the join, from 10 min before it to
    now: for `up`, the largest gap between two samples (at most a scrape
    interval plus the live side's start); for a counter, how many resets
    (one at most: the live side starts from zero)."""
    window = int(now_s - join_s + 600)
    data = api(base, "/api/v1/query", {"query": f"{metric}[{window}s]", "time": now_s}, timeout=60)
    worst_gap, worst_resets, across = 0.0, 0, 0
    for series in data["result"]:
        points = [(float(t), float(v)) for t, v in series["values"]]
        if len(points) < 2 or not points[0][0] < join_s < points[-1][0]:
            continue
        across += 1
        worst_gap = max(worst_gap, max(b[0] - a[0] for a, b in zip(points, points[1:])))
        worst_resets = max(worst_resets, sum(1 for a, b in zip(points, points[1:]) if b[1] < a[1]))
    if metric == "up":
        ok = across > 0 and worst_gap <= 2.5 * SCRAPE_INTERVAL_S
        detail = f"largest gap {worst_gap:.1f} s"
    else:
        ok = across > 0 and worst_resets <= 1
        detail = f"at most {worst_resets} counter reset(s) per series"
    print(f"  {'ok  ' if ok else 'FAIL'} {metric}: {len(data['result'])} series, {across} span the join; {detail}")
    return ok


def parse_span(text):
    """Seconds in `6h`, `30m`, `90s`."""
    return float(text[:-1]) * {"h": 3600, "m": 60, "s": 1}[text[-1]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="target/release/infersight")
    parser.add_argument("--backfill", default="6h")
    parser.add_argument("--port", type=int, default=38490)
    parser.add_argument("--live-after", type=float, default=20.0,
                        help="seconds of live data to wait for after the backfill before checking the join")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    work = tempfile.mkdtemp(prefix="infersight-live-")
    env = dict(os.environ, TMPDIR=work)  # the demo's data directory goes under TMPDIR: fresh
    started = time.monotonic()
    proc = subprocess.Popen([args.binary, "demo", "--listen", f"127.0.0.1:{args.port}", "--backfill", args.backfill],
                            stdout=open(os.path.join(work, "stdout"), "w"),
                            stderr=open(os.path.join(work, "stderr"), "w"), env=env)
    failed = False
    try:
        ready = live = None
        done = None
        join_ms = None
        samples = []  # (seconds since start, cpu seconds, rss MiB)
        while time.monotonic() - started < 600:
            elapsed = time.monotonic() - started
            if proc.poll() is not None:
                with open(os.path.join(work, "stderr")) as f:
                    tail = f.read()[-2000:]
                raise RuntimeError(f"the demo exited with {proc.returncode}:\n{tail}")
            samples.append((elapsed, cpu_seconds(proc.pid), memory_mib(proc.pid)))
            if ready is None:
                try:
                    urllib.request.urlopen(f"{base}/-/ready", timeout=2)
                    ready = elapsed
                except Exception:  # noqa: BLE001 - not up yet
                    pass
            status = answers(base, "/api/v1/infersight/backfill") if ready is not None else None
            if status and status.get("to_ms"):
                join_ms = status["to_ms"]
            if ready is not None and live is None and join_ms:
                overview = answers(base, "/api/v1/query", {"query": OVERVIEW})
                fresh = answers(base, "/api/v1/query", {"query": f'max(timestamp(up{{job=~"vllm|sglang"}})) > {join_ms / 1000}'})
                if overview and overview["result"] and fresh and fresh["result"]:
                    live = time.monotonic() - started
                    running = status.get("state") == "running"
                    print(f"live after {live:.1f} s (ready after {ready:.1f} s); backfill "
                          f"{'still running at ' + format(100 * status.get('progress', 0), '.0f') + '%' if running else 'already done'}")
            if done is None and status and status.get("state") == "done":
                done = time.monotonic() - started
                done_sample = samples[-1]
                print(f"backfill of {args.backfill} done after {done:.1f} s (the server reports "
                      f"{status['elapsed_seconds']:.1f} s of backfill)")
            if live is not None and done is not None:
                break
            time.sleep(0.1 if live is None else 0.5)
        if live is None or done is None:
            raise RuntimeError("not live or not done within 10 minutes")

        cpu = done_sample[1] - samples[0][1]
        print(f"process until the backfill was done: {cpu:.1f} CPU s ({cpu / done:.2f} cores on average), "
              f"RSS {done_sample[2]:.0f} MiB at the end, {memory_mib(proc.pid, 'VmHWM'):.0f} MiB peak")
        time.sleep(max(0.0, args.live_after - (time.monotonic() - started - done)))
        now_s = time.time()
        join_s = join_ms / 1000
        # Where the demo's two history spans meet: 15 min before the live start, between two scrapes.
        split_s = ((join_ms - 900_000) // 15_000 * 15_000 + 7_500) / 1000
        print(f"the joins (history to live, with {now_s - join_s:.0f} s of live data; and the history's two spans):")
        ok = True
        for query in (GATEWAY, ENGINE):
            ok &= check_join(base, query, join_s, now_s, "live")
            ok &= check_join(base, query, split_s, split_s + 600, "spans")
        for metric in RAW:
            ok &= check_raw(base, metric, join_s, now_s)
        span_s = min(3 * 3600, join_s - 1800 - (join_ms / 1000 - parse_span(args.backfill)))
        history_series = series(base, join_s - 1800 - span_s, join_s - 1800)
        after_series = series(base, join_s + 1, now_s)
        name = lambda labels: dict(labels)["__name__"]  # noqa: E731
        history, after = {name(s) for s in history_series}, {name(s) for s in after_series}
        print(f"metric names: {len(history)} in the history (before join-30m), {len(after)} after the join")
        print(f"  live only: {', '.join(sorted(after - history)) or 'none'}")
        print(f"  history only: {', '.join(sorted(history - after)) or 'none'}")
        # Label sets live data writes, of names the history has, that the history lacks.
        missing = {}
        for labels in after_series - history_series:
            if name(labels) in history:
                missing[name(labels)] = missing.get(name(labels), 0) + 1
        top = sorted(missing.items(), key=lambda kv: -kv[1])[:12]
        print(f"  series live only, of names in both: {sum(missing.values())}; most: "
              + ", ".join(f"{n} ({c})" for n, c in top))
        probe_like = [dict(l) for l in after_series - history_series if dict(l).get("infersight_client") == "probe"]
        print(f"  of which labelled infersight_client=\"probe\": {len(probe_like)}")
        judged = api(base, "/api/v1/query", {"query": 'count(gen_ai_evaluation_score_count{gen_ai_evaluation_name=~"judge_.*"})',
                                             "time": join_s - 1800})["result"]
        print(f"  judge score series 30 min before the join: {judged[0]['value'][1] if judged else 0}")
        process_end = memory_mib(proc.pid)
        print(f"RSS now {process_end:.0f} MiB, peak {memory_mib(proc.pid, 'VmHWM'):.0f} MiB; "
              f"CPU {cpu_seconds(proc.pid):.1f} s over {time.monotonic() - started:.0f} s")
        failed = not ok or live > 10
        target = f"; backfill of 6h <= 30 s: {'met' if done <= 30 else 'missed'} ({done:.1f} s)"
        print("targets: live <= 10 s: " + ("met" if live <= 10 else "MISSED") + (target if args.backfill == "6h" else ""))
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
