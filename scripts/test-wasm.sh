#!/usr/bin/env bash
# Run the wasm32 tests (tests/web.rs, tests/web_canvas.rs) in headless Chromium, with the model
# cache and the reference outputs served on loopback by scripts/test-server.py.
set -euo pipefail
port=${TICKETSIM_TEST_PORT:-8765}
source scripts/test-server-up.sh
cargo test --release --target wasm32-unknown-unknown --test web --test web_canvas "$@"
