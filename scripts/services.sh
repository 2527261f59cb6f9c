# PostgreSQL and Redis on loopback for the backend tests and the benchmark, started from
# scratch in a private folder and stopped by stop_services. Sourced by scripts/test.sh and
# scripts/bench.sh (after lib.sh).

SERVICES_DIR=

ensure_service_packages() {
  # curl: readiness probes and sign-in in scripts/fuzz-api.sh and scripts/bench.sh.
  apt_install postgresql redis-server curl
}

# Starting and stopping them is the `services` crate's job (the API tests use it too); this
# only gives it a folder and exports the TRACKLIST_TEST_* variables it prints.
start_services() {
  SERVICES_DIR=$(mktemp -d /tmp/tracklist-services.XXXXXX)
  # PostgreSQL runs as its own account, which must reach its folder inside this one.
  chmod 755 "$SERVICES_DIR"
  say "Starting private PostgreSQL and Redis servers on loopback"
  cargo build --locked --quiet -p services
  # Not `eval "$(…)"` alone: that would swallow a failed start (a port already taken, say),
  # and the PostgreSQL pass would then quietly run on SQLite again.
  local exports
  exports=$(target/debug/tracklist-services start "$SERVICES_DIR") || {
    echo "could not start PostgreSQL and Redis (see above)" >&2
    exit 1
  }
  eval "$exports"
}

# What the servers said, and the disk they had: for a failed pass, whose tests only see
# "connection refused" or a timeout when PostgreSQL itself is in trouble.
show_service_logs() {
  [ -n "$SERVICES_DIR" ] || return 0
  echo "--- PostgreSQL log (last 40 lines) ---"
  tail -n 40 "$SERVICES_DIR/pg/log" 2>/dev/null || true
  echo "--- disk ---"
  df -h "$SERVICES_DIR" || true
}

stop_services() {
  [ -n "$SERVICES_DIR" ] || return 0
  target/debug/tracklist-services stop "$SERVICES_DIR" >/dev/null 2>&1 || true
  rm -rf "$SERVICES_DIR"
  SERVICES_DIR=
}
