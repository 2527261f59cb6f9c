#!/usr/bin/env bash
# The benchmark: a release server on loopback against a fresh database with 10 000 tracks,
# driven by wrk for bounded runs, serving the release browser bundle (its pages rendered on
# the server); then the bundle's size, and navigation timings in Chromium (server- against
# client-rendered, bench/navigation.mjs). Prints one table and writes it to bench-results/.
#   scripts/bench.sh              SQLite (sessions in the database, and in memory as baseline),
#                                 then PostgreSQL + Redis if both are installed (started
#                                 privately, then stopped)
#   scripts/bench.sh --all        installs PostgreSQL and Redis first if they are missing
#   scripts/bench.sh --sqlite     SQLite only
#   BENCH_GROWTH=1 scripts/bench.sh   also the growth figures (bench/growth.py, ~15 minutes):
#                                 1 000 000 sessions, 1 000 000 tracks, RSS after 100 000 sign-ins
# Each row runs BENCH_SECONDS (default 8) seconds with BENCH_CONNECTIONS (default 16) clients;
# the rows a ratio target compares take turns in BENCH_ROUNDS (default 4) rounds.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

SECONDS_PER_RUN=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-4}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
PORT=3099
BASE="http://127.0.0.1:$PORT"
MEMORY_PORT=3098
UNCACHED_PORT=3097
UNCACHED="http://127.0.0.1:$UNCACHED_PORT"
OUT="$ROOT/bench-results"
mkdir -p "$OUT"

apt_install wrk curl python3
ensure_frontend_tools
ensure_chromium
build_spa
say "Building the client-rendered bundle (csr) for the navigation comparison"
wasm_cargo_env env PATH="$ROOT/node_modules/.bin:$PATH" trunk build --release --features csr --dist target/dist-csr
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN   # an already built release binary
else
  say "Building the server in release"
  cargo build --release --locked -p server
  BIN="$ROOT/target/release/tracklist"
fi
say "Building the reference server (bench/reference) in release"
cargo build --release --locked -p reference
REFERENCE_BIN="$ROOT/target/release/tracklist-reference"
REFERENCE_PORT=3096
REFERENCE="http://127.0.0.1:$REFERENCE_PORT"

SERVER_PID=
MEMORY_PID=
UNCACHED_PID=
REFERENCE_PID=
# The reference has no graceful shutdown: SIGTERM ends it with status 143, which is fine.
stop_reference() { [ -n "$REFERENCE_PID" ] && kill "$REFERENCE_PID" 2>/dev/null && { wait "$REFERENCE_PID" 2>/dev/null || true; }; REFERENCE_PID=; }
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=; }
stop_memory_server() { [ -n "$MEMORY_PID" ] && kill "$MEMORY_PID" 2>/dev/null && wait "$MEMORY_PID" 2>/dev/null; MEMORY_PID=; }
stop_uncached_server() { [ -n "$UNCACHED_PID" ] && kill "$UNCACHED_PID" 2>/dev/null && wait "$UNCACHED_PID" 2>/dev/null; UNCACHED_PID=; }
cleanup() { stop_server; stop_memory_server; stop_uncached_server; stop_reference; stop_services; }
trap cleanup EXIT

# launch PORT DATABASE_URL [SERVE_ARGS...]: a server with the demo user; sets LAUNCHED_PID.
launch() {
  local port=$1 database_url=$2
  shift 2
  local args=(serve --bind "127.0.0.1:$port" --demo --database-url "$database_url"
    --login-max-failures 1000000000 --login-max-failures-per-client 1000000000 "$@")
  RUST_LOG=warn "$BIN" "${args[@]}" >>"$OUT/server.log" 2>&1 &
  LAUNCHED_PID=$!
  wait_until_up "http://127.0.0.1:$port"
}

# start_server DATABASE_URL [SESSION_STORE]: fresh server with the demo user, 10 000 tracks.
start_server() {
  : >"$OUT/server.log"
  local store=()
  [ -n "${2:-}" ] && store=(--session-store "$2")
  launch "$PORT" "$1" "${store[@]}" --static-dir "$ROOT/dist"
  SERVER_PID=$LAUNCHED_PID
  seed_tracks "$1"
  COOKIE=$(demo_session_cookie "$BASE")
  [ -n "$COOKIE" ] || { echo "could not sign in"; exit 1; }
}

# start_memory_server DATABASE_URL: the same server with sessions in memory, on its own port,
# the baseline for what the durable session store costs.
start_memory_server() {
  launch "$MEMORY_PORT" "$1" --session-store memory
  MEMORY_PID=$LAUNCHED_PID
  MEMORY_COOKIE=$(demo_session_cookie "http://127.0.0.1:$MEMORY_PORT")
  [ -n "$MEMORY_COOKIE" ] || { echo "could not sign in"; exit 1; }
}

# start_reference: the minimal axum + tower-sessions server every ratio is measured against.
start_reference() {
  "$REFERENCE_BIN" "127.0.0.1:$REFERENCE_PORT" >>"$OUT/server.log" 2>&1 &
  REFERENCE_PID=$!
  for _ in $(seq 100); do curl -sf "$REFERENCE/" >/dev/null && break; sleep 0.1; done
  REFERENCE_COOKIE=$(demo_session_cookie "$REFERENCE")
  [ -n "$REFERENCE_COOKIE" ] || { echo "could not sign in to the reference"; exit 1; }
}

# start_uncached_server DATABASE_URL: a server on the same (seeded) database with the
# catalogue page cache off, to show what reading each page costs.
start_uncached_server() {
  launch "$UNCACHED_PORT" "$1" --catalogue-cache-mib 0
  UNCACHED_PID=$LAUNCHED_PID
}

seed_tracks() {
  local sql="INSERT INTO tracks (title, artist, album, year) SELECT 'Song ' || n, 'Artist ' || (n % 500), 'Album ' || (n % 900), 1950 + (n % 70)"
  case $1 in
    sqlite://*) python3 - "${1#sqlite://}" <<PY
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 9996) $sql FROM s")
# As after any bulk import: merge the search index's segments (FTS5's advice for bulk loads).
db.execute("INSERT INTO tracks_search (tracks_search) VALUES ('optimize')")
db.commit()
PY
    ;;
    # As after any bulk import: fresh statistics, which searches pick their trigram by.
    postgres://*) psql -q "$1" -c "$sql FROM generate_series(1, 9996) AS n" -c "ANALYZE" ;;
  esac
}

ROWS=()
declare -A RPS BEST P50 P99   # by "backend|request", for the targets table

# wrk_run SECONDS CLIENTS [wrk args...]: one bounded wrk run; prints wrk's report and two
# last lines: `wrk CPU N%` (the load generator shares the 2 cores with the server, so its own
# share is reported next to every row) and `steal N%` (see steal_since).
wrk_run() {
  local seconds=$1 clients=$2; shift 2
  local threads=$(( clients < 2 ? clients : 2 ))
  local TIMEFORMAT='wrk CPU %P' before
  before=$(head -n 1 /proc/stat)
  { time wrk -t"$threads" -c"$clients" -d"${seconds}s" --latency "$@"; } 2>&1
  steal_since "$before"
}

# steal_since LINE: `steal N%`, the share of the machine's CPU time since LINE (the first
# line of /proc/stat then) that the hypervisor gave to other guests: on a shared machine,
# the rows of a run with much of it are slower than the machine is, and not all alike.
steal_since() {
  awk -v before="$1" 'NR == 1 {
    split(before, then)
    for (i = 2; i <= 9; i++) total += $i - then[i]
    printf "steal %.1f%%\n", (total > 0 ? 100 * ($9 - then[9]) / total : 0)
  }' /proc/stat
}

# run NAME [wrk args...]: one run of SECONDS_PER_RUN with CONNECTIONS clients, recorded.
run() {
  local name=$1; shift
  record "$name" "$(wrk_run "$SECONDS_PER_RUN" "$CONNECTIONS" "$@")"
}

# run_one NAME [wrk args...]: the same with a single client, for the latency of one request.
run_one() {
  local name=$1; shift
  record "$name" "$(wrk_run "$SECONDS_PER_RUN" 1 "$@")"
}

# record NAME REPORTS: a table row from one or more wrk reports of the same request: req/s
# is their mean (equal durations), best the best of them, p50 their median, p99 the worst,
# errors their sum. The targets compare the means; the best rounds are shown beside, since on
# a shared machine whatever else runs (other guests, through the hypervisor's steal) only
# ever slows a round down: a row whose best round is well above its mean had a contended run.
record() {
  local name=$1 rps best p50 p99 non2xx sock wrk_cpu steal
  read -r rps best p50 p99 non2xx sock wrk_cpu steal < <(awk '
    function us(v) {
      if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000
      if (v ~ /m$/) return v * 60e6; if (v ~ /s$/) return v * 1e6; return v + 0
    }
    function shown(u) { return u >= 1000 ? sprintf("%.2fms", u / 1000) : sprintf("%.2fus", u) }
    /^Requests\/sec/ { rps += $2; runs++; if ($2 > best) best = $2 }
    $1 == "50%" { p50[++k] = us($2) }
    $1 == "99%" { if (us($2) > p99) p99 = us($2) }
    /Non-2xx/ { non2xx += $5 }
    /Socket errors/ { gsub(",", ""); sock += $4 + $6 + $8 + $10 }
    /^wrk CPU/ { cpu += $3; cpus++ }
    /^steal/ { stolen += $2; steals++ }
    END {
      for (i = 2; i <= k; i++) for (j = i; j > 1 && p50[j - 1] > p50[j]; j--) { t = p50[j]; p50[j] = p50[j - 1]; p50[j - 1] = t }
      median = k % 2 ? p50[(k + 1) / 2] : (p50[k / 2] + p50[k / 2 + 1]) / 2
      printf "%.2f %.2f %s %s %d %d %.0f%% %.1f%%\n", rps / runs, best, shown(median), shown(p99), non2xx, sock, cpus ? cpu / cpus : 0, steals ? stolen / steals : 0
    }' <<<"$2")
  ROWS+=("| $BACKEND | $name | $rps | $best | $p50 | $p99 | $non2xx | $sock | $wrk_cpu | $steal |")
  RPS["$BACKEND|$name"]=$rps
  BEST["$BACKEND|$name"]=$best
  P50["$BACKEND|$name"]=$p50
  P99["$BACKEND|$name"]=$p99
  printf '%-16s %-48s %10s req/s (best round %s)  p50 %-9s p99 %-9s non-2xx %-7s socket errors %-3s wrk CPU %-4s steal %s\n' "$BACKEND" "$name" "$rps" "$best" "$p50" "$p99" "$non2xx" "$sock" "$wrk_cpu" "$steal"
}

# The rows the ratio targets compare, and what each requests.
COMPARED=("GET /healthz" "GET /tracks?limit=20 (10k tracks)" "GET /tracks?q=song 9 (search)"
  "GET /tracks?limit=20, page cache off" "GET /tracks?q=song 9, page cache off"
  "GET /tracks?limit=20&skip=(random 0–200), page cache off" "GET /tracks?q=song (random 1–999), page cache off"
  "GET /users/me (session)" "GET /users/me (session), in-memory store" "GET /users/me (no session, 401)"
  "GET / rendered page (session)"
  "reference: GET / (bare route)" "reference: GET /users/me (session)" "reference: GET /users/me (no session, 401)")
compared_request() {
  case $1 in
    "GET /healthz") echo "$BASE/healthz" ;;
    "GET /tracks?limit=20 (10k tracks)") echo "$BASE/tracks?limit=20" ;;
    "GET /tracks?q=song 9 (search)") echo "$BASE/tracks?q=song%209&limit=20" ;;
    "GET /tracks?limit=20, page cache off") echo "$UNCACHED/tracks?limit=20" ;;
    "GET /tracks?q=song 9, page cache off") echo "$UNCACHED/tracks?q=song%209&limit=20" ;;
    *"(random"*) echo "$UNCACHED" ;;
    "GET /users/me (session)") echo "$BASE/users/me" ;;
    "GET /users/me (session), in-memory store") echo "http://127.0.0.1:$MEMORY_PORT/users/me" ;;
    "GET / rendered page (session)") echo "$BASE/" ;;
    "GET /users/me (no session, 401)") echo "$BASE/users/me" ;;
    "reference: GET / (bare route)") echo "$REFERENCE/" ;;
    "reference: GET /users/me"*) echo "$REFERENCE/users/me" ;;
  esac
}

# in_turns: the compared rows take turns, ROUNDS rounds of SECONDS_PER_RUN / ROUNDS seconds
# each, so that the drift of a shared machine falls on all of them alike.
in_turns() {
  local -A reports=()
  local round name seconds
  local -a extra script_args
  seconds=$(awk -v s="$SECONDS_PER_RUN" -v r="$ROUNDS" 'BEGIN { n = int(s / r); print n < 1 ? 1 : n }')
  for ((round = 1; round <= ROUNDS; round++)); do
    for name in "${COMPARED[@]}"; do
      script_args=()
      case $name in
        *"in-memory store") [ -n "$MEMORY_PID" ] || continue; extra=(-H "Cookie: $MEMORY_COOKIE") ;;
        "reference: "*"(session)") extra=(-H "Cookie: $REFERENCE_COOKIE") ;;
        *"(session)") extra=(-H "Cookie: $COOKIE") ;;
        *"skip=(random"*) extra=(-s "$ROOT/bench/pages.lua") ;;
        *"q=song (random"*) extra=(-s "$ROOT/bench/pages.lua"); script_args=(-- search) ;;
        *) extra=() ;;
      esac
      reports[$name]+=$(wrk_run "$seconds" "$CONNECTIONS" "${extra[@]}" "$(compared_request "$name")" "${script_args[@]}")$'\n'
    done
  done
  for name in "${COMPARED[@]}"; do
    if [ -n "${reports[$name]:-}" ]; then record "$name" "${reports[$name]}"; fi
  done
}

bench_backend() {
  in_turns
  run "POST /login (correct password)" -s "$ROOT/bench/login.lua" "$BASE/login"
  run_one "POST /login, one client" -s "$ROOT/bench/login.lua" "$BASE/login"
  # /users/me latency while 32 clients hammer the login.
  wrk_run "$((SECONDS_PER_RUN + 2))" 32 -s "$ROOT/bench/login.lua" "$BASE/login" >/dev/null &
  local hammer=$!
  sleep 1
  local report
  report=$(wrk_run "$SECONDS_PER_RUN" 4 -H "Cookie: $COOKIE" "$BASE/users/me")
  wait "$hammer"
  record "GET /users/me while 32 clients log in" "$report"
}

# ratio TARGET BACKEND REQUEST BASE_REQUEST [MINIMUM]: one row of the targets table, with
# met / not met when the target is a MINIMUM ratio (of the two rows' means; their best
# rounds' ratio shown beside).
ratio() {
  local value best verdict=""
  # Judged on the ratio itself, not on its rounding: 0.698 is short of 0.7, and shown so.
  read -r value verdict < <(awk -v a="${RPS[$2|$3]}" -v b="${RPS[$2|$4]}" -v m="${5:-}" 'BEGIN {
    r = a / b; shown = sprintf("%.2f", r)
    if (m == "") { print shown; exit }
    if (r < m && shown + 0 >= m) shown = sprintf("%.3f", r)
    print shown, (r >= m ? "met" : "**not met**") }')
  best=$(awk -v a="${BEST[$2|$3]}" -v b="${BEST[$2|$4]}" 'BEGIN { printf "%.2f", a / b }')
  echo "| $1 | $2 | ${RPS[$2|$3]} / ${RPS[$2|$4]} = **${value}×** | ${best}× | $verdict |"
}

# argon2_bound BACKEND: sign-ins per second against what the hashing pool allows, one verify
# per sign-in on each of its threads (one per core), a verify lasting one lone sign-in's p50.
argon2_bound() {
  local p50=${P50[$1|POST /login, one client]}
  local ceiling
  ceiling=$(awk -v p="$p50" -v cores="$(nproc)" 'BEGIN {
    ms = p + 0; if (p ~ /us$/) ms /= 1000; else if (p ~ /[0-9]s$/) ms *= 1000
    printf "%.0f", cores * 1000 / ms }')
  echo "| sign-ins bound by Argon2 (≈ cores ÷ one sign-in's p50 = $ceiling/s) | $1 | ${RPS[$1|POST /login (correct password)]} req/s | | |"
}

# bundle_size: the gzipped wasm and JavaScript a browser downloads to hydrate the pages.
bundle_size() {
  local wasm js
  wasm=$(stat -c %s "$ROOT"/dist/frontend-*_bg.wasm.gz)
  js=$(stat -c %s "$ROOT"/dist/frontend-*.js.gz)
  local verdict=met
  [ $((wasm + js)) -le 300000 ] || verdict="**not met**"
  echo "| hydrate bundle ≤ 300 KB gzip | wasm + js | $((wasm / 1000)) KB + $((js / 1000)) KB = **$(((wasm + js) / 1000)) KB** | | $verdict |"
}

WORK=$(mktemp -d)
BACKEND="sqlite"
say "SQLite, sessions in the database (and in memory on a second server, as the baseline)"
start_server "sqlite://$WORK/bench.db"
start_memory_server "sqlite://$WORK/memory.db"
start_uncached_server "sqlite://$WORK/bench.db"
start_reference
bench_backend
stop_reference
stop_uncached_server
stop_memory_server
stop_server

[ "${1:-}" = "--all" ] && ensure_service_packages
# Installed as the services crate looks for them (Debian's PostgreSQL under /usr/lib).
postgres_installed() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
if [ "${1:-}" != "--sqlite" ] && postgres_installed && command -v redis-server >/dev/null; then
  start_services
  BACKEND="postgres+redis"
  say "PostgreSQL, sessions in Redis"
  psql -q "$TRACKLIST_TEST_POSTGRES" -c "CREATE DATABASE bench"
  start_server "${TRACKLIST_TEST_POSTGRES%/*}/bench" "$TRACKLIST_TEST_REDIS"
  start_uncached_server "${TRACKLIST_TEST_POSTGRES%/*}/bench"
  start_reference
  bench_backend
  stop_reference
  stop_uncached_server
  stop_server
else
  say "PostgreSQL + Redis skipped (not installed; scripts/bench.sh --all installs them)"
fi
rm -rf "$WORK"

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)),"
  echo "wrk -t2 -c$CONNECTIONS for ${SECONDS_PER_RUN}s per row, load generator on the same machine;"
  echo "the rows a ratio compares took turns in $ROUNDS rounds (req/s: their mean, which the targets compare; best round: the fastest; p50: median; p99: worst);"
  echo "wrk CPU: the load generator's own share of one core (user + system over wall time), per row;"
  echo "steal: the share of the machine's CPU time the hypervisor gave to other guests meanwhile (the mean of the row's runs)."
  echo
  echo "| backend | request | req/s | best round | p50 | p99 | non-2xx | socket errors | wrk CPU | steal |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "| target (ratios within this run) | backend | measured | best rounds | |"
  echo "|---|---|---|---|---|"
  for backend in sqlite postgres+redis; do
    [ -n "${RPS[$backend|GET /healthz]:-}" ] || continue
    ratio "/users/me with a session ≥ 0.5× the reference's" "$backend" "GET /users/me (session)" "reference: GET /users/me (session)" 0.5
    ratio "/users/me without a session (401) ≥ 0.7× the reference's" "$backend" "GET /users/me (no session, 401)" "reference: GET /users/me (no session, 401)" 0.7
    ratio "/healthz ≥ 0.8× the reference's bare route" "$backend" "GET /healthz" "reference: GET / (bare route)" 0.8
    local_minimum=$([ "$backend" = sqlite ] && echo 0.5 || echo 0.3)
    ratio "tracks list, page cache off ≥ ${local_minimum}× /healthz" "$backend" "GET /tracks?limit=20, page cache off" "GET /healthz" "$local_minimum"
    ratio "tracks search, page cache off ≥ ${local_minimum}× /healthz" "$backend" "GET /tracks?q=song 9, page cache off" "GET /healthz" "$local_minimum"
    # No target: each request a different page, so none share a read; what one read costs.
    ratio "tracks list, page cache off, a different page each time (no target)" "$backend" "GET /tracks?limit=20&skip=(random 0–200), page cache off" "GET /healthz"
    ratio "tracks search, page cache off, a different term each time (no target)" "$backend" "GET /tracks?q=song (random 1–999), page cache off" "GET /healthz"
    ratio "tracks list (page cache on) ≥ 0.5× /healthz" "$backend" "GET /tracks?limit=20 (10k tracks)" "GET /healthz" 0.5
    ratio "tracks search (page cache on) ≥ 0.5× /healthz" "$backend" "GET /tracks?q=song 9 (search)" "GET /healthz" 0.5
    ratio "rendered GET / (signed in, 20 tracks) ≥ 0.25× /healthz" "$backend" "GET / rendered page (session)" "GET /healthz" 0.25
    p99_ms=$(awk -v p="${P99[$backend|GET /users/me while 32 clients log in]}" 'BEGIN { ms = p + 0; if (p ~ /us$/) ms /= 1000; else if (p ~ /[0-9]s$/ && p !~ /ms$/) ms *= 1000; print (ms < 10) ? "met" : "**not met**" }')
    echo "| /users/me p99 < 10 ms while 32 clients log in | $backend | ${P99[$backend|GET /users/me while 32 clients log in]} | | $p99_ms |"
    argon2_bound "$backend"
  done
  ratio "/users/me, durable store ≥ 0.9× in-memory store" sqlite "GET /users/me (session)" "GET /users/me (session), in-memory store" 0.9
  bundle_size
  echo
  TRACKLIST_BIN="$BIN" TRACKLIST_DIST="$ROOT/dist" CSR_DIST="$ROOT/target/dist-csr" node "$ROOT/bench/navigation.mjs" "${BENCH_TURNS:-10}"
  if [ "${BENCH_GROWTH:-0}" = 1 ]; then
    echo
    python3 "$ROOT/bench/growth.py" "$BIN" "$SECONDS_PER_RUN"
  fi
} >"$OUT/results.md"
say "Table written to bench-results/results.md"
cat "$OUT/results.md"
