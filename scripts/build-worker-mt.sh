#!/usr/bin/env bash
# Build the threaded Web Worker (wasm atomics + shared memory; src/parallel.rs `web_pool`) into
# OUT (default: Trunk's staging folder when run as its post_build hook, else dist/mt):
#   OUT/worker.js, OUT/worker_bg.wasm  wasm-bindgen's no-modules glue and the module
#   OUT/worker_loader.js, OUT/pool_worker.js  from www/mt/
# Threads in wasm need std rebuilt with atomics: the nightly toolchain and -Z build-std (see
# scripts/setup.sh). The page uses this build only when it is cross-origin isolated (shared memory);
# elsewhere it falls back to Trunk's single-threaded worker.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${TRUNK_STAGING_DIR:+$TRUNK_STAGING_DIR/mt}}
out=${out:-dist/mt}
profile=${WASM_PROFILE:-wasm-release}
target_dir=${CARGO_TARGET_DIR:-target}/mt
# RUSTFLAGS replaces .cargo/config.toml's rustflags, so the SIMD and getrandom flags are repeated.
# The link arguments make the memory shared and imported (each pool worker instantiates the module
# on it) and export the thread-local-storage symbols wasm-bindgen's thread start-up needs. A shared
# memory cannot grow past its declared maximum: 4 GiB, all wasm32 can address.
# This build is also the relaxed-SIMD one (the matrix kernel's fused multiply-add,
# src/model/wasm_gemm.rs): every browser with shared-memory threads and relaxed SIMD (Chrome 114+,
# Firefox 145+) gets both; the page checks for both (src/app/worker_client.rs `fastest_mode`) and
# otherwise loads Trunk's single-threaded plain-SIMD128 build.
flags=(
  -C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128,+relaxed-simd
  --cfg 'getrandom_backend="wasm_js"'
  -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
)
RUSTFLAGS="${flags[*]}" \
  CARGO_TARGET_DIR=$target_dir \
  cargo +nightly build --quiet -Z build-std=panic_abort,std --target wasm32-unknown-unknown \
  --profile "$profile" --bin worker
mkdir -p "$out"
wasm-bindgen --target no-modules --no-typescript --out-dir "$out" --out-name worker \
  "$target_dir/wasm32-unknown-unknown/$profile/worker.wasm"
cp www/mt/worker_loader.js www/mt/pool_worker.js "$out/"
