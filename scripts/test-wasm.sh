#!/usr/bin/env bash
# Run the wasm32 tests (tests/web.rs) in headless Chromium, with the model cache and the reference
# outputs served on loopback by scripts/test-server.py.
set -euo pipefail
port=${TICKETSIM_TEST_PORT:-8765}
models=${TICKETSIM_MODELS:-$HOME/.cache/ticketsim/models}
reference=${TICKETSIM_REFERENCE:-../shared/reference}
python3 scripts/test-server.py "$port" "$models" "$reference" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/reference/sentences.json" && break
  sleep 0.1
done
export TICKETSIM_TEST_SERVER="http://127.0.0.1:$port"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
# The default per-test timeout (20 s) is too short for all-mpnet-base-v2 on one wasm thread.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-900}
cargo test --release --target wasm32-unknown-unknown --test web --test web_canvas "$@"
