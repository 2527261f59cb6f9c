#!/usr/bin/env bash
# Every check, with its own set-up: format, lints, the Rust tests (unit + API integration),
# the wasm32 builds of shared and frontend (hydrate, and csr for trunk serve), schemathesis,
# and the browser tests in headless Chromium, with JavaScript and without.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/services.sh"

ensure_frontend_tools
ensure_chromium
ensure_service_packages
ensure_schemathesis

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy (warnings are errors)"
cargo clippy --locked --workspace --all-targets -- -D warnings
say "cargo test --workspace (API suite on SQLite with sessions in the database)"
# The fault tests start their own Redis and PostgreSQL; they run once, in the pass below.
cargo test --locked --workspace -- --skip faults::
start_services
trap stop_services EXIT
say "API suite again on PostgreSQL with sessions in Redis, plus scale-out and fault tests"
# `--workspace` as above: the same features for every dependency, so nothing is built twice.
cargo test --locked --workspace --test api || { show_service_logs; exit 1; }
say "Checking that shared compiles for wasm32"
wasm_cargo build --locked --target wasm32-unknown-unknown -p shared
say "Checking the client-rendered build trunk serve uses (csr)"
wasm_cargo check --locked --target wasm32-unknown-unknown -p frontend --features csr
build_spa
# The schemathesis and browser runs start target/debug/tracklist, which the test build made.
say "API fuzzing: schemathesis against /openapi.json, signed in, no 5xx allowed"
scripts/fuzz-api.sh
say "Browser tests (screenshots in screenshots/)"
node --test --test-concurrency=1 e2e/
