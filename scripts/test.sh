#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, starts a
# throwaway PostgreSQL, runs every test, and stops the server again.
#   scripts/test.sh           Debug build in build/debug
#   scripts/test.sh --asan    ASan+UBSan build in build/asan
#   scripts/test.sh --tsan    TSan build in build/tsan: the concurrency-heavy tests only
#   scripts/test.sh --fuzz    libFuzzer targets (clang) in build/fuzz, 30 s each
set -euo pipefail
cd "$(dirname "$0")/.."

variant="${1:-}"
targets=()
select=()
case "$variant" in
  "")     build=build/debug; extra=() ;;
  --asan) build=build/asan;  extra=(-DMHLOADER_SANITIZE=address) ;;
  --tsan) build=build/tsan;  extra=(-DMHLOADER_SANITIZE=thread)
          # Control plane, serve, jobs, the limiter and the poller (client, calls), the
          # router, monitors and reload: where threads and coroutines meet.
          targets=(--target unit_tests integration_tests mhloader magichour-sim)
          select=(-R '^(unit|integration):(control|serve|jobs|client|calls|router|monitor|reload|schedule facade|limiter|spend|notify|load order|db):')
          export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp}" ;;
  --fuzz) build=build/fuzz;  extra=(-DMHLOADER_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  *) echo "usage: scripts/test.sh [--asan|--tsan|--fuzz]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh
jobs=$(nproc)
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${extra[@]}" >/dev/null
cmake --build "$build" -j"$jobs" "${targets[@]}"
echo "test.sh: build took $(( $(date +%s) - start ))s" >&2

if [ "$variant" = --fuzz ]; then  # no database: the targets run on their seed corpora
  start=$(date +%s)
  ctest --test-dir "$build" --output-on-failure -L fuzz --timeout 600
  echo "test.sh: fuzzing took $(( $(date +%s) - start ))s" >&2
  exit 0
fi

source scripts/pg.sh
trap pg_down EXIT
pg_up

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 300 "${select[@]}"
echo "test.sh: tests took $(( $(date +%s) - start ))s" >&2
