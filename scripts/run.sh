#!/usr/bin/env bash
# Installs what is missing, builds the browser bundle and the server in release, and runs Tracklist on
# http://127.0.0.1:3000 with SQLite (tracklist.db) and the demo user.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_frontend_tools
build_spa
say "Building the server in release (a few minutes the first time)"
cargo build --release --locked -p server
say "Starting Tracklist on http://127.0.0.1:3000  (sign in as john / tracklist-demo-password; Ctrl-C stops)"
exec target/release/tracklist serve --bind 127.0.0.1:3000 --database-url sqlite://tracklist.db --static-dir dist --demo "$@"
