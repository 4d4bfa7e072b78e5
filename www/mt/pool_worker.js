// One thread of the threaded worker's pool (src/parallel.rs `web_pool`, src/web.rs `start_pool`):
// the worker's own module on the worker's shared memory. It says when it is ready, then runs rayon
// jobs until the pool is dropped. Loaded from the threaded build's folder, next to worker.js.
//
// A thread that traps (out of memory, a bug) leaves the model's worker waiting for its job for
// ever, unable to answer; it tells the page directly on a BroadcastChannel so the page can say so.
// When the trap was an allocation that failed, the module's allocator kept its size
// (src/web.rs `ReportingAllocator`): the report says "out of memory" with it, not "unreachable".
importScripts("./worker.js");
self.onmessage = async (event) => {
  self.onmessage = null;
  const [module, memory, handoff] = event.data;
  await wasm_bindgen({ module_or_path: module, memory });
  self.postMessage("ready");
  try {
    wasm_bindgen.poolThread(handoff);
  } catch (e) {
    let what = String((e && e.message) || e);
    const failed = wasm_bindgen.allocationFailure();
    if (failed > 0) {
      const mib = (n) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : `${Math.round(n / (1 << 20))} MiB`);
      what = `out of memory: allocating ${mib(failed)} failed with ${mib(memory.buffer.byteLength)} in use`;
    }
    new BroadcastChannel("ticketsim-pool").postMessage(self.name + ": " + what);
    throw e;
  }
  self.close();
};
