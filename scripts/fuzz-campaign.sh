#!/usr/bin/env bash
# A long libFuzzer campaign: runs each target until it has used CPU_SECONDS of CPU time
# (user+sys, read from /proc, so a loaded machine does not shorten the campaign), then
# interrupts it and prints libFuzzer's final stats, the coverage and anything found.
#
#   scripts/fuzz-campaign.sh [CPU_SECONDS] [TARGET...]     (default 600 s, every target)
#
# Needs the fuzz build (`scripts/test.sh --fuzz` or the cmake line in tests/fuzz). The
# run's corpus and artifacts go to build/fuzz/campaign/<target>; the seed corpus in the
# repository is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config normalizer http_request json_path cron url)
bin=build/fuzz/tests/fuzz
tick=$(getconf CLK_TCK)
# -timeout is wall-clock time: on a loaded machine (or at nice 19) one slow input is not a
# hang, so FUZZ_TIMEOUT can raise it; a find is re-checked alone before it is believed.
timeout=${FUZZ_TIMEOUT:-10}

cpu_seconds() {  # utime + stime of one process, in whole seconds
  awk -v t="$tick" '{ sub(/.*\) /, ""); print int(($12 + $13) / t) }' "/proc/$1/stat"
}

for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "fuzz-campaign: $bin/fuzz_$t missing (build it first)" >&2; exit 2; }
  work=build/fuzz/campaign/$t
  rm -rf "$work" && mkdir -p "$work/corpus"
  log=$work/log.txt
  start=$(date +%s)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin/fuzz_$t" -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 &
  pid=$!
  used=0
  while kill -0 "$pid" 2>/dev/null; do
    used=$(cpu_seconds "$pid" 2>/dev/null || echo "$used")
    if [ "$used" -ge "$budget" ]; then kill -INT "$pid"; break; fi
    sleep 2
  done
  rc=0
  wait "$pid" || rc=$?
  # libFuzzer exits 72 when interrupted; anything else means it stopped by itself: a find.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  finds=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
    -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
  echo "fuzz-campaign: $t cpu=${used}s wall=$(($(date +%s) - start))s execs=${execs:-?}" \
    "cov=${cov:-?} ft=${ft:-?} corpus=$(ls "$work/corpus" | wc -l) finds=$finds exit=$rc"
  if [ "$rc" -ne 72 ] || [ "$finds" -ne 0 ]; then
    tail -40 "$log" >&2
    exit 1
  fi
done
