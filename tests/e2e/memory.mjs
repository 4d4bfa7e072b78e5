// The browser worker's memory with the seeds' own base model (issue 21): all-mpnet-base-v2 is
// dropped into the app as a user drops their model folder and fine-tuned, and what the worker's
// wasm memory reached is read from the page (it never shrinks: the run's peak). Each scenario runs
// in a fresh profile, so each figure is one run's. The threaded build (cross-origin isolated) on one
// core, the setting the preflight asks for with this model.
//   - MiniLM and MPNet: 1 epoch on 32 pairs, batch 8, max_seq_length 64 (v3 recipe): finishes.
//   - MiniLM and MPNet: the v3 settings (12 epochs, batch 32, max_seq_length 256) on the same 32
//     pairs: two steps, then Cancel.
//   - MPNet at batch 256, max_seq_length 512: the preflight refuses it, Start is disabled.
// Prints MEMORY {...} per scenario and writes test-output/memory/memory.json.
//
//   node tests/e2e/memory.mjs DIST [OUT_DIR]     (make test-memory)
import { serve, launch, byTestId } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const dist = path.resolve(process.argv[2] || path.join(root, "dist"));
const out = path.resolve(process.argv[3] || path.join(root, "test-output", "memory"));
fs.mkdirSync(out, { recursive: true });
const models = process.env.TICKETSIM_MODELS || path.join(os.homedir(), ".cache", "ticketsim", "models");
const mpnet = path.join(models, "mpnet");
if (!fs.existsSync(path.join(mpnet, "model.safetensors"))) {
  console.error(`memory.mjs: no all-mpnet-base-v2 at ${mpnet}: run make models`);
  process.exit(1);
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

const results = [];

async function scenario(name, { model, settings, run, refuse }) {
  const { server, port } = await serve(dist, { isolate: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-memory-"));
  const context = await launch(profile, {});
  const page = context.pages()[0] || (await context.newPage());
  const { text, waitText, setField } = byTestId(page);
  const t0 = Date.now();
  const result = { name, model };
  try {
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
    if (model === "mpnet") {
      await page.setInputFiles('[data-testid="model-drop-input"]', mpnet);
      await waitText("model-name", /^mpnet$/, 300000);
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
    await page.selectOption('[data-testid="cfg-recipe"]', "v3");
    await setField("cfg-cores", 1);
    await waitText("compute-mode", /^Computing on 1 core/, 120000);
    for (const [id, v] of Object.entries(settings)) await setField(id, v);
    if (refuse) {
      await waitText("train-refusal", /does not fit/, 300000);
      result.refusal = await text("train-refusal");
      check(/What fits: /.test(result.refusal), `${name}: refused with what fits: ${result.refusal}`);
      check(await page.locator('[data-testid="train-start"]').isDisabled(), `${name}: Start is disabled`);
      return;
    }
    await waitText("train-memory", /^Memory: about/, 900000);
    result.estimate = await text("train-memory");
    await page.click('[data-testid="train-start"]');
    if (run === "finish") {
      await waitText("train-outcome", /^Fine-tuning (finished|stopped early)/, 1800000);
      check(true, `${name}: the run finished: ${await text("train-outcome")}`);
    } else {
      await page.waitForFunction(
        () => /^step [2-9]/.test(document.querySelector('[data-testid="train-status"]')?.textContent ?? ""),
        null,
        { timeout: 1800000 }
      );
      await page.click('[data-testid="train-cancel"]');
      await waitText("train-outcome", /^Fine-tuning cancelled/, 1800000);
      check(true, `${name}: two steps ran, then the run was cancelled: ${await text("train-status")}`);
    }
    result.status = await text("train-status");
    result.peak_bytes = Number(await page.locator('[data-testid="worker-memory"]').getAttribute("data-bytes"));
    result.peak_gib = +(result.peak_bytes / 2 ** 30).toFixed(2);
    check(result.peak_bytes > 0, `${name}: the worker's peak wasm memory: ${result.peak_gib} GiB`);
    check((await text("worker-error").catch(() => "")) === "", `${name}: the worker did not stop`);
  } catch (e) {
    await page.screenshot({ path: path.join(out, `${name}-failed.png`), fullPage: true }).catch(() => {});
    const seen = {};
    for (const id of ["train-memory", "train-refusal", "train-status", "train-outcome", "train-problem", "worker-error"]) {
      seen[id] = await page.locator(`[data-testid="${id}"]`).first().textContent({ timeout: 1000 }).catch(() => null);
    }
    throw new Error(`${name}: ${e.message}\npage: ${JSON.stringify(seen)}`);
  } finally {
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true }).catch(() => {});
    result.seconds = Math.round((Date.now() - t0) / 1000);
    console.log("MEMORY " + JSON.stringify(result));
    results.push(result);
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const small = { "cfg-epochs": 1, "cfg-batch": 8, "cfg-warmup": 1, "cfg-max-seq": 64, "cfg-max-pairs": 32 };
const v3 = { "cfg-epochs": 12, "cfg-batch": 32, "cfg-warmup": 100, "cfg-max-seq": 256, "cfg-max-pairs": 32 };
const only = process.env.MEMORY_ONLY;
const all = [
  ["mpnet-refused", { model: "mpnet", settings: { "cfg-batch": 256, "cfg-max-seq": 512 }, refuse: true }],
  ["minilm-small", { model: "minilm", settings: small, run: "finish" }],
  ["mpnet-small", { model: "mpnet", settings: small, run: "finish" }],
  ["minilm-v3", { model: "minilm", settings: v3, run: "cancel" }],
  ["mpnet-v3", { model: "mpnet", settings: v3, run: "cancel" }],
];
try {
  for (const [name, s] of all) if (!only || only.split(",").includes(name)) await scenario(name, s);
} finally {
  fs.writeFileSync(path.join(out, "memory.json"), JSON.stringify(results, null, 2));
}
