// What the browser tests share: the static server for the built site and Debian's Chromium.
import { chromium } from "playwright-core";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".json": "application/json",
  ".csv": "text/csv",
  ".safetensors": "application/octet-stream",
  ".png": "image/png",
  ".webmanifest": "application/manifest+json",
};

// A static server for `dist`, remembering what was asked. `isolate` (default true) sends the two
// headers that make the page cross-origin isolated (shared memory: the threaded worker), as
// `trunk serve` does (Trunk.toml); false serves it as a host without them would. `mounts` maps URL
// prefixes to more folders (the tests' datasets); `/__blank.html` is an empty page of the origin,
// for tests that drive the app's workers without its UI. `port` (default: any free one) lets a test
// bring the same origin back after `stop()`; `setDist` serves another build from then on (a deploy).
export function serve(dist, { isolate = true, mounts = {}, port = 0 } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    requests.push(url.pathname);
    let base = dist;
    let rel = decodeURIComponent(url.pathname);
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (rel.startsWith(prefix)) {
        base = path.resolve(dir);
        rel = rel.slice(prefix.length);
      }
    }
    const headers = {};
    if (isolate) {
      headers["cross-origin-opener-policy"] = "same-origin";
      headers["cross-origin-embedder-policy"] = "require-corp";
    }
    if (url.pathname === "/__blank.html") {
      res.writeHead(200, { ...headers, "content-type": MIME[".html"] }).end("<!doctype html><title>blank</title><link rel=\"icon\" href=\"data:,\">");
      return;
    }
    let file = path.join(base, rel);
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    headers["content-type"] = MIME[path.extname(file)] || "application/octet-stream";
    res.writeHead(200, headers);
    fs.createReadStream(file).pipe(res);
  });
  const stop = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const setDist = (dir) => {
    dist = dir;
  };
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () => resolve({ server, requests, port: server.address().port, stop, setDist }))
  );
}

// Debian's Chromium with a profile of its own (a user's browser: IndexedDB and caches persist).
export function launch(profile, options = {}) {
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    ...options,
  });
}


// The page's elements by data-testid, as the tests use them: `text(id)` (the first match's
// text), `waitText(id, re, timeout)` (until its text matches `re`, a RegExp: the page's CSP forbids
// eval, so no predicate source can be shipped in) and `setField(id, v)` (type a value and leave the
// field, as a user does, so its change handler runs).
export function byTestId(page) {
  const sel = (id) => `[data-testid="${id}"]`;
  return {
    text: (id) => page.locator(sel(id)).first().innerText(),
    waitText: (id, re, timeout) =>
      page.waitForFunction(
        ([id, src]) => {
          const el = document.querySelector(`[data-testid="${id}"]`);
          return el && new RegExp(src).test(el.textContent.trim());
        },
        [id, re.source],
        { timeout }
      ),
    setField: async (id, v) => {
      await page.fill(sel(id), String(v));
      await page.press(sel(id), "Tab");
    },
  };
}

// Drop a JSON file on the app's data panel with a real drop event, as a user dragging it would.
export async function dropJson(page, name, content) {
  const dt = await page.evaluateHandle(
    ([name, content]) => {
      const d = new DataTransfer();
      d.items.add(new File([content], name, { type: "application/json" }));
      return d;
    },
    [name, content]
  );
  await page.dispatchEvent('[data-testid="data-drop"]', "drop", { dataTransfer: dt });
}

// Extract the stored (uncompressed) entries of a zip, as the app writes them, under `dir`.
export function unzipStored(buf, dir) {
  let p = 0;
  while (buf.readUInt32LE(p) === 0x04034b50) {
    if (buf.readUInt16LE(p + 8) !== 0) throw new Error("compressed entry");
    const size = buf.readUInt32LE(p + 18);
    const len = buf.readUInt16LE(p + 26);
    const extra = buf.readUInt16LE(p + 28);
    const name = buf.toString("utf8", p + 30, p + 30 + len);
    const start = p + 30 + len + extra;
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, buf.subarray(start, start + size));
    p = start + size;
  }
}

// The entry names of a zip (central directory).
export function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error("not a zip: no end of central directory");
  const n = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < n; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error("bad central directory entry");
    const len = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    names.push(buf.toString("utf8", p + 46, p + 46 + len));
    p += 46 + len + extra + comment;
  }
  return names;
}
