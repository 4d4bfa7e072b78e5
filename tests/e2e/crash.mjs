// A worker that dies in the middle of a fine-tuning run (in the browser, most often an allocation
// failure: wasm aborts with a trap) must not take the run with it. Two ways it happens, each in a
// fresh profile:
//   - the threaded build (cross-origin isolated, 2 cores), the served model: a pool thread traps
//     and leaves the worker blocked in its job;
//   - the single-threaded build (no isolation), a model folder the user picked: the worker itself
//     traps.
// Each time the test starts a 4-epoch run, waits until the page says the epoch-1 checkpoint is
// saved in the browser, makes the worker run out of memory (`?test-hooks`:
// window.ticketsimTest.crashWorker; 512 MiB blocks until one fails) and checks what a user gets: a
// message naming memory with the sizes (not "unreachable") and what to change, a new worker with the
// model loaded again, the epoch-1 checkpoint as the fine-tuned model ("ended when the worker
// stopped"), a similarity demo that still answers, and an export whose training_metadata.json says
// "crashed" — and whose model, evaluated by the native CLI, gives the epoch-1 figures the run
// reported before the crash (so it is that checkpoint, not the base model or a later step).
//
//   node tests/e2e/crash.mjs DIST [OUT_DIR]
import { serve, launch, unzipStored, byTestId } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const dist = path.resolve(process.argv[2] || path.join(root, "dist"));
const out = path.resolve(process.argv[3] || path.join(root, "target", "e2e-crash"));
fs.mkdirSync(out, { recursive: true });
const bin =
  process.env.TICKETSIM_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(root, "target"), "release", "ticketsim");

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function scenario({ name, isolate, cores, pool, dropModel }) {
  const { server, port } = await serve(dist, { isolate });
  const origin = `http://127.0.0.1:${port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-crash-"));
  const context = await launch(profile, { acceptDownloads: true });
  const page = context.pages()[0] || (await context.newPage());
  const { text, waitText, setField } = byTestId(page);
  const t0 = Date.now();
  try {
    await page.goto(origin + "/?test-hooks");
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
    const mode = await text("compute-mode");
    if (dropModel) {
      // The served model's folder, picked as a user picks their own model folder.
      await page.setInputFiles('[data-testid="model-drop-input"]', path.join(dist, "models", "minilm"));
      await waitText("model-name", /^minilm$/, 300000);
    }
    await page.click('[data-testid="tab-data"]');
    await page.setInputFiles(
      '[data-testid="data-drop-input"]',
      ["training_pairs.json", "eval_pairs.json"].map((f) => path.join(root, "data", f))
    );
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="data-file"]').length === 2, null, {
      timeout: 60000,
    });
    await page.click('[data-testid="tab-train"]');
    // The seeds' recipe trains on every one of the 64 pairs, so each epoch has steps and epoch 1
    // improves on the base model; the default (mnrl) trains on the duplicates of the sample only,
    // one step an epoch, and its epoch 1 need not be a best checkpoint to crash after.
    await page.selectOption('[data-testid="cfg-recipe"]', "v3");
    await setField("cfg-epochs", 4);
    await setField("cfg-batch", 16);
    await setField("cfg-warmup", 4);
    await setField("cfg-max-pairs", 64);
    await setField("cfg-max-seq", 64);
    if (cores) await setField("cfg-cores", cores);
    await page.click('[data-testid="train-start"]');
    await waitText("train-checkpoint", /^Best checkpoint so far \(epoch 1,|could not be saved/, 300000);
    const saved = await text("train-checkpoint");
    const epoch1 = await page.locator('[data-testid="epoch-row"]').nth(1).innerText();
    await page.evaluate((pool) => window.ticketsimTest.crashWorker(pool), pool);
    await waitText("worker-error", /^The worker (stopped|ran out of memory)/, 120000);
    const said = await text("worker-error");
    // The crash is a real allocation failure (512 MiB blocks until the memory cannot grow): the
    // allocator's report names memory and the sizes, not the trap's "unreachable".
    check(
      /^The worker ran out of memory/.test(said) &&
        /allocating 512 MiB failed with \d+(\.\d+)? (MiB|GiB)/.test(said) &&
        !/unreachable/.test(said) &&
        /fewer cores, a shorter max_seq_length or a smaller model/.test(said),
      `${name}: the crash is reported as memory, with the sizes and what to change: ${said.slice(0, 220)}…`
    );
    await waitText("worker-error", /best checkpoint \(epoch 1\) is\s+the fine-tuned model|nothing of it is left|could not/, 300000);
    const recovered = await text("worker-error");
    check(/best checkpoint \(epoch 1\) is\s+the fine-tuned model/.test(recovered), `${name}: a new worker loads the model and the epoch-1 checkpoint: ${recovered.slice(-140)}`);
    const outcome = await text("train-outcome");
    check(/ended when the worker stopped; kept the checkpoint of epoch 1/.test(outcome), `${name}: the run's outcome: ${outcome}`);
    await page.screenshot({ path: path.join(out, `${name}-recovered.png`), fullPage: true });

    // The new worker works: the demo compares both models.
    await page.click('[data-testid="tab-demo"]');
    await page.click('[data-testid="compare"]');
    await page.waitForSelector('[data-testid="similarity-fine-tuned"]', { timeout: 120000 });
    check(/similarity/.test(await text("similarity-fine-tuned")), `${name}: the demo scores with the restored model`);

    // The export is that checkpoint.
    await page.click('[data-testid="tab-export"]');
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 120000 }),
      page.click('[data-testid="export-run"]'),
    ]);
    const zip = path.join(out, `${name}.zip`);
    await download.saveAs(zip);
    const folder = path.join(out, name);
    fs.rmSync(folder, { recursive: true, force: true });
    unzipStored(fs.readFileSync(zip), folder);
    const model = path.join(folder, "ticketsim-model");
    const meta = JSON.parse(fs.readFileSync(path.join(model, "training_metadata.json"), "utf8"));
    check(meta.stop_reason === "crashed" && meta.best_epoch === 1, `${name}: training_metadata.json: stop_reason ${meta.stop_reason}, best_epoch ${meta.best_epoch}`);
    const recorded = meta.epochs[1].eval;
    const native = JSON.parse(
      execFileSync(bin, ["eval", "--model", model, "--data", path.join(root, "data", "eval_pairs.json"), "--out", path.join(out, `${name}-eval`)], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      })
    );
    const nativeSpearman = native.spearman ?? native.metrics?.spearman;
    check(
      Math.abs(nativeSpearman - recorded.spearman) < 1e-4,
      `${name}: the exported model is the epoch-1 checkpoint (native Spearman ${nativeSpearman.toFixed(6)}, the run's epoch 1 ${recorded.spearman.toFixed(6)})`
    );
    console.log(
      "CRASH " +
        JSON.stringify({ name, mode, saved, epoch1, seconds: Math.round((Date.now() - t0) / 1000) })
    );
  } catch (e) {
    await page.screenshot({ path: path.join(out, `${name}-failed.png`), fullPage: true }).catch(() => {});
    const seen = {};
    for (const id of ["train-status", "train-outcome", "train-checkpoint", "train-problem", "worker-error"]) {
      seen[id] = await page.locator(`[data-testid="${id}"]`).first().textContent({ timeout: 1000 }).catch(() => null);
    }
    throw new Error(`${name}: ${e.message}\npage: ${JSON.stringify(seen)}`);
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  await scenario({ name: "pool-thread", isolate: true, cores: 2, pool: true, dropModel: false });
  await scenario({ name: "worker", isolate: false, cores: null, pool: false, dropModel: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
