#!/usr/bin/env python3
"""Gateway soak: steady streaming traffic with injected failures.

Usage: scripts/gateway-soak.py [--minutes 10] [--rate 20] [--binary target/release/infersight]

Runs a fake OpenAI upstream (50 tokens per stream at 20 ms each; 5 % of
streams cut mid-way), `infersight serve` with the gateway in front of it,
and a client sending `--rate` streaming chats per second of which 5 %
disconnect mid-stream. Reports the client's outcomes (any failure that was
not injected is an error), infersight's RSS over time, and whether every
exchange the pipeline sampled reached the records store.
"""
import argparse
import http.client
import http.server
import json
import random
import socketserver
import sys
import threading
import time
import urllib.request

from infersight_process import memory_mib, serve

TOKENS = 50
PACE = 0.02


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = 0
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        with Upstream.lock:
            Upstream.counter += 1
            n = Upstream.counter
        cut = n % 20 == 7  # 5 % of streams die mid-way
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        model = body.get("model", "soak-model")

        def send(obj):
            self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
            self.wfile.flush()

        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model}
        try:
            send({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
            for i in range(TOKENS):
                if cut and i == TOKENS // 2:
                    self.connection.shutdown(2)
                    return
                time.sleep(PACE)
                send({**chunk, "choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}]})
            send({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                send({**chunk, "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": TOKENS, "total_tokens": TOKENS + 12}})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def one_request(gateway_port, disconnect, outcomes, lock):
    conn = http.client.HTTPConnection("127.0.0.1", gateway_port, timeout=30)
    body = json.dumps({"model": "soak-model", "stream": True,
                       "messages": [{"role": "user", "content": "Tell me about soup."}]})
    kind = "ok"
    try:
        conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        if response.status != 200:
            kind = f"status {response.status}"
        else:
            data = b""
            while True:
                piece = response.read1(4096) if hasattr(response, "read1") else response.read(4096)
                if not piece:
                    break
                data += piece
                if disconnect and data.count(b"data:") >= 10:
                    kind = "disconnected (injected)"
                    break
            if kind == "ok" and b"[DONE]" not in data:
                kind = "cut by upstream (injected)"
    except http.client.IncompleteRead:
        kind = "cut by upstream (injected)"
    except Exception as error:  # noqa: BLE001 - every other failure is counted
        kind = f"error {type(error).__name__}"
    finally:
        conn.close()
    with lock:
        outcomes[kind] = outcomes.get(kind, 0) + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--binary", default="target/release/infersight")
    args = ap.parse_args()

    upstream = Server(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    probe = Server(("127.0.0.1", 0), Upstream)
    port = probe.server_address[1]
    probe.server_close()
    gateway_port = port + 1
    config = (f'[collectors]\nnvml = false\nhost = false\n[quality]\nsample_rate = 0.1\n'
              f'[gateway]\nlisten = "127.0.0.1:{gateway_port}"\n'
              f'[[gateway.upstream]]\nname = "fake"\nurl = "http://127.0.0.1:{upstream.server_address[1]}/v1"\n'
              f'models = ["soak-model"]\nprovider = "vllm"\n')
    with serve(args.binary, port, config, prefix="infersight-soak-") as (proc, base):
        outcomes, lock, threads, rss = {}, threading.Lock(), [], []
        rng = random.Random(7)
        start = time.time()
        n = 0
        next_rss = start
        while time.time() - start < args.minutes * 60:
            n += 1
            t = threading.Thread(target=one_request, args=(gateway_port, rng.random() < 0.05, outcomes, lock), daemon=True)
            t.start()
            threads.append(t)
            if time.time() >= next_rss:
                rss.append(round(memory_mib(proc.pid)))
                next_rss += 30
            time.sleep(max(0.0, start + n / args.rate - time.time()))
        for t in threads:
            t.join(timeout=60)
        time.sleep(3)  # the pipeline drains its queue
        metrics = urllib.request.urlopen(f"{base}/metrics").read().decode()

        def total(name):
            return sum(float(l.rsplit(" ", 1)[1]) for l in metrics.splitlines() if l.startswith(name))

        sampled = total("infersight_exchanges_sampled_total")
        dropped = total("infersight_gateway_exchanges_dropped_total")
        failures = total("infersight_quality_failures_total")
        stored, before = 0, None
        while True:
            url = f"{base}/api/v1/infersight/exchanges?limit=1000" + (f"&before={before}" if before else "")
            page = json.load(urllib.request.urlopen(url))["data"]
            stored += len(page["exchanges"])
            before = page["next_before"]
            if before is None:
                break
        errors = {k: v for k, v in outcomes.items() if not (k == "ok" or "injected" in k)}
        print(f"requests: {n} in {args.minutes} min; outcomes: {outcomes}")
        print(f"errors not injected: {sum(errors.values())} {errors}")
        print(f"infersight RSS every 30 s (MiB): {rss}")
        print(f"exchanges sampled: {sampled:.0f}, stored: {stored}, dropped before the pipeline: {dropped:.0f}, "
              f"pipeline failures: {failures:.0f}")
        ok = not errors and stored == sampled and dropped == 0
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
