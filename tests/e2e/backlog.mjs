// The ticket analysis at backlog scale, as a user would run it: a fresh profile drops N synthetic
// incidents (from the sample incidents' titles and descriptions, with duplicate links between
// copies), presses "Analyse tickets" on the Evaluate step and waits for the retrieval table, the
// groups and the map. Meanwhile the page counts its animation frames: the longest gap between two
// frames is how long the page was frozen. Prints one line
//   BENCH_BACKLOG {"incidents":…,"seconds":…,"longest_frame_gap_ms":…,"progress_seen":[…],…}
// `make bench-backlog` runs it with 10,000 incidents (minutes; not part of `make test`). Usage:
//   node tests/e2e/backlog.mjs DIST [--n 10000]
import { serve, launch, dropJson } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const args = process.argv.slice(2);
const dist = path.resolve(args[0] || path.join(root, "dist"));
const nArg = args.indexOf("--n");
const n = nArg >= 0 ? parseInt(args[nArg + 1], 10) : 10000;

// Sample incidents' text, cycled with a number so texts differ; every 5th incident duplicates the
// one before it (a small edit of its title), so there are links to retrieve.
function incidents(count) {
  const csv = fs.readFileSync(path.join(root, "data", "incidents.csv"), "utf8");
  const titles = [...csv.matchAll(/^INC\d+,[^,]*,([^,\n]+),/gm)].map((m) => m[1]);
  const out = [];
  for (let i = 0; i < count; i++) {
    const t = titles[i % titles.length];
    const dup = i % 5 === 4;
    out.push({
      number: `B${i}`,
      short_description: dup ? `again: ${titles[(i - 1) % titles.length]} (${i})` : `${t} (${i})`,
      duplicate_of: dup ? `B${i - 1}` : "",
    });
  }
  return out;
}

async function main() {
  const { server, port } = await serve(dist);
  const origin = `http://127.0.0.1:${port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-backlog-"));
  const context = await launch(profile);
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  try {
    await page.goto(origin + "/");
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
    await page.click('[data-testid="tab-data"]');
    await dropJson(page, "backlog.json", JSON.stringify(incidents(n)));
    await page.waitForSelector('[data-testid="data-file"]', { timeout: 120000 });
    await page.click('[data-testid="tab-evaluate"]');
    // Frame gaps from here on.
    await page.evaluate(() => {
      window.__gaps = { last: performance.now(), max: 0 };
      const tick = (t) => {
        window.__gaps.max = Math.max(window.__gaps.max, t - window.__gaps.last);
        window.__gaps.last = t;
        if (!window.__gaps.stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const t0 = Date.now();
    await page.click('[data-testid="backlog-run"]');
    const progress = new Set();
    while (!(await page.locator('[data-testid="retrieval-table"]').count())) {
      const p = await page.locator('[data-testid="backlog-progress"]').allInnerTexts();
      p.forEach((x) => x && progress.add(x.replace(/\d+ of/, "… of")));
      const status = await page.locator('[data-testid="backlog-status"]').innerText();
      if (!status.startsWith("Analysing") && !status.includes("analysed")) throw new Error(status);
      if (Date.now() - t0 > 1800000) throw new Error("no table after 30 min");
      await page.waitForTimeout(500);
    }
    const seconds = (Date.now() - t0) / 1000;
    const gap = await page.evaluate(() => {
      window.__gaps.stop = true;
      return window.__gaps.max;
    });
    const groups = await page.locator('[data-testid="groups-base"] h4').innerText();
    const caption = await page.locator('[data-testid="retrieval-table"] caption').first().innerText();
    const status = await page.locator('[data-testid="backlog-status"]').innerText();
    console.log(
      "BENCH_BACKLOG " +
        JSON.stringify({ incidents: n, seconds, longest_frame_gap_ms: Math.round(gap), progress_seen: [...progress], status, caption, groups, problems })
    );
    await page.screenshot({ path: path.join(root, "test-output", "backlog.png"), fullPage: true });
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
