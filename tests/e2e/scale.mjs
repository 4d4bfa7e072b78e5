// A real-size incident export in the app, as a service desk would use it (issue 19): a fresh
// profile drops a generated export of N incidents (`xtask sample-data --count N --seed 7`),
// generates pairs, builds the labelling queue, runs find similar, reloads and builds the queue
// again. Meanwhile two probes watch the page's main thread:
//   - from outside, as a user's click would: every 250 ms the test calls into the page and times
//     the round trip (the probe);
//   - from inside: the longest gap between two animation frames.
// The worst of each, per step, is the longest the page was frozen (the first also counts the
// browser's and the test's own delays in answering: on 2 cores they share a core with the page
// while the worker computes, so it reads higher than the second). After each step the tab's memory is
// measured (performance.measureUserAgentSpecificMemory: page, worker, pool threads and their wasm
// memories; the page is cross-origin isolated), and the worker's wasm memory size is read from the
// page. Prints one line
//   BENCH_SCALE {"incidents":…,"steps":{…seconds…},"worst_probe_ms_by_step":{…},"worst_frame_gap_ms_by_step":{…},…}
// and exits non-zero when a check fails (the stall bound is --max-stall, 200 ms by default).
//   node tests/e2e/scale.mjs DIST INCIDENTS_CSV [--max-stall 200] [--out DIR] [--profile] [--cores N]
import { serve, launch } from "./lib.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const args = process.argv.slice(2);
const dist = path.resolve(args[0] || path.join(root, "dist"));
const csvPath = path.resolve(args[1]);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const maxStall = parseFloat(opt("--max-stall", "200"));
const out = path.resolve(opt("--out", path.join(root, "test-output", "scale")));
fs.mkdirSync(out, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function main() {
  let n = 0; // read from the page once loaded
  const { server, port } = await serve(dist);
  const origin = `http://127.0.0.1:${port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-scale-"));
  const context = await launch(profile);
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  const text = (id) => page.locator(`[data-testid="${id}"]`).first().innerText();
  const steps = {};
  const memory = {};
  let probe = { worst: 0, calls: 0, stop: false, during: "" };
  const worstBy = {};
  const slowBy = {}; // probes over 100 ms, per step
  const frameGapBy = {}; // the longest gap between two animation frames, per step
  const startProbes = async () => {
    await page.evaluate(() => {
      window.__gaps = { last: performance.now(), max: 0 };
      const tick = (t) => {
        window.__gaps.max = Math.max(window.__gaps.max, t - window.__gaps.last);
        window.__gaps.last = t;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    probe.stop = false;
    (async () => {
      while (!probe.stop) {
        const t = Date.now();
        try {
          await page.evaluate(() => 1);
        } catch {
          // A reload in progress: no page to call.
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        const ms = Date.now() - t;
        probe.worst = Math.max(probe.worst, ms);
        worstBy[probe.during] = Math.max(worstBy[probe.during] || 0, ms);
        if (ms > 100) slowBy[probe.during] = (slowBy[probe.during] || 0) + 1;
        probe.calls++;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  };
  const frameGap = () => page.evaluate(() => (window.__gaps ? window.__gaps.max : 0));
  const measure = async (label) => {
    const m = await page.evaluate(async () => {
      let total = null;
      try {
        if (self.crossOriginIsolated && performance.measureUserAgentSpecificMemory) {
          total = (await performance.measureUserAgentSpecificMemory()).bytes;
        }
      } catch {
        total = null;
      }
      return { tab_bytes: total, js_heap_bytes: performance.memory ? performance.memory.usedJSHeapSize : null };
    });
    memory[label] = m;
  };
  // --profile: a CPU profile of the page's main thread per step (not the worker's), its top
  // functions by self time printed — where a stall comes from.
  const profiles = {};
  const profiled = args.includes("--profile");
  const timed = async (label, f) => {
    probe.during = label;
    let cdp = null;
    if (profiled) {
      cdp = await context.newCDPSession(page);
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
      await cdp.send("Profiler.start");
    }
    await page.evaluate(() => {
      if (window.__gaps) window.__gaps.max = 0;
    });
    const t = Date.now();
    await f();
    steps[label] = (Date.now() - t) / 1000;
    frameGapBy[label] = Math.round(await frameGap());
    if (cdp) {
      const { profile: prof } = await cdp.send("Profiler.stop");
      const dt = new Map();
      const byId = new Map(prof.nodes.map((n) => [n.id, n]));
      for (let i = 0; i < prof.samples.length; i++) {
        const node = byId.get(prof.samples[i]);
        const name = node.callFrame.functionName || "(anonymous)";
        dt.set(name, (dt.get(name) || 0) + (prof.timeDeltas[i] || 0) / 1000);
      }
      const top = [...dt.entries()]
        .filter(([k]) => k !== "(idle)" && k !== "(program)")
        .sort((x, y) => y[1] - x[1])
        .slice(0, 25)
        .map(([k, v]) => [k.slice(0, 120), Math.round(v)]);
      profiles[label] = top;
      console.log(`PROFILE ${label}: ` + top.map(([k, v]) => `${v} ms ${k}`).join("\n    "));
      await cdp.detach();
    }
    await measure(label);
    await page.screenshot({ path: path.join(out, `${label}.png`), fullPage: true });
  };
  try {
    await page.goto(origin + "/");
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
    // --cores N: the worker computes on N threads (the fine-tune panel's cores field) — to see
    // how much of a stall is the page's own work and how much the worker's threads taking every
    // core from it.
    const cores = opt("--cores", null);
    if (cores) {
      await page.click('[data-testid="tab-train"]');
      await page.fill('[data-testid="cfg-cores"]', cores);
      await page.press('[data-testid="cfg-cores"]', "Tab");
      await page.waitForFunction((n) => document.querySelector('[data-testid="compute-mode"]')?.textContent.includes(`Computing on ${n} `), cores, { timeout: 60000 });
    }
    await startProbes();
    await page.click('[data-testid="tab-data"]');
    await timed("load", async () => {
      // Picked as a user picks a file (by path): dropping it from the test would send its 4 MB
      // through the DevTools channel the probe uses, and the probe would time that transfer.
      await page.setInputFiles('[data-testid="data-drop-input"]', csvPath);
      await page.waitForSelector('[data-testid="data-file"]', { timeout: 300000 });
    });
    const counts = await text("data-file-counts");
    n = parseInt((counts.match(/kept (\d+) of/) || [])[1] || "0", 10);
    check(n > 0, `the incidents are loaded (${counts})`);
    await timed("generate_pairs", async () => {
      await page.click('[data-testid="generate-pairs"]');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="data-file"]').length >= 5, null, { timeout: 300000 });
    });
    await page.click('[data-testid="tab-label"]');
    const progressSeen = new Set();
    const buildQueue = async () => {
      await page.click('[data-testid="build-queue"]');
      for (;;) {
        if (await page.locator('[data-testid="label-pair"]').count()) break;
        const s = await text("label-status");
        if (/Could not|Stopped/.test(s)) throw new Error(s);
        const m = s.match(/(encoding with the \w+ model|reading cached embeddings|finding each ticket's nearest): \d+ of \d+(, about .* left)?/);
        if (m) progressSeen.add(m[0].replace(/\d+ of/, "… of").replace(/about .* left/, "about … left"));
        await page.waitForTimeout(500);
      }
      return text("label-status");
    };
    let first;
    await timed("build_queue", async () => {
      first = await buildQueue();
    });
    const enc = first.match(/(\d+) of (\d+) tickets encoded/);
    check(enc && enc[1] === enc[2], `the queue is built, every ticket encoded once: ${first}`);
    check([...progressSeen].some((p) => p.startsWith("encoding")), `progress with n of N was shown (${[...progressSeen].join(" | ")})`);
    check([...progressSeen].some((p) => p.includes("left")), "an ETA was shown while encoding");
    await page.click('[data-testid="tab-demo"]');
    await page.fill('[data-testid="find-query"]', "VPN disconnects every few minutes since this morning");
    await timed("find_similar", async () => {
      await page.click('[data-testid="find-run"]');
      await page.waitForSelector('[data-testid="find-hit"]', { timeout: 600000 });
    });
    // A reload: the page and the worker start again; the queue must not encode again.
    probe.during = "reload";
    await page.reload();
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
    await startProbes();
    await page.click('[data-testid="tab-label"]');
    let again;
    await timed("build_queue_after_reload", async () => {
      again = await buildQueue();
    });
    check(new RegExp(`\\b0 of \\d+ tickets encoded`).test(again), `after a reload nothing is encoded again: ${again}`);
    probe.stop = true;
    const line = {
      incidents: n,
      cores: cores ? Number(cores) : "default",
      steps,
      worst_probe_ms: probe.worst,
      worst_probe_ms_by_step: worstBy,
      probes_over_100_ms_by_step: slowBy,
      worst_frame_gap_ms_by_step: frameGapBy,
      probe_calls: probe.calls,
      progress_seen: [...progressSeen],
      first_status: first,
      status_after_reload: again,
      memory,
      problems,
      ...(profiled ? { profiles } : {}),
    };
    console.log("BENCH_SCALE " + JSON.stringify(line));
    fs.writeFileSync(path.join(out, "scale.json"), JSON.stringify(line, null, 2));
    check(problems.length === 0, `no page errors (${problems.join("; ")})`);
    const worstOutsideReload = Math.max(0, ...Object.entries(worstBy).filter(([k]) => k !== "reload").map(([, v]) => v));
    check(worstOutsideReload <= maxStall, `the page's worst main-thread stall is ${worstOutsideReload} ms (≤ ${maxStall} ms)`);
  } finally {
    probe.stop = true;
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
