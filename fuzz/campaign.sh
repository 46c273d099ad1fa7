#!/usr/bin/env bash
# The fuzz campaign: every cargo-fuzz target for SECONDS seconds (default 600),
# one after another, seeded from testdata/fuzz/<target>/, at the lowest CPU
# priority. Not part of CI. Prints one line per target (runs, coverage,
# corpus size, crashes) and exits non-zero when any target found a crash;
# crashing inputs are left in fuzz/artifacts/<target>/.
#
#   fuzz/campaign.sh              # all targets, 10 minutes each
#   fuzz/campaign.sh 60 promql    # one target, one minute
set -euo pipefail

cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 2; }
RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz build -O

mkdir -p logs
failed=0
printf '%-14s %10s %8s %8s %8s %s\n' target runs cov ft corpus result
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  seeds="../testdata/fuzz/$target"
  [ -d "$seeds" ] || seeds=""
  log="logs/$target.log"
  rc=0
  RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run -O "$target" "corpus/$target" $seeds -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || rc=$?
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  last=$(grep -E '#[0-9]+' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo '?')
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo '?')
  corpus=$(find "corpus/$target" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    result="no crash"
  else
    result="CRASH (rc $rc, see $log and artifacts/$target/)"
    failed=1
  fi
  printf '%-14s %10s %8s %8s %8s %s\n' "$target" "$runs" "$cov" "$ft" "$corpus" "$result"
done
exit "$failed"
