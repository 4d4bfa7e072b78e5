# shellcheck shell=bash disable=SC2154  # sourced: $port etc. come from the sourcing script
# Sourced by test-wasm.sh and bench-web.sh: start scripts/test-server.py on $port (models,
# reference outputs, datasets) for the in-browser tests, stop it on exit, and point
# TICKETSIM_TEST_SERVER and the wasm-bindgen test runner at it.
models=${TICKETSIM_MODELS:-$HOME/.cache/ticketsim/models}
reference=${TICKETSIM_REFERENCE:-../shared/reference}
datasets=${TICKETSIM_DATASETS:-../shared/datasets}
python3 scripts/test-server.py "$port" "$models" "$reference" "$datasets" &
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
