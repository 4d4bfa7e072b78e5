// The service worker that lets the app open without a server once it has been opened (README,
// "Offline"). scripts/sw-manifest.py writes it into the built site with BUILD (the build's
// version) and FILES (every file of the app shell and its sha256) filled in; this template is
// never served as it is.
//
// - install: fetch every file of FILES past the HTTP cache, check its sha256, keep it in the cache
//   of this build. A file that does not match (a server half-way through a deploy, a proxy that
//   rewrote it) fails the install: the old build stays, and the next visit tries again. So a
//   cache holds one build, whole, or nothing.
// - waiting: a new build does not take over a page that runs the old one (its JS and wasm would
//   meet the new build's files). The page asks whether one waits ("version" message), says so, and
//   sends "activate" when the user reloads to use it.
// - activate: delete the caches of other builds (never the model cache, "ticketsim-models-v1"),
//   take control of the open pages.
// - fetch: the app shell from this build's cache, cache first, with the headers the server sent
//   when it was cached (so a page that was cross-origin isolated online is isolated offline).
//   Anything else (the model files, which the page keeps in a cache of its own) goes to the network
//   untouched. Only GET requests of this origin are answered; nothing is sent anywhere.
"use strict";

const BUILD = "__TICKETSIM_BUILD__";
const FILES = __TICKETSIM_FILES__;
const PREFIX = "ticketsim-shell-";
const CACHE = PREFIX + BUILD;

// The URL of a file of FILES (paths relative to the service worker's scope).
const url = (path) => new URL(path, self.registration.scope).href;

async function sha256(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function precache() {
  const cache = await caches.open(CACHE);
  for (const [path, want] of Object.entries(FILES)) {
    // "reload": past the HTTP cache, which may still hold another build's unhashed file
    // (worker.js, worker_bg.wasm keep their names from build to build).
    const resp = await fetch(url(path), { cache: "reload" });
    if (!resp.ok) throw new Error(`${path}: HTTP ${resp.status}`);
    const body = await resp.arrayBuffer();
    const got = await sha256(body);
    if (got !== want) throw new Error(`${path}: sha256 ${got}, build ${BUILD} has ${want}`);
    await cache.put(url(path), new Response(body, { status: resp.status, statusText: resp.statusText, headers: resp.headers }));
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    precache().catch(async (e) => {
      // Leave no half-filled cache behind.
      await caches.delete(CACHE);
      throw e;
    })
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("message", (event) => {
  const kind = event.data && event.data.type;
  if (kind === "version" && event.ports[0]) event.ports[0].postMessage({ build: BUILD });
  if (kind === "activate") self.skipWaiting();
});

// The shell file a request asks for, or null: the scope itself is index.html.
function shellPath(request) {
  const u = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (u.origin !== scope.origin || !u.pathname.startsWith(scope.pathname)) return null;
  const path = u.pathname.slice(scope.pathname.length) || "index.html";
  return Object.prototype.hasOwnProperty.call(FILES, path) ? path : null;
}

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const path = shellPath(event.request);
  if (path === null) return;
  event.respondWith(
    (async () => {
      const hit = await (await caches.open(CACHE)).match(url(path));
      // Not cached (the cache was cleared by hand): the network, as without a service worker.
      return hit || fetch(event.request);
    })()
  );
});
