// One thread of the threaded worker's pool (src/parallel.rs `web_pool`, src/web.rs `start_pool`):
// the worker's own module on the worker's shared memory. It says when it is ready, then runs rayon
// jobs until the pool is dropped. Loaded from the threaded build's folder, next to worker.js.
importScripts("./worker.js");
self.onmessage = async (event) => {
  self.onmessage = null;
  const [module, memory, handoff] = event.data;
  await wasm_bindgen({ module_or_path: module, memory });
  self.postMessage("ready");
  wasm_bindgen.poolThread(handoff);
  self.close();
};
