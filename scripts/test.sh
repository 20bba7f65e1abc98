#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, starts a
# throwaway PostgreSQL, runs every test, and stops the server again.
#   scripts/test.sh           Debug build in build/debug
#   scripts/test.sh --asan    ASan+UBSan build in build/asan
#   scripts/test.sh --tsan    TSan build in build/tsan
set -euo pipefail
cd "$(dirname "$0")/.."

variant="${1:-}"
case "$variant" in
  "")     build=build/debug; extra=() ;;
  --asan) build=build/asan;  extra=(-DMHLOADER_SANITIZE=address) ;;
  --tsan) build=build/tsan;  extra=(-DMHLOADER_SANITIZE=thread) ;;
  *) echo "usage: scripts/test.sh [--asan|--tsan]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh
jobs=$(nproc)
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${extra[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
echo "test.sh: build took $(( $(date +%s) - start ))s" >&2

source scripts/pg.sh
trap pg_down EXIT
pg_up

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 300
echo "test.sh: tests took $(( $(date +%s) - start ))s" >&2
