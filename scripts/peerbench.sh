#!/usr/bin/env bash
# Benchmarks infersight beside Prometheus and VictoriaMetrics with the shared
# peerbench harness (../shared/bench/peerbench), N rounds, interleaved, then
# prints median tables (infersight vs each peer) for docs/benchmarks.md.
#
#   scripts/peerbench.sh [--rounds 3] [--out DIR] [--no-peers]
#
# Needs Debian's `prometheus` and `victoria-metrics` packages for the peers
# (apt-get install prometheus victoria-metrics) and python3. The harness is
# copied to a writable work directory (shared/ may be read-only).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${PEERBENCH:-$ROOT/../shared/bench/peerbench}"
ROUNDS=3 OUT="$ROOT/out/peerbench-$(date +%Y%m%d-%H%M%S)" PEERS=1 PORT=18490
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2;;
    --out) OUT="$2"; shift 2;;
    --no-peers) PEERS=0; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/infersight-peerbench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -r "$HARNESS" "$WORK/peerbench"
chmod -R u+w "$WORK/peerbench"
(cd "$ROOT" && cargo build --release -p infersight)
(cd "$WORK/peerbench/loadgen" && cargo build --release -q)
BIN="$ROOT/target/release/infersight"

run_infersight() {
  local out="$1" data="$WORK/infersight-data"
  rm -rf "$data" && mkdir -p "$data"
  printf '[server]\nlisten = "127.0.0.1:%s"\n[storage]\npath = "%s"\nretention = "3650d"\n' "$PORT" "$data" > "$WORK/infersight.toml"
  "$BIN" serve --config "$WORK/infersight.toml" > "$out.server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/-/ready" && break; sleep 0.1; done
  (cd "$WORK/peerbench" && ./run.sh --name infersight --pid "$pid" \
      --write-url "http://127.0.0.1:$PORT/api/v1/write" --query-url "http://127.0.0.1:$PORT" \
      --data-dir "$data" --flush-cmd "curl -fs -XPOST http://127.0.0.1:$PORT/api/v1/admin/tsdb/flush" \
      --out "$out") || true
  # Series count through the series API (the harness's PromQL check needs the query engine).
  curl -fs "http://127.0.0.1:$PORT/api/v1/series" --data-urlencode 'match[]={__name__=~".+"}' \
    | python3 -c 'import json,sys; print("series via /api/v1/series:", len(json.load(sys.stdin)["data"]))' | tee "$out/series_check.txt"
  curl -fs "http://127.0.0.1:$PORT/metrics" | grep -E '^infersight_(remote_write_samples_total|tsdb_block_samples|tsdb_blocks_bytes) ' | tee -a "$out/series_check.txt"
  kill -TERM "$pid"; wait "$pid"
}

for round in $(seq 1 "$ROUNDS"); do
  if [[ "$PEERS" == 1 ]]; then
    (cd "$WORK/peerbench" && ./peers.sh --out "$OUT/round-$round")
  fi
  mkdir -p "$OUT/round-$round"
  run_infersight "$OUT/round-$round/infersight"
done

runs=("$OUT"/round-*)
if [[ "$PEERS" == 1 ]]; then
  for peer in victoriametrics prometheus; do
    echo "## infersight vs $peer"
    python3 "$WORK/peerbench/aggregate.py" --a infersight --b "$peer" "${runs[@]}"
    echo
  done | tee "$OUT/tables.md"
fi
echo "results in $OUT"
