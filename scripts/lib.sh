# Shared by scripts/run.sh and scripts/test.sh: installs what is missing, idempotently and
# without prompting. Every step says what it does; long ones say so first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

TRUNK_VERSION=0.22.1
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
# Set by ensure_wasm_std: "rustup" or "debian" (std built from source by Debian's cargo).
WASM_STD=

say() { printf '\033[1;34m==>\033[0m \033[1m%s\033[0m\n' "$*"; }

APT_UPDATED=
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  say "Installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The wasm32 standard library, by the first path that works (see ../shared/TOOLCHAIN.md).
ensure_wasm_std() {
  local sysroot
  sysroot=$(rustc --print sysroot)
  if [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]; then
    WASM_STD=rustup; return 0
  fi
  say "Adding the wasm32-unknown-unknown target with rustup (up to 3 minutes)"
  if timeout 180 rustup target add wasm32-unknown-unknown; then
    WASM_STD=rustup; return 0
  fi
  say "rustup could not fetch it: using Debian's Rust, which builds std for wasm32 from source"
  apt_install rustc-web cargo-web rust-web-src lld-22
  WASM_STD=debian
  wasm_cargo fetch --target wasm32-unknown-unknown >/dev/null
}

# Runs a command that builds for wasm32 with the toolchain ensure_wasm_std chose.
wasm_cargo_env() {
  if [ "$WASM_STD" = debian ]; then
    env PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort "$@"
  else
    "$@"
  fi
}
wasm_cargo() { wasm_cargo_env cargo "$@"; }

ensure_trunk() {
  if trunk --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then return 0; fi
  say "Installing trunk $TRUNK_VERSION from crates.io (about 9 minutes on 2 cores, once)"
  cargo install "trunk@$TRUNK_VERSION" --locked --ignore-rust-version
}

ensure_wasm_bindgen() {
  if wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $WASM_BINDGEN_VERSION"; then return 0; fi
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io (about 2 minutes, once)"
  # --locked fails to resolve for this version here; the exact version pin is what matters.
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
}

# binaryen's wasm-opt (Debian's 108 breaks wasm-bindgen output) and playwright-core.
ensure_node_tools() {
  if [ -x node_modules/.bin/wasm-opt ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    return 0
  fi
  command -v npm >/dev/null || apt_install nodejs npm
  say "Installing npm packages (binaryen, playwright-core, swagger-ui-dist)"
  npm ci --no-audit --no-fund --loglevel=error
}

ensure_chromium() {
  apt_install chromium
}

ensure_frontend_tools() {
  ensure_wasm_std
  ensure_trunk
  ensure_wasm_bindgen
  ensure_node_tools
}

# Builds the browser bundle (hydrate) in release into dist/, unless dist/ is newer than every input.
build_spa() {
  local newer
  newer=$(find crates/frontend crates/shared docs-ui Cargo.toml Cargo.lock Trunk.toml package-lock.json -newer dist/.built -print -quit 2>/dev/null || echo missing)
  if [ -f dist/.built ] && [ -z "$newer" ]; then
    say "The browser bundle in dist/ is up to date"
    return 0
  fi
  say "Building the browser bundle in release with trunk (about 2 minutes the first time)"
  # `hydrate`: the bundle takes over the pages the server rendered (Trunk.toml's `csr` is
  # for `trunk serve`, which has no server rendering).
  wasm_cargo_env env PATH="$ROOT/node_modules/.bin:$PATH" trunk build --release --features hydrate
  # The API documentation at /docs: Swagger UI's files from npm, served like the bundle.
  mkdir -p dist/docs
  cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css dist/docs/
  cp docs-ui/index.html docs-ui/init.js dist/docs/
  # Compressed once here rather than on every request by the server.
  find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -exec gzip -9 -k -f {} +
  touch dist/.built
}

# schemathesis (PyPI) in a private virtualenv, for the API fuzz run.
SCHEMATHESIS_VERSION=4.32.5
ensure_schemathesis() {
  if .tools/venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then return 0; fi
  say "Installing schemathesis $SCHEMATHESIS_VERSION from PyPI (about a minute, once)"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
}

# wait_until_up BASE_URL: until the server at BASE_URL answers /healthz (10 s at most).
wait_until_up() {
  for _ in $(seq 100); do curl -sf "$1/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "the server at $1 did not come up" >&2
  return 1
}

# demo_session_cookie BASE_URL: signs in as the demo user; prints `id=…` for a Cookie header.
demo_session_cookie() {
  curl -s -D - -o /dev/null -d username=john -d password=tracklist-demo-password "$1/login" \
    | sed -n 's/^set-cookie: \(id=[^;]*\).*/\1/Ip' | tr -d '\r'
}
