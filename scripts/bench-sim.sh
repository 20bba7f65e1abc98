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
out=$(mktemp)
taskset -c 0 "$build/tests/sim/magichour-sim" --listen 127.0.0.1:0 --saved-items 100000 >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$out" && break; sleep 0.05; done
url=$(sed -n 's/^magichour-sim listening on \([^ ]*\).*/\1/p' "$out")
result=$(taskset -c 1 wrk -t1 -c4 -d10s -H "Authorization: Bearer sim-dev-key" "$url/saved-items?limit=100")
echo "$result"
rps=$(echo "$result" | sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p')
echo "saved items per second (100 per page, simulator pinned to one core): $(echo "$rps * 100" | bc -l | cut -d. -f1)"
