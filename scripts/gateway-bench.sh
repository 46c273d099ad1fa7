#!/usr/bin/env bash
# What the gateway adds to streamed requests: added TTFT and end-to-end
# latency (p50, p99) at 100 and 1,000 concurrent streams against a fake
# upstream streaming 200 tokens 20 ms apart, and the gateway's CPU time per
# 1k requests and RSS (it runs in a child process). Arguments go to the
# example, e.g.:
#
#   scripts/gateway-bench.sh --concurrency 100,1000 --requests 2 --pace-ms 20
#
# Run it on an otherwise idle machine: the clients, the fake upstream and
# the gateway share its cores, and other load shows up as gateway latency.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release -p proxy --example overhead
exec "$ROOT/target/release/examples/overhead" "$@"
