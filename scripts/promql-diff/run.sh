#!/usr/bin/env bash
# Differential PromQL test: infersight against Prometheus on the same data.
#
#   scripts/promql-diff/run.sh [--no-build] [--prometheus-only] [--keep] [--out DIR]
#                              [-- compare.py options, e.g. --only rate_]
#
# Builds infersight, starts Prometheus and infersight on free loopback ports
# with fresh data directories, sends both the same remote-write requests
# (generate.py), runs queries.txt against both (compare.py), prints a summary
# and every difference, and stops both. Exits 0 only if every answer matches
# or each differing query is listed in known_differences.tsv.
#
#   --no-build          use the existing target/release/infersight
#   --prometheus-only   compare Prometheus with itself (checks the harness; no
#                       infersight needed, must report 100%)
#   --keep              keep the work directory (data, logs, meta.json)
#   --out DIR           also write differences.txt and answers.jsonl to DIR
#
# Needs python3 and Debian's `prometheus` (apt-get install prometheus).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # keep __pycache__ out of the source tree
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD=1 PROM_ONLY=0 KEEP=0 OUT="" COMPARE_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) BUILD=0; shift;;
    --prometheus-only) PROM_ONLY=1; BUILD=0; shift;;
    --keep) KEEP=1; shift;;
    --out) OUT="$2"; shift 2;;
    --) shift; COMPARE_ARGS=("$@"); break;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
PROMETHEUS="${PROMETHEUS:-$(command -v prometheus || true)}"
[[ -x "$PROMETHEUS" ]] || { echo "prometheus not found (apt-get install prometheus)" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/infersight-promql-diff.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "$KEEP" == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() { # name url pid log
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$2"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$1 exited during startup; its log:" >&2; tail -n 30 "$4" >&2; exit 2
    fi
    sleep 0.1
  done
  echo "$1 did not become ready at $2; its log:" >&2; tail -n 30 "$4" >&2; exit 2
}

if [[ "$BUILD" == 1 ]]; then
  (cd "$ROOT" && cargo build --release -p infersight)
fi

PROM_PORT="$(free_port)"
printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' > "$WORK/prometheus.yml"
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-remote-write-receiver \
  --storage.tsdb.retention.time=30d --query.lookback-delta=5m \
  > "$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM_URL="http://127.0.0.1:$PROM_PORT"
wait_ready prometheus "$PROM_URL/-/ready" "${PIDS[-1]}" "$WORK/prometheus.log"

if [[ "$PROM_ONLY" == 1 ]]; then
  CAND_URL="$PROM_URL"
  WRITE_URLS=(--url "$PROM_URL/api/v1/write")
  COMPARE_ARGS=(--known /dev/null "${COMPARE_ARGS[@]}")
else
  BIN="$ROOT/target/release/infersight"
  [[ -x "$BIN" ]] || { echo "$BIN not built (run without --no-build)" >&2; exit 2; }
  INF_PORT="$(free_port)"
  mkdir -p "$WORK/infersight-data"
  printf '[server]\nlisten = "127.0.0.1:%s"\n[storage]\npath = "%s"\nretention = "3650d"\n' \
    "$INF_PORT" "$WORK/infersight-data" > "$WORK/infersight.toml"
  "$BIN" serve --config "$WORK/infersight.toml" > "$WORK/infersight.log" 2>&1 &
  PIDS+=($!)
  CAND_URL="http://127.0.0.1:$INF_PORT"
  wait_ready infersight "$CAND_URL/-/ready" "${PIDS[-1]}" "$WORK/infersight.log"
  WRITE_URLS=(--url "$PROM_URL/api/v1/write" --url "$CAND_URL/api/v1/write")
fi
echo "prometheus at $PROM_URL, infersight at $CAND_URL, work directory $WORK"

python3 "$HERE/generate.py" "${WRITE_URLS[@]}" --meta "$WORK/meta.json"
# Both acknowledge a write only once it is queryable; the pause covers any
# asynchronous indexing all the same.
sleep 2

set +e
python3 "$HERE/compare.py" --reference "$PROM_URL" --candidate "$CAND_URL" \
  --meta "$WORK/meta.json" ${OUT:+--out "$OUT"} "${COMPARE_ARGS[@]}"
status=$?
set -e
exit "$status"
