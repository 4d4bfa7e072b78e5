// The app opens without a server once it has been opened, and a new build replaces the old one
// whole (the service worker, www/sw.js; README "Offline"). Two scenarios, each in a fresh profile:
//   1. offline: open the app, wait for the model and for this build to be cached, keep a data file,
//      score a pair in the similarity demo; then the browser goes offline and the server stops;
//      reload: the app renders the same build, the model loads (from the page's Cache API cache),
//      the data file is still there (IndexedDB), the demo gives the same score, and the page is as
//      cross-origin isolated as it was online; then the same origin comes back online: nothing
//      breaks.
//   2. update: build A is DIST; build B is DIST with a changed stylesheet and changed worker
//      modules, versioned again by scripts/sw-manifest.py as the post-build step versions a build.
//      Open A; the server switches to B; reload: the page still runs A (version, style) and says B
//      is ready; "Reload to update": the page runs B (version, style), the only app-shell cache is
//      B's and holds B's worker modules, and the demo answers (B's worker).
//   The offline scenario runs twice: served with the COOP/COEP headers (isolated, the threaded
//   worker) and without them (one core), and must be the same offline as online each time.
// All: no request leaves the origin, no page error; the CSP's script-src allows no
// 'unsafe-inline' / 'unsafe-eval'; the manifest makes the app installable (Chromium's own check).
//
//   node tests/e2e/offline.mjs DIST [OUT_DIR]
import { serve, launch, byTestId } from "./lib.mjs";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const dist = path.resolve(process.argv[2] || path.join(root, "dist"));
const out = path.resolve(process.argv[3] || path.join(root, "target", "e2e-offline"));
fs.mkdirSync(out, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

// The version and the shell files (path -> sha256) a built site's service worker carries.
function builtSite(dir) {
  const sw = fs.readFileSync(path.join(dir, "sw.js"), "utf8");
  const build = JSON.parse(sw.match(/^const BUILD = (".*");$/m)[1]);
  const files = JSON.parse(sw.match(/^const FILES = (\{[\s\S]*?\n\});$/m)[1]);
  return { build, files };
}

// Every file of a built site but its models and its service worker: what must be cached.
function shellOnDisk(dir, rel = "") {
  const outList = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (p === "models" || p === "sw.js") continue;
    if (e.isDirectory()) outList.push(...shellOnDisk(dir, p));
    else outList.push(p);
  }
  return outList.sort();
}

// Build B: build A with a changed stylesheet (a new content-hashed name, as Trunk would give it)
// and changed worker modules (a custom section appended: same code, other bytes, same names as
// Trunk keeps them), versioned by the project's own post-build versioning step.
function deriveBuildB(a) {
  const b = fs.mkdtempSync(path.join(os.tmpdir(), "ticketsim-build-b-"));
  for (const e of fs.readdirSync(a)) {
    if (e === "models") fs.symlinkSync(path.join(a, e), path.join(b, e));
    else fs.cpSync(path.join(a, e), path.join(b, e), { recursive: true });
  }
  let html = fs.readFileSync(path.join(b, "index.html"), "utf8");
  const cssName = fs.readdirSync(b).find((f) => /^style-[0-9a-f]+\.css$/.test(f));
  const css = fs.readFileSync(path.join(b, cssName), "utf8") + "\n:root { --ticketsim-build-mark: b; }\n";
  const newName = `style-${crypto.createHash("sha256").update(css).digest("hex").slice(0, 16)}.css`;
  fs.rmSync(path.join(b, cssName));
  fs.writeFileSync(path.join(b, newName), css);
  const sri = "sha384-" + crypto.createHash("sha384").update(css).digest("base64");
  const link = new RegExp(`href="/${cssName}" integrity="[^"]*"`);
  if (!link.test(html)) throw new Error(`index.html does not link ${cssName} with an integrity hash`);
  html = html.replace(link, `href="/${newName}" integrity="${sri}"`);
  fs.writeFileSync(path.join(b, "index.html"), html);
  const name = Buffer.from("ticketsim-test-build-b");
  const section = Buffer.concat([Buffer.from([0, name.length + 1, name.length]), name]);
  for (const wasm of ["worker_bg.wasm", "mt/worker_bg.wasm"]) {
    fs.appendFileSync(path.join(b, wasm), section);
  }
  execFileSync("python3", [path.join(root, "scripts", "sw-manifest.py"), b], { stdio: "inherit" });
  return b;
}

async function open(name, isolate = true) {
  const served = await serve(dist, { isolate });
  const origin = `http://127.0.0.1:${served.port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `ticketsim-${name}-`));
  const context = await launch(profile);
  const page = context.pages()[0] || (await context.newPage());
  const foreign = [];
  const problems = [];
  context.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:")) foreign.push(u);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Offline, Chromium logs the failed service worker update check (sw.js) as an error: that
    // is the browser checking for a new build, not the app failing.
    if (m.type() === "error" && !/sw\.js/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  const { text, waitText } = byTestId(page);
  const shot = (file) => page.screenshot({ path: path.join(out, file), fullPage: true });
  // The app is up: the model loaded in the worker.
  const ready = async () => {
    await page.waitForSelector('[data-testid="model-info"]', { timeout: 300000 });
  };
  // This build is cached whole and controls the page.
  const cached = async () => {
    await waitText("offline-ready", /available offline/, 120000);
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 60000 });
  };
  // The demo's base-model score of one pair.
  const score = async () => {
    await page.click('[data-testid="tab-demo"]');
    await page.fill('[data-testid="text-a"]', "VPN disconnects every few minutes");
    await page.fill('[data-testid="text-b"]', "My VPN connection keeps dropping");
    await page.click('[data-testid="compare"]');
    await page.waitForSelector('[data-testid="similarity-base"]', { timeout: 60000 });
    return (await text("similarity-base")).split("similarity ")[1];
  };
  const shellCaches = () => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith("ticketsim-shell-")));
  const finish = async () => {
    check(foreign.length === 0, `no request left the origin (${foreign.length})`);
    check(problems.length === 0, `no page errors (${problems.join("; ") || "none"})`);
    await context.close();
    await served.stop().catch(() => {});
  };
  return { ...served, origin, context, page, text, waitText, shot, ready, cached, score, shellCaches, finish };
}

async function offline(isolate) {
  console.log(`# offline, ${isolate ? "" : "not "}cross-origin isolated`);
  const s = await open("offline", isolate);
  const { page, text } = s;
  const site = builtSite(dist);
  check(
    JSON.stringify(Object.keys(site.files).sort()) === JSON.stringify(shellOnDisk(dist)),
    `the service worker caches every file of the built app but the models (${Object.keys(site.files).length} files)`
  );
  await page.goto(s.origin + "/");
  await s.ready();
  check((await text("build")).includes(`build ${site.build}`), `the page shows its build (${await text("build")})`);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
  const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src"));
  check(!/'unsafe-inline'|'unsafe-eval'/.test(scriptSrc) && /worker-src 'self'/.test(csp), `the CSP allows no inline script or eval (${scriptSrc.trim()})`);
  const cdp = await s.context.newCDPSession(page);
  const manifest = await cdp.send("Page.getAppManifest");
  check(manifest.errors.length === 0 && /manifest\.webmanifest$/.test(manifest.url), `the web app manifest parses (${manifest.url})`);
  await s.cached();
  check((await s.shellCaches()).join() === `ticketsim-shell-${site.build}`, "this build is cached under its version");
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  check(
    installabilityErrors.length === 0,
    `Chromium finds the app installable (${installabilityErrors.map((e) => e.errorId).join(", ") || "no errors"})`
  );
  const isolatedOnline = await page.evaluate(() => self.crossOriginIsolated);
  await page.click('[data-testid="tab-data"]');
  await page.setInputFiles('[data-testid="data-drop-input"]', path.join(root, "data", "eval_pairs.json"));
  await page.waitForSelector('[data-testid="data-file"]', { timeout: 60000 });
  const online = await s.score();
  check(/^0\.\d{4}$/.test(online), `online, the demo scores a pair (${online})`);

  // Off the network: the browser's offline mode, and no server at that address either.
  await s.context.setOffline(true);
  await s.stop();
  const asked = s.requests.length;
  await page.reload();
  await s.ready();
  await s.shot(`offline${isolate ? "" : "-not-isolated"}.png`);
  check((await text("build")).includes(`build ${site.build}`), "offline, the app renders the same build");
  check(/all-MiniLM-L6-v2|MiniLM/.test(await text("model-name")), "offline, the model loads from the browser's cache");
  const isolatedOffline = await page.evaluate(() => self.crossOriginIsolated);
  check(
    isolatedOffline === isolatedOnline && isolatedOnline === isolate,
    `cross-origin isolated online and offline alike (${isolatedOnline} / ${isolatedOffline})`
  );
  const mode = await text("compute-mode");
  check(
    isolate ? /fastest mode/.test(mode) : /not cross-origin isolated/.test(mode),
    `offline, the worker build is the one online would run (${mode})`
  );
  await page.click('[data-testid="tab-data"]');
  await page.waitForSelector('[data-testid="data-file"]', { timeout: 60000 });
  check(/eval_pairs\.json/.test(await text("data-file")), "offline, the data file kept before is still there");
  const offlineScore = await s.score();
  check(offlineScore === online, `offline, the demo gives the same score (${offlineScore})`);
  check(s.requests.length === asked, "offline, nothing reached the server");

  // Back online, at the same origin.
  const again = await serve(dist, { isolate, port: s.port });
  await s.context.setOffline(false);
  await page.reload();
  await s.ready();
  check((await s.score()) === online, "back online, the app works as before");
  await again.stop();
  await s.finish();
}

async function update() {
  console.log("# update");
  const a = builtSite(dist);
  const bDir = deriveBuildB(dist);
  const b = builtSite(bDir);
  check(a.build !== b.build, `build B has a version of its own (${a.build} → ${b.build})`);
  const s = await open("update");
  const { page, text } = s;
  const mark = () => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--ticketsim-build-mark").trim());
  await page.goto(s.origin + "/");
  await s.ready();
  await s.cached();
  check((await text("build")).includes(`build ${a.build}`) && (await mark()) === "", `build A runs (${await text("build")})`);

  // A deploy: the server now serves build B.
  s.setDist(bDir);
  await page.reload();
  await s.ready();
  await s.waitText("update-ready", new RegExp(`build ${b.build}\\) is ready`), 180000);
  await s.shot("update-ready.png");
  check(
    (await text("build")).includes(`build ${a.build}`) && (await mark()) === "",
    "while B waits, the page still runs A whole (A's version, A's stylesheet)"
  );
  await page.click('[data-testid="update-apply"]');
  await s.waitText("build", new RegExp(`build ${b.build}$`), 120000);
  await s.ready();
  check((await mark()) === "b", "after the update the page runs B: B's version and B's stylesheet");
  check((await s.shellCaches()).join() === `ticketsim-shell-${b.build}`, "A's cache is gone, B's is the only one");
  const workerBytes = await page.evaluate(async (build) => {
    const cache = await caches.open(`ticketsim-shell-${build}`);
    const sizes = [];
    for (const f of ["worker_bg.wasm", "mt/worker_bg.wasm"]) sizes.push((await (await cache.match(new URL(f, location.href))).arrayBuffer()).byteLength);
    return sizes;
  }, b.build);
  const onDisk = ["worker_bg.wasm", "mt/worker_bg.wasm"].map((f) => fs.statSync(path.join(bDir, f)).size);
  check(JSON.stringify(workerBytes) === JSON.stringify(onDisk), `B's worker modules are the ones cached (${workerBytes.join(", ")} bytes)`);
  const names = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname.slice(1)));
  const shellLoaded = names.filter((n) => n in a.files || n in b.files);
  check(shellLoaded.length > 0 && shellLoaded.every((n) => n in b.files), `every app file the page loaded is B's (${shellLoaded.length})`);
  const score = await s.score();
  check(/^0\.\d{4}$/.test(score), `B's worker answers the demo (${score})`);
  await s.shot("updated.png");
  await s.finish();
  fs.rmSync(bDir, { recursive: true, force: true });
}

async function main() {
  const t0 = Date.now();
  await offline(true);
  // A host without the COOP/COEP headers: not isolated online, so not offline either.
  await offline(false);
  await update();
  console.log(`offline e2e passed in ${((Date.now() - t0) / 1000).toFixed(0)} s; screenshots in ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
