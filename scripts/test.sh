#!/usr/bin/env bash
# Every check, with its own set-up: format, lints, the Rust tests (unit + API integration),
# the wasm32 builds of shared and frontend, and the browser tests in headless Chromium.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_frontend_tools
ensure_chromium

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy (warnings are errors)"
cargo clippy --locked --workspace --all-targets -- -D warnings
say "cargo test --workspace"
cargo test --locked --workspace
say "Checking that shared compiles for wasm32"
wasm_cargo build --locked --target wasm32-unknown-unknown -p shared
build_spa
say "Browser tests (screenshots in screenshots/)"
cargo build --locked -p server
node --test --test-concurrency=1 e2e/
