// The app's two worker builds driven through their message protocol (src/protocol.rs) in headless
// Chromium, on the workload of src/bench.rs (encode 512 STS-B sentences, 8 training steps):
//
//   node tests/e2e/threads.mjs DIST DATASETS            test: same losses and weights for any thread count
//   node tests/e2e/threads.mjs DIST DATASETS --bench N  print BENCH_WASM lines: threaded build on 1
//                                                       and N threads, single-threaded build
//
// The threaded build (dist/mt, wasm atomics) runs with 1, 2 and 3 threads, the single-threaded
// build (dist/, for pages that are not cross-origin isolated) with one. The shards of a batch and
// the order their gradients are added in do not depend on the thread count, so the loss of every
// step and the trained weights (sha256 of model.safetensors) must be bit-identical for 1, 2 and 3
// threads. The single-threaded build is the plain-SIMD128 one: its matrix kernel multiplies then
// adds where the threaded (relaxed-SIMD) one fuses, so its losses agree to rounding (1e-5 relative).
import { serve, launch } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dist = path.resolve(process.argv[2] || "dist");
const datasets = path.resolve(process.argv[3] || "../shared/datasets");
const benchAt = process.argv.indexOf("--bench");
const bench = benchAt > 0 ? Number(process.argv[benchAt + 1] || os.cpus().length) : 0;
// --mpnet DIR (with --bench): also run the workload with all-mpnet-base-v2 from DIR on the threaded
// build with N threads, for its memory and speed.
const mpnetAt = process.argv.indexOf("--mpnet");
const mpnet = mpnetAt > 0 ? path.resolve(process.argv[mpnetAt + 1]) : null;
const MODEL_FILES = [
  "config.json",
  "model.safetensors",
  "tokenizer.json",
  "modules.json",
  "sentence_bert_config.json",
  "1_Pooling/config.json",
];

// In the page: start a worker build, load a model (MiniLM unless told), set the threads, run the
// workload; the figures come back with the worker's wasm memory size.
async function workload(page, url, threads, model = ["./models/minilm", "all-MiniLM-L6-v2"]) {
  return page.evaluate(
    async ([url, threads, files, [dir, name]]) => {
      const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
      const w = new Worker(url);
      // A pool thread that traps (out of memory) leaves the worker blocked; it reports here.
      const crash = new BroadcastChannel("ticketsim-pool");
      const crashed = new Promise((_, reject) => {
        crash.onmessage = (e) => reject(new Error(`${url}: a compute thread stopped: ${e.data}`));
      });
      const next = (type) =>
        new Promise((resolve, reject) => {
          const on = (e) => {
            const m = e.data;
            if (m.type === "error") reject(new Error(`${url}: ${m.message}`));
            else if (m.type === type) {
              w.removeEventListener("message", on);
              resolve(m);
            }
          };
          w.addEventListener("message", on);
          w.addEventListener("error", (e) => reject(new Error(`${url}: ${e.message}`)));
          crashed.catch(reject);
        });
      try {
        await next("ready");
        const wire = [];
        for (const f of files) wire.push({ path: f, bytes: await get(`${dir}/${f}`) });
        w.postMessage({ type: "load_model", name, files: wire });
        await next("model_loaded");
        w.postMessage({ type: "set_threads", threads });
        const t = await next("threads");
        w.postMessage({
          type: "bench",
          id: 1,
          sts_test: await get("./datasets/stsbenchmark/sts-test.csv"),
          sts_train: await get("./datasets/stsbenchmark/sts-train.csv"),
        });
        const b = await next("benched");
        return {
          threads: t.threads,
          threaded: t.threaded,
          ...b.figures,
          wasm_memory_mib: b.wasm_memory_bytes / 2 ** 20,
          isolated: self.crossOriginIsolated,
        };
      } finally {
        crash.close();
        w.terminate();
      }
    },
    [url, threads, MODEL_FILES, model]
  );
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function main() {
  const mounts = { "/datasets/": datasets };
  if (mpnet) mounts["/mpnet/"] = mpnet;
  const { server, port } = await serve(dist, { mounts });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-threads-"));
  const context = await launch(profile);
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  try {
    await page.goto(`http://127.0.0.1:${port}/__blank.html`);
    check(await page.evaluate(() => self.crossOriginIsolated), "the page is cross-origin isolated");
    if (bench) {
      const runs = [
        ["mt1", "./mt/worker_loader.js", 1],
        ["mtN", "./mt/worker_loader.js", bench],
        ["st", "./worker_loader.js", 1],
      ];
      for (const [tag, url, n] of runs) {
        const f = await workload(page, url, n);
        console.log(`BENCH_WASM ${tag} ${JSON.stringify(f)}`);
      }
      if (mpnet) {
        // MPNet may not fit a tab: report the failure as the figure rather than lose the others.
        const f = await workload(page, "./mt/worker_loader.js", bench, ["./mpnet", "all-mpnet-base-v2"]).catch(
          (e) => ({ error: String(e.message || e) })
        );
        console.log(`BENCH_WASM mpnetN ${JSON.stringify(f)}`);
      }
      return;
    }
    const runs = [];
    for (const n of [1, 2, 3]) runs.push(await workload(page, "./mt/worker_loader.js", n));
    runs.push(await workload(page, "./worker_loader.js", 2));
    for (const r of runs) {
      console.log(
        `${r.threaded ? "threaded" : "single-threaded"} build, ${r.threads} thread(s): ` +
          `${r.pairs_per_second.toFixed(2)} pairs/s, ${r.sentences_per_second.toFixed(1)} sentences/s, ` +
          `final loss ${r.final_loss}, weights ${r.trained_sha256.slice(0, 16)}`
      );
    }
    check(
      runs.slice(0, 3).every((r, i) => r.threaded && r.threads === i + 1),
      "the threaded build runs on the threads asked for"
    );
    check(!runs[3].threaded && runs[3].threads === 1, "the single-threaded build stays on one thread");
    const losses = (r) => JSON.stringify(r.step_losses);
    const threaded = runs.slice(0, 3);
    check(
      threaded.every((r) => r.step_losses.length === r.timed_steps + 1 && losses(r) === losses(runs[0])),
      "same loss at every step, bit for bit, for 1, 2 and 3 threads"
    );
    check(
      threaded.every((r) => r.trained_sha256 === runs[0].trained_sha256 && r.trained_sha256.length === 64),
      "same trained weights (sha256 of model.safetensors) for 1, 2 and 3 threads"
    );
    const st = runs[3];
    const worst = Math.max(
      ...st.step_losses.map((l, i) => Math.abs(l - runs[0].step_losses[i]) / Math.max(Math.abs(runs[0].step_losses[i]), 1e-12))
    );
    check(
      st.step_losses.length === runs[0].step_losses.length && worst <= 1e-5,
      `the single-threaded (plain SIMD128) build's losses agree to ${worst.toExponential(2)} relative (≤ 1e-5)`
    );
  } finally {
    await context.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
