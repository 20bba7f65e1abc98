#!/usr/bin/env bash
# The bulk path against its two floors, in one run (issue: "bulk path at the floor").
#   scripts/bench-bulk.sh [N...]        (default 100000; R=3 rounds, BENCH_ROUNDS to change)
# For each N it starts a throwaway PostgreSQL and magichour-sim with N saved items (100 a
# page, cursor-paged), then alternates R rounds of:
#   (a) http:  bench_pager, one keep-alive client that fetches and parses every page;
#   (b) run:   `mhloader run bulk` end to end, into a freshly dropped dataset;
#   (c) copy:  psql `\copy` of exactly the rows (b) loaded, into empty
#              `CREATE TABLE … (LIKE … INCLUDING ALL)` copies, in one transaction.
# Wall time and peak RSS come from /usr/bin/time. It prints every run, the medians, and
# run / max(http, copy), the ratio the target bounds (≤ 1.5), and the run's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000)
rounds=${BENCH_ROUNDS:-3}
build=${BENCH_BUILD:-build/release}  # an existing build dir is used as it is configured

bash scripts/install-deps.sh
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target mhloader magichour-sim bench_pager >/dev/null

work=$(mktemp -d)
source scripts/pg.sh
source scripts/sim.sh
trap 'sim_down; pg_down; rm -rf "$work"' EXIT
pg_up >/dev/null

# timed OUT CMD...: runs CMD under /usr/bin/time; appends "seconds peak_kib" to OUT.
timed() {
  local out=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/cmd.out" 2>"$work/cmd.err" || {
    echo "bench-bulk: '$*' failed:" >&2
    tail -20 "$work/cmd.err" >&2
    exit 1
  }
  cat "$work/time.txt" >>"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }

for n in "${sizes[@]}"; do
  sim_up "$build/tests/sim/magichour-sim" "$work" --saved-items "$n"
  cat >"$work/mhloader.yaml" <<EOF
state_dir: $work/state
log: {level: warn}
magic_hour: {base_url: "$SIM_URL", api_key: sim-dev-key}
destination: {type: postgres, dsn: "$MHLOADER_TEST_PG_DSN", dataset: bench_data}
resources:
  - name: saved_items
    endpoint:
      path: saved-items
      params: {limit: 100}
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
    write_disposition: append
jobs:
  - {name: bulk, every: 1h, resources: [saved_items]}
EOF
  rm -f "$work"/{http,run,copy}.txt
  for r in $(seq 1 "$rounds"); do
    timed "$work/http.txt" "$build/tests/bench/bench_pager" "$SIM_URL" sim-dev-key "saved-items?limit=100" \
      next_cursor cursor items
    pages=$(sed -n 's/.*pages=\([0-9]*\).*/\1/p' "$work/cmd.out")

    q "DROP SCHEMA IF EXISTS bench_data CASCADE; DROP SCHEMA IF EXISTS bench_data_staging CASCADE;
       DROP SCHEMA IF EXISTS bench_floor CASCADE"
    rm -rf "$work/state"
    timed "$work/run.txt" "$build/daemon/mhloader" run bulk --config "$work/mhloader.yaml"

    # The rows the run loaded, as COPY text, then loaded again by psql into empty copies.
    tables=$(q "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bench_data'
                AND table_name NOT LIKE '\_dlt%' ORDER BY table_name")
    rows=0
    : >"$work/copy.sql"
    for t in $tables; do
      q "\\copy bench_data.$t TO '$work/$t.tsv'"
      rows=$((rows + $(wc -l <"$work/$t.tsv")))
      echo "\\copy bench_floor.$t FROM '$work/$t.tsv'" >>"$work/copy.sql"
    done
    q "CREATE SCHEMA bench_floor"
    for t in $tables; do q "CREATE TABLE bench_floor.$t (LIKE bench_data.$t INCLUDING ALL)"; done
    timed "$work/copy.txt" psql -X -q -1 -v ON_ERROR_STOP=1 -f "$work/copy.sql"

    read -r hs hk <<<"$(tail -1 "$work/http.txt")"
    read -r rs rk <<<"$(tail -1 "$work/run.txt")"
    read -r cs _ <<<"$(tail -1 "$work/copy.txt")"
    echo "N=$n round $r: http ${hs}s ($pages pages, peak $hk KiB)  run ${rs}s (peak $rk KiB)" \
      " copy ${cs}s ($rows rows in $(echo "$tables" | wc -w) tables)"
  done
  sim_down
  http=$(cut -d' ' -f1 "$work/http.txt" | median)
  run=$(cut -d' ' -f1 "$work/run.txt" | median)
  copy=$(cut -d' ' -f1 "$work/copy.txt" | median)
  rss=$(cut -d' ' -f2 "$work/run.txt" | sort -n | tail -1)
  floor=$(echo "if ($http > $copy) $http else $copy" | bc -l)
  printf 'N=%s medians of %s: http %ss  run %ss  copy %ss  |  run/http %.2f  run/copy %.2f  run/max(floors) %.2f (target <= 1.5)  |  run peak RSS %s KiB = %.1f MiB (target <= 64)\n' \
    "$n" "$rounds" "$http" "$run" "$copy" "$(echo "$run / $http" | bc -l)" "$(echo "$run / $copy" | bc -l)" \
    "$(echo "$run / $floor" | bc -l)" "$rss" "$(echo "$rss / 1024" | bc -l)"
done
