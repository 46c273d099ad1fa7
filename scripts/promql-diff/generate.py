"""Generates LLM-serving metrics and sends the same remote-write requests to every URL.

Two hours of 15 s scrapes ending a minute before now (Prometheus accepts only
samples near its head), from a fixed seed, so the values are the same on every
run and only the timestamps move. Requests are sent in time order.

Twelve vLLM instances, each serving one model, with counters, gauges and a
classic histogram, plus these events (minutes after the first scrape):

  vllm-1:8000   missed scrapes at 20, 21.25 and 95; outage 70-78 (up = 0)
  vllm-2:8000   every counter resets at 60 (restart); request_success{stop} again at 101
  vllm-3:8000   kv_cache_usage_perc is a plain NaN at 50
  vllm-4:8000   target disappears at 85: stale markers on every series, then nothing
  vllm-7:8000   per-scrape timestamp jitter of up to +-40 ms
  vllm-10:8000  starts late, at 40

Every instance's scrapes are offset by (index * 137) ms from the 15 s grid.

Usage: generate.py --url URL [--url URL ...] --meta meta.json [--seed N]
"""

import argparse
import json
import math
import random
import sys
import time

import remote_write

SCRAPE_MS = 15_000
N_SCRAPES = 481  # 0 .. 120 min inclusive
BATCH_SCRAPES = 20  # five minutes of scrapes per request

MODELS = [
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
]
# vLLM's default time_to_first_token_seconds buckets.
TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
                1.0, 2.5, 5.0, 7.5, 10.0]
FINISHED_REASONS = ["stop", "length", "abort"]
PLAIN_NAN_BITS = 0x7FF8000000000000


def minute(m):
    """Scrape index at m minutes after the first scrape."""
    return int(round(m * 60_000 / SCRAPE_MS))


class Instance:
    def __init__(self, index, rng):
        self.index = index
        self.name = f"vllm-{index}:8000"
        self.job = "vllm-canary" if index >= 9 else "vllm"
        self.model = MODELS[index % len(MODELS)]
        self.rng = random.Random(rng.getrandbits(64))
        self.load = 0.5 + index % 4 * 0.5
        self.first = minute(40) if index == 10 else 0
        self.last = minute(85) if index == 4 else N_SCRAPES - 1
        self.missed = {minute(20), minute(21.25), minute(95)} if index == 1 else set()
        self.outage = range(minute(70), minute(78) + 1) if index == 1 else range(0)
        self.offset_ms = index * 137
        self.reset_all_at = minute(60) if index == 2 else None
        self.reset_stop_at = minute(101) if index == 2 else None
        self.nan_at = minute(50) if index == 3 else None
        self.jitter = index == 7
        self.reset_counters()
        self.kv = 0.2 + 0.1 * (index % 5)

    def reset_counters(self):
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.success = {reason: 0 for reason in FINISHED_REASONS}
        self.buckets = [0] * (len(TTFT_BUCKETS) + 1)
        self.ttft_sum = 0.0
        self.ttft_count = 0

    def base_labels(self):
        return {"instance": self.name, "job": self.job, "model_name": self.model}

    def timestamp(self, start_ms, step):
        ts = start_ms + step * SCRAPE_MS + self.offset_ms
        if self.jitter:
            ts += self.rng.randint(-40, 40)
        return ts

    def scrape(self, step):
        """Advances the simulated server one scrape; returns [(labels, value_bits)]."""
        rng = self.rng
        if step == self.reset_all_at:
            self.reset_counters()
        if step == self.reset_stop_at:
            self.success["stop"] = 0
        n_requests = rng.randint(0, int(10 * self.load))
        for _ in range(n_requests):
            self.prompt_tokens += rng.randint(20, 2000)
            self.generation_tokens += rng.randint(1, 512)
            reason = rng.choices(FINISHED_REASONS, weights=[85, 12, 3])[0]
            self.success[reason] += 1
            ttft = round(rng.lognormvariate(math.log(0.15 * self.load), 0.8), 4)
            self.ttft_sum += ttft
            self.ttft_count += 1
            for i, le in enumerate(TTFT_BUCKETS):
                if ttft <= le:
                    self.buckets[i] += 1
            self.buckets[-1] += 1
        self.kv = min(1.0, max(0.0, self.kv + rng.uniform(-0.05, 0.05)))
        running = rng.randint(0, int(8 * self.load))
        waiting = max(0, rng.randint(-6, int(4 * self.load)))

        base = self.base_labels()
        f = remote_write.float_bits
        out = [
            ({"__name__": "up", "instance": self.name, "job": self.job}, f(1.0)),
            ({"__name__": "vllm:prompt_tokens_total", **base}, f(self.prompt_tokens)),
            ({"__name__": "vllm:generation_tokens_total", **base}, f(self.generation_tokens)),
            ({"__name__": "vllm:num_requests_running", **base}, f(running)),
            ({"__name__": "vllm:num_requests_waiting", **base}, f(waiting)),
            ({"__name__": "vllm:kv_cache_usage_perc", **base},
             PLAIN_NAN_BITS if step == self.nan_at else f(round(self.kv, 4))),
        ]
        for reason in FINISHED_REASONS:
            out.append(({"__name__": "vllm:request_success_total", **base,
                         "finished_reason": reason}, f(self.success[reason])))
        for le, count in zip([*map(repr, TTFT_BUCKETS), "+Inf"], self.buckets):
            out.append(({"__name__": "vllm:time_to_first_token_seconds_bucket", **base,
                         "le": le}, f(count)))
        out.append(({"__name__": "vllm:time_to_first_token_seconds_sum", **base},
                    f(self.ttft_sum)))
        out.append(({"__name__": "vllm:time_to_first_token_seconds_count", **base},
                    f(self.ttft_count)))
        return out


def series_key(labels):
    return tuple(sorted(labels.items()))


def generate(start_ms, seed):
    """Yields, per batch of scrapes, {series key: (labels, [(bits, ts)])} in time order."""
    rng = random.Random(seed)
    instances = [Instance(i, rng) for i in range(12)]
    batch = {}

    def add(labels, bits, ts):
        key = series_key(labels)
        batch.setdefault(key, (labels, []))[1].append((bits, ts))

    for step in range(N_SCRAPES):
        for inst in instances:
            if step < inst.first:
                continue
            if step > inst.last:
                if step == inst.last + 1:
                    # The target is gone: Prometheus writes a stale marker for
                    # every series it had, at the next scrape time.
                    ts = inst.timestamp(start_ms, step)
                    for labels, _ in inst.scrape(step):
                        add(labels, remote_write.STALE_NAN_BITS, ts)
                continue
            ts = inst.timestamp(start_ms, step)
            samples = inst.scrape(step)  # the server runs even when not scraped
            if step in inst.missed:
                continue
            if step in inst.outage:
                add({"__name__": "up", "instance": inst.name, "job": inst.job},
                    remote_write.float_bits(0.0), ts)
                continue
            for labels, bits in samples:
                add(labels, bits, ts)
        if (step + 1) % BATCH_SCRAPES == 0 or step == N_SCRAPES - 1:
            yield batch
            batch = {}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", required=True,
                        help="remote-write endpoint; repeat to send to several")
    parser.add_argument("--meta", required=True, help="where to write the time range (JSON)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--end-ms", type=int,
                        help="last grid scrape (default: a minute ago, on the 15 s grid)")
    args = parser.parse_args()

    end_ms = args.end_ms or (int(time.time() * 1000) - 60_000) // SCRAPE_MS * SCRAPE_MS
    start_ms = end_ms - (N_SCRAPES - 1) * SCRAPE_MS
    n_series, n_samples, n_requests, n_bytes = set(), 0, 0, 0
    for batch in generate(start_ms, args.seed):
        body = remote_write.snappy_literal_compress(
            remote_write.encode_write_request(list(batch.values())))
        for url in args.url:
            status, text = remote_write.post(url, body)
            if not 200 <= status < 300:
                sys.exit(f"remote write to {url} failed: HTTP {status}: {text.strip()[:500]}")
        n_series.update(batch)
        n_samples += sum(len(samples) for _, samples in batch.values())
        n_requests += 1
        n_bytes += len(body)

    meta = {"start_ms": start_ms, "end_ms": end_ms, "scrape_ms": SCRAPE_MS, "seed": args.seed,
            "series": len(n_series), "samples": n_samples, "requests": n_requests,
            "bytes": n_bytes}
    with open(args.meta, "w") as out:
        json.dump(meta, out, indent=2)
    print(f"sent {n_samples} samples of {len(n_series)} series in {n_requests} requests "
          f"({n_bytes} bytes) to each of {len(args.url)} endpoint(s)")


if __name__ == "__main__":
    main()
