#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs
# `mhloader serve` with config/dev.yaml in the foreground (Ctrl-C stops it).
#   - PostgreSQL: $MHLOADER_PG_DSN if set, else a throwaway cluster deleted on exit.
#   - Magic Hour: the real API with $MAGIC_HOUR_API_KEY, else the bundled simulator.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build/debug -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/debug -j"$(nproc)" --target mhloader

cleanup() { :; }
if [ -z "${MHLOADER_PG_DSN:-}" ]; then
  source scripts/pg.sh
  cleanup() { pg_down; }
  trap cleanup EXIT
  pg_up
  export MHLOADER_PG_DSN="$MHLOADER_TEST_PG_DSN"
  echo "dev.sh: throwaway PostgreSQL: psql \"$MHLOADER_PG_DSN\" (deleted when mhloader stops)"
else
  echo "dev.sh: using PostgreSQL from MHLOADER_PG_DSN"
fi

if [ -z "${MAGIC_HOUR_API_KEY:-}" ]; then
  echo "dev.sh: MAGIC_HOUR_API_KEY is not set; the Magic Hour simulator is not bundled yet (issue 3), so upstream calls have no server"
fi

export MHLOADER_STATE_DIR="${MHLOADER_STATE_DIR:-$PWD/.dev/state}"
echo "dev.sh: starting mhloader serve --config config/dev.yaml (Ctrl-C to stop)"
build/debug/daemon/mhloader serve --config config/dev.yaml "$@"
