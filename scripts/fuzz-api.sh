#!/usr/bin/env bash
# Property-based API fuzzing: schemathesis generates requests from /openapi.json for every
# operation (signed in as the demo user) and fails on any 5xx. Uses the debug server build.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_schemathesis

PORT=3097
WORK=$(mktemp -d)
target/debug/tracklist serve --bind "127.0.0.1:$PORT" --demo --database-url "sqlite://$WORK/fuzz.db" \
  --login-max-failures-per-client 1000000000 >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
wait_until_up "http://127.0.0.1:$PORT"
COOKIE=$(demo_session_cookie "http://127.0.0.1:$PORT")
# /logout, and revoking a session by the reference GET /users/me/sessions showed (DELETE, or
# the POST an HTML form sends), would end
# the session the other operations are tested with. The stateful phase is left out: its link
# inference in schemathesis 4.32.5 feeds response fields named `id` (integers) into the
# session cookie, also named `id`, and crashes in requests' cookie jar.
.tools/venv/bin/schemathesis run "http://127.0.0.1:$PORT/openapi.json" \
  --checks not_a_server_error --max-examples "${FUZZ_EXAMPLES:-50}" \
  --phases examples,coverage,fuzzing --exclude-path /logout --exclude-path '/users/me/sessions/{id}' \
  --exclude-path '/users/me/sessions/{id}/revoke' \
  -H "Cookie: $COOKIE" --no-color
