#!/usr/bin/env bash
# Control-plane benchmark (docs/design.md §Performance targets): GET /api/v1/jobs from 64 keep-alive
# connections for 10 s with wrk while a 1,000,000-record bulk run loads from
# magichour-sim into a throwaway Postgres; plus the idle daemon's RSS.
#   scripts/bench-control.sh [build-dir] [records]   (default build/release, RelWithDebInfo; 1000000)
# Prints wrk's report, then one line per figure: requests/s, p99, errors, idle RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
records="${2:-1000000}"
bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target mhloader magichour-sim

work=$(mktemp -d)
source scripts/sim.sh
MH_PID=""
cleanup() {
  [ -n "$MH_PID" ] && kill "$MH_PID" 2>/dev/null && wait "$MH_PID" 2>/dev/null || true
  sim_down
  pg_down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
source scripts/pg.sh
pg_up

sim_up "$build/tests/sim/magichour-sim" "$work" --saved-items "$records"
sim_url="$SIM_URL"

token=bench-control-token
cat >"$work/mhloader.yaml" <<EOF
state_dir: $work/state
log: {level: info}
magic_hour: {base_url: "$sim_url", api_key: sim-dev-key}
destination: {dsn: "$MHLOADER_TEST_PG_DSN", dataset: bench}
control: {listen: "127.0.0.1:0", token: $token}
monitor: {credits: {interval: 1h}, health: {interval: 1h}}
resources:
  - name: saved_items
    endpoint:
      path: saved-items
      params: {limit: 100}
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
    write_disposition: append
jobs:
  - {name: bulk, resources: [saved_items]}
  - {name: account, every: 1h, resources: [credits]}
EOF
"$build/daemon/mhloader" serve --config "$work/mhloader.yaml" 2>"$work/mhloader.log" &
MH_PID=$!
for _ in $(seq 1 200); do grep -q 'msg="mhloader ready"' "$work/mhloader.log" && break; sleep 0.05; done
port=$(sed -n 's/.*msg="control plane listening" listen=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/mhloader.log")
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"

sleep 3  # let the start-up work (first credit read, account run) settle
curl -sf -H "$auth" "$base/api/v1/jobs" >/dev/null
rss_idle_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$MH_PID/status")

run_id=$(curl -sf -X POST -H "$auth" "$base/api/v1/jobs/bulk/runs" | sed -n 's/.*"run_id":\([0-9]*\).*/\1/p')
# Measure while the records stream in (extraction, normalization and the load package).
for _ in $(seq 1 200); do
  rows=$(curl -sf -H "$auth" "$base/api/v1/runs/$run_id" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
  [ "${rows:-0}" -gt 50000 ] && break
  sleep 0.1
done
echo "bulk run $run_id: $rows records extracted when wrk starts"
result=$(wrk -t2 -c64 -d10s --latency -H "$auth" "$base/api/v1/jobs")
echo "$result"
status=$(curl -sf -H "$auth" "$base/api/v1/runs/$run_id" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
rows=$(curl -sf -H "$auth" "$base/api/v1/runs/$run_id" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
echo "bulk run $run_id after wrk: status $status, $rows records"
# The run goes on to the end: its status and row count show the load was not harmed.
for _ in $(seq 1 6000); do
  run=$(curl -sf -H "$auth" "$base/api/v1/runs/$run_id")
  case "$run" in *'"status":"running"'*) sleep 0.1 ;; *) break ;; esac
done
echo "bulk run $run_id finished: $(echo "$run" | sed -n 's/.*"status":"\([a-z]*\)".*/status \1/p'), $(echo "$run" | sed -n 's/.*"rows":\([0-9]*\).*/\1 rows loaded/p'), started $(echo "$run" | sed -n 's/.*"started_at":"\([^"]*\)".*/\1/p'), finished $(echo "$run" | sed -n 's/.*"finished_at":"\([^"]*\)".*/\1/p')"

rps=$(echo "$result" | sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p')
p99=$(echo "$result" | awk '$1 == "99%" {print $2}')
errors=$(echo "$result" | sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
socket_errors=$(echo "$result" | sed -n 's/.*Socket errors: \(.*\)/\1/p')
echo "control plane during the bulk run: ${rps} requests/s, p99 ${p99} (target <= 10ms), non-2xx ${errors:-0}, socket errors: ${socket_errors:-none}"
echo "idle daemon RSS: $((rss_idle_kib / 1024)) MiB (${rss_idle_kib} KiB; target <= 20 MiB)"
