# Sourced by scripts (dev.sh, the benches): the bundled Magic Hour simulator on a
# free loopback port, like pg.sh does for PostgreSQL.
#   sim_up BINARY DIR [ARGS...]   starts it (output in DIR/sim.out, log in DIR/sim.log);
#                                 sets SIM_PID and SIM_URL (the base URL, ending in /v1)
#   sim_down                      stops it (safe to call twice)
# SIM_LAUNCH, if set, prefixes the command (e.g. "taskset -c 0" to pin it to a core).

sim_up() {
  local bin="$1" dir="$2"
  shift 2
  # shellcheck disable=SC2086 # SIM_LAUNCH is a command prefix, split on purpose
  ${SIM_LAUNCH:-} "$bin" --listen 127.0.0.1:0 "$@" >"$dir/sim.out" 2>"$dir/sim.log" &
  SIM_PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$dir/sim.out" 2>/dev/null && break
    sleep 0.05
  done
  SIM_URL=$(sed -n 's/^magichour-sim listening on \([^ ]*\).*/\1/p' "$dir/sim.out")
  if [ -z "$SIM_URL" ]; then
    echo "sim.sh: magichour-sim did not start:" >&2
    cat "$dir/sim.log" >&2
    return 1
  fi
}

sim_down() {
  [ -n "${SIM_PID:-}" ] || return 0
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  SIM_PID=""
}
