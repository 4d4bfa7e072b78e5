// One thread of the threaded worker's pool (src/parallel.rs `web_pool`, src/web.rs `start_pool`):
// the worker's own module on the worker's shared memory. It says when it is ready, then runs rayon
// jobs until the pool is dropped. Loaded from the threaded build's folder, next to worker.js.
//
// A thread that traps (out of memory, a bug) leaves the model's worker waiting for its job for
// ever, unable to answer; it tells the page directly on a BroadcastChannel so the page can say so.
importScripts("./worker.js");
self.onmessage = async (event) => {
  self.onmessage = null;
  const [module, memory, handoff] = event.data;
  await wasm_bindgen({ module_or_path: module, memory });
  self.postMessage("ready");
  try {
    wasm_bindgen.poolThread(handoff);
  } catch (e) {
    new BroadcastChannel("ticketsim-pool").postMessage(self.name + ": " + String((e && e.message) || e));
    throw e;
  }
  self.close();
};
