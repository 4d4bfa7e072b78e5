#!/usr/bin/env bash
# Install what building and testing ticketsim needs, skipping whatever is already there.
# Idempotent; run by `make run` and `make test` (so by CI on a fresh machine too).
set -euo pipefail
log() { echo "setup: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The threaded web worker (scripts/build-worker-mt.sh) rebuilds std with wasm atomics: that needs
# a nightly toolchain (-Z build-std) and its standard-library source.
if ! rustup toolchain list | grep -q '^nightly'; then
  log "installing the nightly toolchain (the threaded web worker's -Z build-std)"
  rustup toolchain install nightly --profile minimal
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^rust-src'; then
  log "adding rust-src to nightly"
  rustup component add rust-src --toolchain nightly
fi

# trunk 0.22 needs a newer rustc than this toolchain; 0.21.14 is the last that builds here.
if ! trunk --version 2>/dev/null | grep -q '0\.21\.14'; then
  log "installing trunk 0.21.14"
  cargo install trunk --version 0.21.14 --locked
fi
# wasm-bindgen-cli must match the wasm-bindgen crate version in Cargo.lock exactly.
wbg=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wbg"; then
  log "installing wasm-bindgen-cli $wbg"
  cargo install wasm-bindgen-cli --version "$wbg" --force
fi

# Headless Chromium + ChromeDriver for the in-browser tests (Debian packages).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing chromium and chromium-driver"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# Node.js + playwright-core for the end-to-end test (it drives the Debian Chromium above; no
# browser download). The version is pinned in tests/e2e/package-lock.json.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs and npm"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' tests/e2e/package.json)
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' tests/e2e/node_modules/playwright-core/package.json 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  log "installing playwright-core $want for the end-to-end test"
  (cd tests/e2e && npm ci --no-audit --no-fund --silent)
fi
