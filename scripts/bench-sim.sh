#!/usr/bin/env bash
# magichour-sim throughput: saved items served per second on ONE core over
# keep-alive (the simulator must never be the bottleneck; target >= 20,000/s).
#   scripts/bench-sim.sh [build-dir]      (default build/release, RelWithDebInfo)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target magichour-sim
work=$(mktemp -d)
source scripts/sim.sh
trap 'sim_down; rm -rf "$work"' EXIT
SIM_LAUNCH="taskset -c 0" sim_up "$build/tests/sim/magichour-sim" "$work" --saved-items 100000
url="$SIM_URL"
result=$(taskset -c 1 wrk -t1 -c4 -d10s -H "Authorization: Bearer sim-dev-key" "$url/saved-items?limit=100")
echo "$result"
rps=$(echo "$result" | sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p')
echo "saved items per second (100 per page, simulator pinned to one core): $(echo "$rps * 100" | bc -l | cut -d. -f1)"
