# PostgreSQL and Redis on loopback for the backend tests, started from scratch in a private
# folder and stopped by stop_services. Sourced by scripts/test.sh (after lib.sh).

SERVICES_DIR=
# Below Linux's ephemeral range (32768+), so no client socket of the tests can hold them.
PG_PORT=15432
REDIS_PORT=16379

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_service_packages() {
  # curl: readiness probes and sign-in in scripts/fuzz-api.sh and scripts/bench.sh.
  apt_install postgresql redis-server curl
}

start_services() {
  SERVICES_DIR=$(mktemp -d /tmp/tracklist-services.XXXXXX)
  chmod 755 "$SERVICES_DIR"
  local bin
  bin=$(pg_bin)
  say "Starting PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$SERVICES_DIR/pg"
  chown postgres:postgres "$SERVICES_DIR/pg"
  # PostgreSQL refuses to run as root; its own account runs it. Trust on loopback only.
  runuser -u postgres -- "$bin/initdb" -D "$SERVICES_DIR/pg/data" -U postgres --auth=trust >/dev/null
  if ! runuser -u postgres -- "$bin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/log" -w start \
    -o "-p $PG_PORT -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" >/dev/null; then
    cat "$SERVICES_DIR/pg/log" >&2
    return 1
  fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export TRACKLIST_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  export TRACKLIST_TEST_REDIS="redis://127.0.0.1:$REDIS_PORT"
}

stop_services() {
  [ -n "$SERVICES_DIR" ] || return 0
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$SERVICES_DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$SERVICES_DIR"
  SERVICES_DIR=
}
