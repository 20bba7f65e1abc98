#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and runs
# `mhloader serve` with config/dev.yaml in the foreground (Ctrl-C stops it).
#   - PostgreSQL: $MHLOADER_PG_DSN if set, else a throwaway cluster deleted on exit.
#   - Magic Hour: the real API with $MAGIC_HOUR_API_KEY, else the bundled simulator.
set -euo pipefail
cd "$(dirname "$0")/.."

# MHLOADER_BUILD_DIR and MHLOADER_DEV_SKIP_BUILD=1 let the test suite run this
# script against the binaries it already built.
build="${MHLOADER_BUILD_DIR:-build/debug}"
if [ "${MHLOADER_DEV_SKIP_BUILD:-}" != 1 ]; then
  bash scripts/install-deps.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build "$build" -j"$(nproc)" --target mhloader magichour-sim
fi

source scripts/sim.sh
PG_STARTED=""
cleanup() {
  sim_down
  if [ -n "$PG_STARTED" ]; then pg_down; fi
}
trap cleanup EXIT

if [ -z "${MHLOADER_PG_DSN:-}" ]; then
  source scripts/pg.sh
  pg_up
  PG_STARTED=1
  export MHLOADER_PG_DSN="$MHLOADER_TEST_PG_DSN"
  echo "dev.sh: throwaway PostgreSQL: psql \"$MHLOADER_PG_DSN\" (deleted when mhloader stops)"
else
  echo "dev.sh: using PostgreSQL from MHLOADER_PG_DSN"
fi

if [ -z "${MAGIC_HOUR_API_KEY:-}" ]; then
  mkdir -p .dev
  sim_up "$build/tests/sim/magichour-sim" .dev --api-key sim-dev-key --saved-items 250 --render-time 3s \
    --credits 5000 || exit 1
  url="$SIM_URL"
  export MHLOADER_MAGIC_HOUR_URL="$url"
  export MHLOADER_DEV_GENERATION_SCHEDULE="${MHLOADER_DEV_GENERATION_SCHEDULE:-* * * * *}"
  echo "dev.sh: MAGIC_HOUR_API_KEY is not set: using the bundled Magic Hour simulator at $url (log: .dev/sim.log)"
else
  echo "dev.sh: using the real Magic Hour API with MAGIC_HOUR_API_KEY"
fi

export MHLOADER_STATE_DIR="${MHLOADER_STATE_DIR:-$PWD/.dev/state}"
echo "dev.sh: starting mhloader serve --config config/dev.yaml (Ctrl-C to stop)"
echo "dev.sh: jobs run every minute; then look at the data with"
echo "          MHLOADER_PG_DSN=\"$MHLOADER_PG_DSN\" $build/daemon/mhloader show --config config/dev.yaml"
echo "          psql \"$MHLOADER_PG_DSN\" -c 'SELECT * FROM magic_hour_data.saved_items LIMIT 5'"
"$build/daemon/mhloader" serve --config config/dev.yaml "$@"
