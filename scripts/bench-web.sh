#!/usr/bin/env bash
# In-browser vs native throughput on the same workload (src/bench.rs), in one run: the wasm build
# in a Web Worker in headless Chromium, and the native CLI pinned to one core (the browser gives a
# worker one thread). Prints both and their ratios.
set -euo pipefail
port=${TICKETSIM_TEST_PORT:-8766}
datasets=${TICKETSIM_DATASETS:-../shared/datasets}
bin=${CARGO_TARGET_DIR:-target}/release/ticketsim
cargo build --release --quiet
source scripts/test-server-up.sh
# The profile the app is built with (www/index.html's data-cargo-profile).
profile=${WASM_PROFILE:-wasm-release}
wasm_out=$(cargo test --profile "$profile" --target wasm32-unknown-unknown --test web_bench -- --nocapture 2>&1) || {
  echo "$wasm_out" | tail -30
  exit 1
}
wasm=$(echo "$wasm_out" | grep -o 'BENCH_WASM {.*}' | head -1 | sed 's/^BENCH_WASM //')
if [ -z "$wasm" ]; then
  echo "$wasm_out" | tail -30
  echo "bench-web: no BENCH_WASM line in the browser's output" >&2
  exit 1
fi
native=$(taskset -c 0 "$bin" bench workload --model minilm --sts "$datasets/stsbenchmark")
python3 - "$wasm" "$native" <<'PY'
import json, sys
w, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"encode: wasm {w['sentences_per_second']:.1f} sentences/s, native (1 core) {n['sentences_per_second']:.1f}: ratio {w['sentences_per_second'] / n['sentences_per_second']:.2f}x")
print(f"train:  wasm {w['pairs_per_second']:.2f} pairs/s, native (1 core) {n['pairs_per_second']:.2f}: ratio {w['pairs_per_second'] / n['pairs_per_second']:.2f}x (target >= 0.8x)")
print(f"final loss: wasm {w['final_loss']:.6f}, native {n['final_loss']:.6f}")
g = w['gemm_gflops'] / n['gemm_gflops']
print(f"GEMM {w.get('gemm_gflops', 0):.1f} vs {n['gemm_gflops']:.1f} GFLOP/s (1024x384 @ 384x1536): ratio {g:.2f}x")
# GEMM is ~78% of a native step (perf profile, README): with everything else at native speed the
# step ratio could be at most 1 / (0.78 / g + 0.22).
print(f"  => training ratio ceiling with everything but GEMM at native speed: {1 / (0.78 / g + 0.22):.2f}x")
print(json.dumps({"wasm": w, "native": n, "encode_ratio": w['sentences_per_second'] / n['sentences_per_second'], "train_ratio": w['pairs_per_second'] / n['pairs_per_second'], "gemm_ratio": g}))
PY
