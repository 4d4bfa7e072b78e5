#!/usr/bin/env bash
# In-browser vs native throughput on the same workload (src/bench.rs), in one run:
#   - the app's threaded worker (dist/mt) in headless Chromium on 1 thread and on every core, and
#     its single-threaded worker (dist/, for pages that are not cross-origin isolated), driven
#     through the worker protocol by tests/e2e/threads.mjs --bench;
#   - the native CLI on one core (taskset) and on every core.
# Prints the figures, the scaling of the browser's threads and the browser/native ratios.
set -euo pipefail
datasets=${TICKETSIM_DATASETS:-../shared/datasets}
bin=${CARGO_TARGET_DIR:-target}/release/ticketsim
cores=$(nproc)
cargo build --release --quiet
make --no-print-directory web >/dev/null
wasm_out=$(node tests/e2e/threads.mjs dist "$datasets" --bench "$cores" 2>&1) || {
  echo "$wasm_out" | tail -30
  exit 1
}
line() { echo "$wasm_out" | grep -o "BENCH_WASM $1 {.*}" | head -1 | sed "s/^BENCH_WASM $1 //"; }
mt1=$(line mt1) mtn=$(line mtN) st=$(line st)
if [ -z "$mt1" ] || [ -z "$mtn" ] || [ -z "$st" ]; then
  echo "$wasm_out" | tail -30
  echo "bench-web: missing BENCH_WASM lines in the browser's output" >&2
  exit 1
fi
native1=$(taskset -c 0 "$bin" bench workload --model minilm --sts "$datasets/stsbenchmark")
nativen=$("$bin" bench workload --model minilm --sts "$datasets/stsbenchmark")
python3 - "$mt1" "$mtn" "$st" "$native1" "$nativen" "$cores" <<'PY'
import json, sys
mt1, mtn, st, n1, nn = (json.loads(a) for a in sys.argv[1:6])
cores = int(sys.argv[6])
def row(name, f):
    print(f"  {name:<34} {f['pairs_per_second']:7.2f} pairs/s  {f['sentences_per_second']:7.1f} sentences/s  "
          f"GEMM {f['gemm_gflops']:5.1f} GFLOP/s  ({f['threads']} thread(s))")
print(f"workload: encode {mt1['sentences']} STS-B sentences, {mt1['timed_steps']} timed training steps of 32 pairs (MiniLM)")
row("browser, threaded build, 1 thread", mt1)
row(f"browser, threaded build, {cores} threads", mtn)
row("browser, single-threaded build", st)
row("native CLI, 1 core", n1)
row(f"native CLI, {cores} cores", nn)
print(f"browser scaling {cores} threads / 1: training {mtn['pairs_per_second'] / mt1['pairs_per_second']:.2f}x (target >= 1.7x), "
      f"encode {mtn['sentences_per_second'] / mt1['sentences_per_second']:.2f}x")
print(f"browser ({cores} threads) / native CLI ({cores} cores): training {mtn['pairs_per_second'] / nn['pairs_per_second']:.2f}x (target >= 0.5x), "
      f"encode {mtn['sentences_per_second'] / nn['sentences_per_second']:.2f}x")
print(f"browser (1 thread) / native CLI (1 core): training {mt1['pairs_per_second'] / n1['pairs_per_second']:.2f}x, "
      f"encode {mt1['sentences_per_second'] / n1['sentences_per_second']:.2f}x")
print(f"GEMM 1024x384 @ 384x1536: threaded build {mt1['gemm_gflops']:.1f}, single-threaded build {st['gemm_gflops']:.1f}, "
      f"native 1 core {n1['gemm_gflops']:.1f} GFLOP/s")
same = mt1['step_losses'] == mtn['step_losses'] == st['step_losses'] and mt1['trained_sha256'] == mtn['trained_sha256'] == st['trained_sha256']
print(f"same losses and weights across the browser runs: {same}; final loss browser {mt1['final_loss']:.6f}, native {n1['final_loss']:.6f}")
print(json.dumps({"browser_mt1": mt1, "browser_mtN": mtn, "browser_st": st, "native_1": n1, "native_N": nn}))
PY
