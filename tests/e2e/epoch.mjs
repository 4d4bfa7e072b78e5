// How long a real run takes in the app, as a user would see it: a fresh profile drops
// data/training_pairs.json, sets 1 epoch (the rest are the v3 defaults), reads the estimate shown
// before Start, presses Start, and waits for the run to finish. Prints one line
//   BENCH_APP {"cores":…,"estimate":"…","first_eta":"…","seconds":…,"status":"…","outcome":"…"}
// `make bench-app` runs it (minutes; not part of `make test`). Usage:
//   node tests/e2e/epoch.mjs DIST [--cores N] [--not-isolated]
import { serve, launch, dropJson } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const args = process.argv.slice(2);
const dist = path.resolve(args[0] || path.join(root, "dist"));
const coresArg = args.indexOf("--cores");
const cores = coresArg >= 0 ? args[coresArg + 1] : null;
const isolate = !args.includes("--not-isolated");

const text = (page, id) => page.locator(`[data-testid="${id}"]`).innerText();

async function main() {
  const { server, port } = await serve(dist, { isolate });
  const origin = `http://127.0.0.1:${port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-epoch-"));
  const context = await launch(profile);
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  try {
    await page.goto(origin + "/");
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
    await page.click('[data-testid="tab-data"]');
    const content = fs.readFileSync(path.join(root, "data", "training_pairs.json"), "utf8");
    await dropJson(page, "training_pairs.json", content);
    await page.waitForSelector('[data-testid="data-file"]', { timeout: 30000 });
    await page.click('[data-testid="tab-train"]');
    await page.fill('[data-testid="cfg-epochs"]', "1");
    await page.press('[data-testid="cfg-epochs"]', "Tab");
    if (cores) {
      await page.fill('[data-testid="cfg-cores"]', cores);
      await page.press('[data-testid="cfg-cores"]', "Tab");
    }
    await page.waitForFunction(
      () => /^Estimated duration/.test(document.querySelector('[data-testid="train-estimate"]')?.textContent.trim() || ""),
      null,
      { timeout: 600000 }
    );
    const estimate = await text(page, "train-estimate");
    const mode = await text(page, "compute-mode");
    const t0 = Date.now();
    await page.click('[data-testid="train-start"]');
    await page.waitForFunction(
      () => /^step [1-9]\d* of \d+ .*left/.test(document.querySelector('[data-testid="train-status"]')?.textContent.trim() || ""),
      null,
      { timeout: 600000 }
    );
    const firstEta = await text(page, "train-status");
    await page.waitForFunction(
      () => /^Fine-tuning /.test(document.querySelector('[data-testid="train-outcome"]')?.textContent.trim() || ""),
      null,
      { timeout: 4 * 3600 * 1000 }
    );
    const seconds = (Date.now() - t0) / 1000;
    const status = await text(page, "train-status");
    const outcome = await text(page, "train-outcome");
    if (problems.length) throw new Error(`page errors: ${problems.join(" | ")}`);
    console.log(
      "BENCH_APP " +
        JSON.stringify({ mode, estimate, first_eta: firstEta, seconds: Math.round(seconds), status, outcome })
    );
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
