# Throwaway PostgreSQL for tests and local runs. Source it, then:
#   pg_up      initdb in a temp folder, start on 127.0.0.1 at a free port; exports
#              PGHOST PGPORT PGUSER PGDATABASE and MHLOADER_TEST_PG_DSN (keyword form)
#   pg_down    stop the server and delete its folder (safe to call twice)
# As root, the server runs as the `postgres` user (initdb refuses root).

pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "pg.sh: no PostgreSQL server found; run scripts/install-deps.sh" >&2; return 1; }
  echo "$d"
}

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

pg_up() {
  local bin port tries
  bin=$(pg_bin_dir) || return 1
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pgtest.XXXXXX")
  export PG_TMP
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_TMP"; fi
  (cd "$PG_TMP" && pg_as_owner "$bin/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$PG_TMP/initdb.log" 2>&1) || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  for tries in 1 2 3 4 5; do
    port=$(pg_free_port) || return 1
    if (cd "$PG_TMP" && pg_as_owner "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
          -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_TMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
          start >/dev/null); then
      export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
      export MHLOADER_TEST_PG_DSN="host=127.0.0.1 port=$port user=postgres dbname=postgres"
      echo "pg.sh: throwaway PostgreSQL on 127.0.0.1:$port (data in $PG_TMP)" >&2
      return 0
    fi
    echo "pg.sh: start on port $port failed (attempt $tries); trying another port" >&2
  done
  cat "$PG_TMP/server.log" >&2
  return 1
}

pg_down() {
  [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP" ] || return 0
  local bin
  bin=$(pg_bin_dir) || true
  if [ -f "$PG_TMP/data/postmaster.pid" ]; then
    (cd "$PG_TMP" && pg_as_owner "$bin/pg_ctl" -D "$PG_TMP/data" -m fast -w -t 20 stop >/dev/null 2>&1) ||
      kill -QUIT "$(head -n 1 "$PG_TMP/data/postmaster.pid")" 2>/dev/null || true
  fi
  rm -rf "$PG_TMP"
  unset PG_TMP
}
