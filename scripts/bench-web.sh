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
models=${TICKETSIM_MODELS:-$HOME/.cache/ticketsim/models}
wasm_out=$(node tests/e2e/threads.mjs dist "$datasets" --bench "$cores" --mpnet "$models/mpnet" 2>&1) || {
  echo "$wasm_out" | tail -30
  exit 1
}
line() { echo "$wasm_out" | grep -o "BENCH_WASM $1 {.*}" | head -1 | sed "s/^BENCH_WASM $1 //"; }
mt1=$(line mt1) mtn=$(line mtN) st=$(line st) mpnet=$(line mpnetN)
if [ -z "$mt1" ] || [ -z "$mtn" ] || [ -z "$st" ] || [ -z "$mpnet" ]; then
  echo "$wasm_out" | tail -30
  echo "bench-web: missing BENCH_WASM lines in the browser's output" >&2
  exit 1
fi
native1=$(taskset -c 0 "$bin" bench workload --model minilm --sts "$datasets/stsbenchmark")
nativen=$("$bin" bench workload --model minilm --sts "$datasets/stsbenchmark")
python3 - "$mt1" "$mtn" "$st" "$native1" "$nativen" "$mpnet" "$cores" <<'PY'
import json, sys
mt1, mtn, st, n1, nn, mp = (json.loads(a) for a in sys.argv[1:7])
cores = int(sys.argv[7])
def row(name, f):
    print(f"  {name:<34} {f['pairs_per_second']:7.2f} pairs/s  {f['sentences_per_second']:7.1f} sentences/s  "
          f"GEMM {f['gemm_gflops']:5.1f} GFLOP/s  ({f['threads']} thread(s))")
print(f"workload: encode {mt1['sentences']} STS-B sentences, {mt1['timed_steps']} timed training steps of 32 pairs (MiniLM)")
row("browser, threaded build, 1 thread", mt1)
row(f"browser, threaded build, {cores} threads", mtn)
row("browser, single-threaded build", st)
if 'error' in mp:
    print(f"  browser, threaded, {cores} threads, MPNet: FAILED: {mp['error'].splitlines()[0]}")
else:
    row(f"browser, threaded, {cores} threads, MPNet", mp)
row("native CLI, 1 core", n1)
row(f"native CLI, {cores} cores", nn)
print(f"browser scaling {cores} threads / 1: training {mtn['pairs_per_second'] / mt1['pairs_per_second']:.2f}x (target >= 1.7x), "
      f"encode {mtn['sentences_per_second'] / mt1['sentences_per_second']:.2f}x")
print(f"browser ({cores} threads) / native CLI ({cores} cores): training {mtn['pairs_per_second'] / nn['pairs_per_second']:.2f}x (target >= 0.5x), "
      f"encode {mtn['sentences_per_second'] / nn['sentences_per_second']:.2f}x")
print(f"browser (1 thread) / native CLI (1 core): training {mt1['pairs_per_second'] / n1['pairs_per_second']:.2f}x, "
      f"encode {mt1['sentences_per_second'] / n1['sentences_per_second']:.2f}x")
cand = lambda f: f.get('gemm_gflops_candle', float('nan'))
print(f"GEMM 1024x384 @ 384x1536, GFLOP/s (one thread): relaxed-SIMD kernel (threaded build) {mt1['gemm_gflops']:.1f} "
      f"vs candle {cand(mt1):.1f} ({mt1['gemm_gflops'] / cand(mt1):.2f}x); plain-SIMD128 kernel (single-threaded build) "
      f"{st['gemm_gflops']:.1f} vs candle {cand(st):.1f} ({st['gemm_gflops'] / cand(st):.2f}x); native 1 core {n1['gemm_gflops']:.1f} "
      f"(relaxed / native {mt1['gemm_gflops'] / n1['gemm_gflops']:.2f}x)")
same = mt1['step_losses'] == mtn['step_losses'] and mt1['trained_sha256'] == mtn['trained_sha256']
worst = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(st['step_losses'], mt1['step_losses']))
print(f"threaded 1 vs {cores} threads: same losses and weights bit for bit: {same}; single-threaded build's losses within "
      f"{worst:.1e} relative; final loss browser {mt1['final_loss']:.6f}, native {n1['final_loss']:.6f}")
mem = lambda f: f"{f['wasm_memory_mib']:.0f} MiB"
print(f"browser memory (the worker's wasm memory after the workload = its peak; one memory shared by all threads, "
      f"so per-worker = total): MiniLM 1 thread {mem(mt1)}, {cores} threads {mem(mtn)}, single-threaded build {mem(st)}; "
      f"MPNet {cores} threads {mem(mp) if 'error' not in mp else 'did not fit (a thread ran out of memory)'}")
print(json.dumps({"browser_mpnetN": mp, "browser_mt1": mt1, "browser_mtN": mtn, "browser_st": st, "native_1": n1, "native_N": nn}))
PY
