#!/usr/bin/env bash
# Cost of the default rule pack over the peerbench data set (100k series):
# generates the data set ending now, writes it into infersight through remote
# write, flushes, stops the server, then evaluates the pack on its grid over
# the last minutes of the data (crates/rules/examples/pack_over_tsdb.rs) and
# prints wall and CPU time per 30-second interval.
#
#   scripts/rules-bench.sh [--series 100000] [--minutes 10] [--out DIR]
#
# Needs python3 and curl; the harness is ../shared/bench/peerbench.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${PEERBENCH:-$ROOT/../shared/bench/peerbench}"
SERIES=100000 MINUTES=10 OUT="$ROOT/out/rules-bench-$(date +%Y%m%d-%H%M%S)" PORT=18491
while [[ $# -gt 0 ]]; do
  case "$1" in
    --series) SERIES="$2"; shift 2;;
    --minutes) MINUTES="$2"; shift 2;;
    --out) OUT="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/infersight-rules-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -r "$HARNESS" "$WORK/peerbench" && chmod -R u+w "$WORK/peerbench"
(cd "$ROOT" && cargo build --release -p infersight && cargo build --release -p rules --example pack_over_tsdb)
(cd "$WORK/peerbench/loadgen" && cargo build --release -q)
LOADGEN="$WORK/peerbench/loadgen/target/release/loadgen"

END_MS=$(( $(date +%s) * 1000 ))
echo "== generating $SERIES series ending at $END_MS"
"$LOADGEN" gen --out "$WORK/dataset.bin" --series "$SERIES" --end-ms "$END_MS" >&2

DATA="$WORK/data"
mkdir -p "$DATA"
printf '[server]\nlisten = "127.0.0.1:%s"\n[storage]\npath = "%s"\nretention = "3650d"\n' "$PORT" "$DATA" > "$WORK/infersight.toml"
"$ROOT/target/release/infersight" serve --config "$WORK/infersight.toml" > "$OUT/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/-/ready" && break; sleep 0.1; done
echo "== writing the data set through remote write"
"$LOADGEN" send --in "$WORK/dataset.bin" --url "http://127.0.0.1:$PORT/api/v1/write" --concurrency 4 >&2
curl -fs -XPOST "http://127.0.0.1:$PORT/api/v1/admin/tsdb/flush" > /dev/null
kill -TERM "$PID"; wait "$PID" || true

echo "== evaluating the pack over the last $MINUTES minutes of the data"
"$ROOT/target/release/examples/pack_over_tsdb" --data "$DATA" --at "$END_MS" --minutes "$MINUTES" | tee "$OUT/result.txt"
