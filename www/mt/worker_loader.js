// The threaded worker (built by scripts/build-worker-mt.sh): the same module as the single-threaded
// one, compiled with wasm atomics so its memory can be shared with its pool's workers.
importScripts("./worker.js");
wasm_bindgen({ module_or_path: "./worker_bg.wasm" });
