// End-to-end test of the web app, clicking through it like a person: Playwright (playwright-core)
// driving Debian's Chromium against the built site (dist/), served by a static server in this
// process that also records every request.
//
//   node tests/e2e/app.test.mjs [DIST_DIR] [OUT_DIR]
//
// Screenshots of every step go to OUT_DIR (default target/e2e). Exits non-zero on the first
// failed check, naming it.
import { serve, launch, dropJson, unzipStored, zipEntries, byTestId } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const dist = path.resolve(process.argv[2] || path.join(root, "dist"));
const out = path.resolve(process.argv[3] || path.join(root, "target", "e2e"));
fs.mkdirSync(out, { recursive: true });
const XSS = "<img src=x onerror=alert(1)>";

// Record requests leaving `origin` and the page's errors into the given lists.
function watch(context, page, origin, foreign, problems, tag = "") {
  context.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:")) foreign.push(u);
  });
  page.on("pageerror", (e) => problems.push(`page error${tag}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error${tag}: ${m.text()}`);
  });
}

let step = 0;
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function main() {
  const { server, requests, port } = await serve(dist);
  const origin = `http://127.0.0.1:${port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-e2e-"));
  const context = await launch(profile, { acceptDownloads: true });
  const page = context.pages()[0] || (await context.newPage());
  const foreign = [];
  const problems = [];
  let dialogs = 0;
  watch(context, page, origin, foreign, problems);
  page.on("dialog", async (d) => {
    dialogs++;
    await d.dismiss();
  });
  const shot = async (name) => {
    step++;
    await page.screenshot({ path: path.join(out, `${String(step).padStart(2, "0")}-${name}.png`), fullPage: true });
  };
  const { text, waitText, setField } = byTestId(page);
  const tab = (id) => page.click(`[data-testid="tab-${id}"]`);
  // Pixels of a canvas that are neither white nor transparent: the chart was drawn.
  const ink = (id) =>
    page.evaluate((id) => {
      const c = document.querySelector(`[data-testid="${id}"]`);
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && !(d[i] > 250 && d[i + 1] > 250 && d[i + 2] > 250)) n++;
      return n;
    }, id);

  const t0 = Date.now();
  // 1. Open the app: the served model loads in the worker.
  // ?test-hooks: window.ticketsimTest (the map's dot positions, for hovering one).
  await page.goto(origin + "/?test-hooks");
  await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
  check((await text("model-name")).includes("MiniLM"), "the default model loads");
  check((await text("model-dim")).trim() === "384", "its dimension is shown");
  await shot("model");

  // 2. Data: the sample files through the file input, and a file with HTML in a ticket through a
  // real drop event.
  await tab("data");
  const samples = ["training_pairs.json", "eval_pairs.json", "relationship_pairs.json", "incidents.csv"].map(
    (f) => path.join(root, "data", f)
  );
  await page.setInputFiles('[data-testid="data-drop-input"]', samples);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="data-file"]').length === 4, null, {
    timeout: 60000,
  });
  const xss = JSON.stringify([{ ticket_a: XSS, ticket_b: "printer offline", relationship: "none" }]);
  await dropJson(page, "xss_pairs.json", xss);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="data-file"]').length === 5, null, {
    timeout: 30000,
  });
  const kinds = await page.locator('[data-testid="data-file-kind"]').allInnerTexts();
  check(
    JSON.stringify(kinds) ===
      JSON.stringify(["training pairs", "training pairs", "relationship pairs", "incidents", "relationship pairs"]),
    `the kinds are recognised: ${kinds}`
  );
  const shown = await page.locator('[data-testid="data-file-preview"]').last().innerText();
  check(shown.includes(XSS), "a ticket text with HTML is shown literally");
  check((await page.locator('[data-testid="panel-data"] img').count()) === 0, "and no <img> was created from it");
  await shot("data");

  // 3. Label three pairs with the keyboard.
  await tab("label");
  await page.click('[data-testid="build-queue"]');
  await page.waitForSelector('[data-testid="label-pair"]', { timeout: 180000 }).catch(async (e) => {
    await page.screenshot({ path: path.join(out, "queue-failed.png"), fullPage: true });
    const said = await page.locator('[data-testid="label-status"]').first().innerText().catch(() => "?");
    throw new Error(`the queue was not built (the page says: ${said}): ${e.message}`);
  });
  check((await text("label-position")).startsWith("pair 1 of"), "the queue starts at its first pair");
  await page.keyboard.press("1");
  await waitText("label-count", /^1$/, 10000);
  await waitText("label-position", /^pair 2 of/, 10000);
  check(true, "a key labels the pair and moves to the next");
  await page.keyboard.press("4");
  await waitText("label-count", /^2$/, 10000);
  await page.keyboard.press("s");
  await waitText("label-count", /^3$/, 10000);
  await shot("labelled");

  // Reload: the labels (IndexedDB) and the files are still there.
  await page.reload();
  await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
  check((await text("model-name")).includes("MiniLM"), "the model loads again after the reload");
  await tab("label");
  await waitText("label-count", /^3$/, 30000);
  // The queue again: its tickets' embeddings come from IndexedDB, not from the model.
  await page.click('[data-testid="build-queue"]');
  await waitText("label-status", /tickets encoded/, 120000);
  const rebuilt = await text("label-status");
  check(/\b0 of [1-9]\d* tickets encoded/.test(rebuilt), `after a reload the queue encodes nothing again (${rebuilt})`);
  check((await page.locator('[data-testid="label-row"]').count()) === 3, "three labels survive a reload");
  await tab("data");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="data-file"]').length === 5, null, {
    timeout: 30000,
  });
  check(true, "the five data files survive a reload");
  await shot("after-reload");

  // 4. Fine-tune 1 epoch on a small subset.
  await tab("train");
  await setField("cfg-epochs", 1);
  await setField("cfg-batch", 16);
  await setField("cfg-warmup", 4);
  await setField("cfg-max-pairs", 64);
  await setField("cfg-max-seq", 64);
  // A recipe other than the default, chosen as a user would: the line under it says what it does.
  await page.selectOption('[data-testid="cfg-recipe"]', "combined");
  await waitText("cfg-recipe-summary", /find the duplicate and keep the grades/, 10000);
  check(true, `the recipe choice says what it optimises (${await text("cfg-recipe-summary")})`);
  // The 4 warmup steps typed before the recipe was chosen are kept (the recipe's share would
  // replace them otherwise), as --warmup-steps wins over --recipe on the command line.
  check((await page.locator('[data-testid="cfg-warmup-ratio"]').count()) === 0, "typed warmup steps are kept when a recipe is chosen");
  check((await text("train-selection")).startsWith("64 training pairs"), `the selection: ${await text("train-selection")}`);
  await page.click('[data-testid="train-start"]');
  await waitText("train-status", /step/, 300000);
  await shot("training");
  await waitText("train-outcome", /Fine-tuning/, 900000);
  check((await text("train-outcome")).includes("finished"), `training ends: ${await text("train-outcome")}`);
  check((await page.locator('[data-testid="epoch-row"]').count()) === 2, "base and epoch-1 metrics are shown");
  const inked = await ink("loss-chart");
  check(inked > 2000, `the loss chart is drawn (${inked} inked pixels)`);
  await shot("trained");

  // 5. Evaluate, and move the threshold slider.
  await tab("evaluate");
  await page.click('[data-testid="eval-run"]');
  await page.waitForSelector('[data-testid="eval-row-fine-tuned"]', { timeout: 300000 });
  const before = await text("threshold-readout-fine-tuned");
  const t1 = await text("threshold-value");
  await page.focus('[data-testid="threshold-slider"]');
  for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowRight");
  const t2 = await text("threshold-value");
  check(Math.abs(parseFloat(t2) - parseFloat(t1) - 0.1) < 1e-9 || parseFloat(t2) === 1, `the slider moves the threshold (${t1} -> ${t2})`);
  const after = await text("threshold-readout-fine-tuned");
  check(before !== after, `precision / recall / flagged follow the slider (${after})`);
  await shot("evaluated");

  // 6. The relationship classifier on the fine-tuned embeddings (2 folds, one C: quick).
  await tab("classify");
  await setField("cls-folds", 2);
  await setField("cls-c", "0.1");
  await page.click('[data-testid="cls-run"]');
  await page.waitForSelector('[data-testid="cls-table"]', { timeout: 600000 });
  const rows = await page.locator('[data-testid="cls-row"]').allInnerTexts();
  check(rows.length === 3 && rows[0].startsWith("logistic regression"), `the k-fold table lists the model and both baselines`);
  const clsInk = await ink("cls-confusion");
  check(clsInk > 2000, `the confusion matrix is drawn (${clsInk} inked pixels)`);
  await shot("classifier");

  // 7. Similarity demo.
  await tab("demo");
  await page.fill('[data-testid="text-a"]', "VPN disconnects every few minutes");
  await page.fill('[data-testid="text-b"]', "My VPN connection keeps dropping");
  await page.click('[data-testid="compare"]');
  await page.waitForSelector('[data-testid="similarity-fine-tuned"]', { timeout: 60000 });
  const base = parseFloat((await text("similarity-base")).split("similarity ")[1]);
  const tunedAuc = await page.locator('[data-testid="eval-row-fine-tuned"] [data-testid="eval-roc-auc"]').innerText();
  check(base > 0.3 && base <= 1, `the base model scores the pair (${base})`);
  await page.click('[data-testid="find-run"]');
  await page.waitForSelector('[data-testid="find-hit"]', { timeout: 120000 });
  const hit = await page.locator('[data-testid="find-hit"]').first().innerText();
  check(/duplicate|causal|related|none/.test(hit), `find similar lists tickets with a predicted relationship (${hit.slice(0, 80)}…)`);
  await shot("demo");

  // 8. Export.
  await tab("export");
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 120000 }), page.click('[data-testid="export-run"]')]);
  const zipPath = path.join(out, "ticketsim-model.zip");
  await download.saveAs(zipPath);
  const names = zipEntries(fs.readFileSync(zipPath));
  for (const f of [
    "relationship_classifier/classifier.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "training_metadata.json",
  ]) {
    check(names.includes(`ticketsim-model/${f}`), `the zip holds ${f}`);
  }
  await shot("exported");

  // The native CLI loads the exported folder and evaluates it to the page's figure.
  const bin = process.env.TICKETSIM_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(root, "target"), "release", "ticketsim");
  const unzipped = path.join(out, "unzipped");
  fs.rmSync(unzipped, { recursive: true, force: true });
  unzipStored(fs.readFileSync(zipPath), unzipped);
  const meta = JSON.parse(fs.readFileSync(path.join(unzipped, "ticketsim-model", "training_metadata.json"), "utf8"));
  check(meta.platform.build === "wasm" && meta.config.epochs === 1 && meta.epochs.length === 2, "training_metadata.json records the run");
  check(meta.recipe === "combined" && meta.config.recipe === "combined", `training_metadata.json records the recipe picked in the form (${meta.recipe})`);
  check(meta.config.warmup_steps === 4 && meta.config.warmup_ratio === null, `and the warmup typed in it (${meta.config.warmup_steps} steps, ratio ${meta.config.warmup_ratio})`);
  const evalOut = path.join(out, "native-eval");
  const summary = JSON.parse(
    execFileSync(bin, ["eval", "--model", path.join(unzipped, "ticketsim-model"), "--data", path.join(root, "data", "eval_pairs.json"), "--out", evalOut], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
  );
  const nativeAuc = summary.roc_auc ?? summary.metrics?.roc_auc;
  check(
    Math.abs(nativeAuc - parseFloat(tunedAuc)) < 1e-4,
    `the native CLI evaluates the exported model to the page's ROC-AUC (${nativeAuc} vs ${tunedAuc})`
  );

  // 8b. Tickets: an incident export with links (and a ticket whose title is HTML) → the retrieval
  // table, the duplicate groups and the map, whose tooltip shows the HTML title as text.
  await tab("data");
  const linked = [
    { number: "T1", short_description: "VPN drops every few minutes", category: "network" },
    { number: "T2", short_description: "VPN connection keeps dropping", category: "network", duplicate_of: "T1" },
    { number: "T3", short_description: "Printer on floor 3 offline", category: "printing" },
    { number: "T4", short_description: "Floor 3 printer is offline again", category: "printing", duplicate_of: "T3" },
    { number: "T5", short_description: "Core switch failed in building A", category: "network" },
    { number: "T6", short_description: "Network outage in building A", category: "network", caused_by: "T5" },
    { number: "T7", short_description: XSS, description: "a title that is HTML", category: "email" },
    { number: "T8", short_description: "Outlook shows an HTML mail as code", category: "email", duplicate_of: "T7" },
  ];
  await dropJson(page, "linked_incidents.json", JSON.stringify(linked));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="data-file"]').length === 6, null, {
    timeout: 30000,
  });
  await tab("evaluate");
  await page.selectOption('[data-testid="backlog-file"]', "linked_incidents.json");
  await page.click('[data-testid="backlog-run"]');
  await page.waitForSelector('[data-testid="retrieval-table"]', { timeout: 300000 });
  const rrows = await page.locator('[data-testid="retrieval-row"]').allInnerTexts();
  check(
    rrows.some((r) => r.startsWith("bm25")) && rrows.some((r) => r.startsWith("cosine: base")) && rrows.some((r) => r.startsWith("cosine: fine-tuned")),
    `the retrieval table compares BM25, base and fine-tuned (${rrows.length} rows)`
  );
  const caption = await page.locator('[data-testid="retrieval-table"] caption').first().innerText();
  check(caption.startsWith("duplicate links: 6 queries, 8 tickets ranked"), `the table says what it measured (${caption})`);
  check((await page.locator('[data-testid="groups-base"] h4').innerText()).includes("groups of two or more"), "the groups are listed");
  const mapInk = await ink("ticket-map-base");
  check(mapInk > 2000, `the map is drawn (${mapInk} inked pixels)`);
  // Hover the dot of the ticket whose title is HTML.
  const pt = await page.evaluate(() => window.ticketsimTest.mapPoints[0]("T7"));
  // The mouse reaches only what is in the viewport.
  await page.locator('[data-testid="ticket-map-base"]').scrollIntoViewIfNeeded();
  const box = await page.locator('[data-testid="ticket-map-base"]').boundingBox();
  const px = await page.evaluate(() => document.querySelector('[data-testid="ticket-map-base"]').width);
  const s = box.width / px;
  await page.mouse.move(box.x + pt[0] * s, box.y + pt[1] * s);
  await page.waitForSelector('[data-testid="map-tooltip"]', { timeout: 10000 });
  const tip = await text("map-tooltip");
  check(tip.includes("T7") && tip.includes(XSS), `the tooltip shows the ticket's title literally (${tip})`);
  check((await page.locator('[data-testid="panel-evaluate"] img').count()) === 0, "and no <img> was created from it");
  await shot("tickets");

  // Pairs generated from an export, in the worker that reads files: files named after it, read
  // as the kinds they are; and a file that is no data file is refused with its name.
  await tab("data");
  await page.locator('[data-testid="data-file"]', { hasText: "linked_incidents.json" }).locator('[data-testid="generate-pairs"]').click();
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="data-file-name"]')].some((e) => e.textContent === "linked_incidents → training_pairs.json"),
    null,
    { timeout: 60000 }
  );
  const generated = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="data-file"]')]
      .map((f) => [f.querySelector('[data-testid="data-file-name"]').textContent, f.querySelector('[data-testid="data-file-kind"]').textContent])
      .filter(([n]) => n.startsWith("linked_incidents → "))
  );
  const expectedKind = (n) => (n.includes("relationship") ? "relationship pairs" : "training pairs");
  check(
    generated.length >= 1 && generated.every(([n, k]) => k === expectedKind(n)),
    `pairs are generated from an export and read as their kinds (${generated.map(([n, k]) => `${n}: ${k}`).join("; ")}; notes: ${await text("data-errors")})`
  );
  await dropJson(page, "broken.json", '{"positive_pairs": [["vpn down"');
  await page.waitForFunction(() => /^broken\.json: /m.test(document.querySelector('[data-testid="data-errors"]').innerText), null, { timeout: 30000 });
  check(true, `a file that cannot be read is refused, named (${await text("data-errors")})`);

  // 9. A new user: a fresh browser profile drops data/training_pairs.json and presses Train with
  // the defaults (the recommended mnrl recipe, 12 epochs). It must start (base evaluation, then steps with an ETA); the run
  // would take hours in a browser, so it is cancelled after the first step and keeps a checkpoint.
  const profile2 = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-e2e-new-"));
  const context2 = await launch(profile2);
  const user = context2.pages()[0] || (await context2.newPage());
  watch(context2, user, origin, foreign, problems, " (new user)");
  await user.goto(origin + "/");
  await user.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
  await user.click('[data-testid="tab-data"]');
  const pairsJson = fs.readFileSync(path.join(root, "data", "training_pairs.json"), "utf8");
  await dropJson(user, "training_pairs.json", pairsJson);
  await user.waitForSelector('[data-testid="data-file"]', { timeout: 30000 });
  await user.click('[data-testid="tab-train"]');
  const epochs = await user.inputValue('[data-testid="cfg-epochs"]');
  check(epochs === "12", `a new user gets the default settings (${epochs} epochs)`);
  const defaultRecipe = await user.inputValue('[data-testid="cfg-recipe"]');
  check(defaultRecipe === "mnrl", `and the recommended recipe (${defaultRecipe}: ${await user.locator('[data-testid="cfg-recipe-summary"]').innerText()})`);
  const mode = await user.locator('[data-testid="compute-mode"]').innerText();
  const cores = os.cpus().length;
  check(
    mode.includes(`Computing on ${Math.min(cores, 16)} core`) && mode.includes("fastest mode"),
    `the page says it computes on every core, threaded (${mode})`
  );
  check(
    (await user.inputValue('[data-testid="cfg-cores"]')) === String(Math.min(cores, 16)),
    "the cores field defaults to the browser's core count"
  );
  await user.waitForFunction(
    () => /^Estimated duration/.test(document.querySelector('[data-testid="train-estimate"]')?.textContent.trim() || ""),
    null,
    { timeout: 300000 }
  );
  const estimate = await user.locator('[data-testid="train-estimate"]').innerText();
  check(true, `the estimate is shown before Start (${estimate})`);
  await user.screenshot({ path: path.join(out, "new-user-estimate.png"), fullPage: true });
  await user.click('[data-testid="train-start"]');
  await user.waitForFunction(
    () => /^step [1-9]\d* of \d+ .*left/.test(document.querySelector('[data-testid="train-status"]')?.textContent.trim() || ""),
    null,
    { timeout: 600000 }
  );
  const status = await user.locator('[data-testid="train-status"]').innerText();
  check(true, `dropping training_pairs.json and pressing Train starts the run (${status})`);
  await user.screenshot({ path: path.join(out, "new-user-training.png"), fullPage: true });
  await user.click('[data-testid="train-cancel"]');
  await user.waitForFunction(
    () => /cancelled/.test(document.querySelector('[data-testid="train-outcome"]')?.textContent || ""),
    null,
    { timeout: 600000 }
  );
  check(true, "Cancel stops it and keeps the best checkpoint");
  await context2.close();
  fs.rmSync(profile2, { recursive: true, force: true });

  // 10. A host without the isolation headers: the page runs the single-threaded worker, says so,
  // and still works (the model loads, the estimate's training steps run).
  const plain = await serve(dist, { isolate: false });
  const plainOrigin = `http://127.0.0.1:${plain.port}`;
  const profile3 = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-e2e-plain-"));
  const context3 = await launch(profile3);
  const slow = context3.pages()[0] || (await context3.newPage());
  watch(context3, slow, plainOrigin, foreign, problems, " (not isolated)");
  await slow.goto(plainOrigin + "/");
  await slow.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
  await slow.click('[data-testid="tab-data"]');
  await dropJson(slow, "training_pairs.json", pairsJson);
  await slow.waitForSelector('[data-testid="data-file"]', { timeout: 30000 });
  await slow.click('[data-testid="tab-train"]');
  await slow.fill('[data-testid="cfg-max-pairs"]', "64");
  await slow.press('[data-testid="cfg-max-pairs"]', "Tab");
  const slowMode = await slow.locator('[data-testid="compute-mode"]').innerText();
  check(
    /Computing on 1 core, not in the fastest mode: .*not cross-origin isolated/.test(slowMode),
    `without COOP/COEP the page says why it is slower (${slowMode})`
  );
  await slow.waitForFunction(
    () => /^Estimated duration/.test(document.querySelector('[data-testid="train-estimate"]')?.textContent.trim() || ""),
    null,
    { timeout: 300000 }
  );
  const slowEstimate = await slow.locator('[data-testid="train-estimate"]').innerText();
  const slowSteps = Number((/\((\d+) steps/.exec(slowEstimate) || [])[1]);
  check(
    slowSteps > 0 && slowSteps <= 12 * 2,
    `and still trains, on one core; the estimate is for the 64 pairs asked for (${slowEstimate})`
  );
  await slow.screenshot({ path: path.join(out, "not-isolated.png"), fullPage: true });
  await context3.close();
  plain.server.close();
  fs.rmSync(profile3, { recursive: true, force: true });

  check(foreign.length === 0, `no request left the origin (${foreign.length}: ${foreign.slice(0, 3)})`);
  check(dialogs === 0, "no alert ran");
  check(problems.length === 0, `no page errors (${problems.slice(0, 3).join(" | ")})`);
  console.log(`e2e passed in ${((Date.now() - t0) / 1000).toFixed(0)} s; ${requests.length} requests, screenshots in ${out}`);
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
