#!/usr/bin/env python3
"""Scrape at scale: one infersight scraping N simulated targets of S series each.

Usage: scripts/scrape-scale.py [--targets 500] [--series 200] [--interval 15s]
                               [--minutes 10] [--binary target/release/infersight]

Starts N HTTP targets on loopback (each on its own port, serving S series
in Prometheus text format whose values change every scrape), runs
`infersight serve` with one [[scrape]] job listing them, waits, then asks
infersight through PromQL whether it held its schedule: the p99 and max of
`scrape_duration_seconds`, and whether any target missed an interval
(`count_over_time(up[...])` against the intervals that fit). Prints CPU
seconds and peak RSS of the infersight process.
"""
import argparse
import http.server
import json
import os
import socketserver
import sys
import threading
import time
import urllib.parse
import urllib.request

from infersight_process import cpu_seconds, memory_mib, serve


class Page(http.server.BaseHTTPRequestHandler):
    series = 200
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - the standard library's name
        port = self.server.server_address[1]
        n = type(self).series
        t = time.time()
        lines = ["# HELP sim_requests_total Requests.", "# TYPE sim_requests_total counter"]
        lines += [f'sim_requests_total{{target="{port}",series="{i}"}} {int(t) + i}' for i in range(n // 2)]
        lines += ["# HELP sim_queue_depth Queue depth.", "# TYPE sim_queue_depth gauge"]
        lines += [f'sim_queue_depth{{target="{port}",series="{i}"}} {(t * (i + 1)) % 17:.3f}' for i in range(n - n // 2)]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.load(response)["data"]["result"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=500)
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--interval", default="15s")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--binary", default="target/release/infersight")
    args = ap.parse_args()
    Page.series = args.series

    servers = []
    for _ in range(args.targets):
        server = Server(("127.0.0.1", 0), Page)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    targets = [f"127.0.0.1:{s.server_address[1]}" for s in servers]

    port = Server(("127.0.0.1", 0), Page).server_address[1] + 1
    config = (f'[collectors]\nnvml = false\nhost = false\n'
              f'[[scrape]]\njob_name = "scale"\ninterval = "{args.interval}"\ntargets = {json.dumps(targets)}\n')
    with serve(args.binary, port, config, prefix="infersight-scale-") as (proc, base):
        start_cpu = cpu_seconds(proc.pid)
        started = time.time()
        print(f"{args.targets} targets x {args.series} series every {args.interval}, {args.minutes} min ...", flush=True)
        time.sleep(args.minutes * 60)
        elapsed = time.time() - started
        cpu, hwm = cpu_seconds(proc.pid), memory_mib(proc.pid, "VmHWM")
        window = f"{int(args.minutes * 60)}s"
        interval_s = float(args.interval.rstrip("s"))
        # The first scrape of a target lands anywhere in the first interval (jitter).
        expected = int((args.minutes * 60) // interval_s) - 1
        p99 = query(base, f'max(quantile_over_time(0.99, scrape_duration_seconds{{job="scale"}}[{window}]))')
        mx = query(base, f'max(max_over_time(scrape_duration_seconds{{job="scale"}}[{window}]))')
        counts = query(base, f'count_over_time(up{{job="scale"}}[{window}])')
        down = query(base, f'count(min_over_time(up{{job="scale"}}[{window}]) == 0)')
        samples = query(base, f'sum(scrape_samples_scraped{{job="scale"}})')
        n_scrapes = sorted(int(float(r["value"][1])) for r in counts)
        missed = sum(1 for c in n_scrapes if c < expected)
        print(f"targets reporting: {len(n_scrapes)} / {args.targets}")
        print(f"scrapes per target in {window}: min {n_scrapes[0] if n_scrapes else 0}, "
              f"max {n_scrapes[-1] if n_scrapes else 0}, expected >= {expected}; targets short of that: {missed}")
        print(f"targets ever down: {down[0]['value'][1] if down else 0}")
        print(f"scrape_duration_seconds p99 (max over targets): {float(p99[0]['value'][1]) * 1000:.1f} ms; "
              f"max: {float(mx[0]['value'][1]) * 1000:.1f} ms")
        print(f"samples per scrape round: {samples[0]['value'][1] if samples else 0}")
        print(f"infersight CPU: {(cpu - start_cpu):.1f} s over {elapsed:.0f} s = {(cpu - start_cpu) / elapsed:.3f} cores; "
              f"peak RSS {hwm:.0f} MiB")
        ok = len(n_scrapes) == args.targets and missed == 0 and p99 and float(p99[0]["value"][1]) < 1.0
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
