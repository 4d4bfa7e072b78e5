// Browser glue the Rust app calls through `window.ticketsimGlue` (src/app/glue.rs): IndexedDB
// key-value storage, reading dropped folders, and downloads. Plain functions returning promises;
// no data is ever sent anywhere.
"use strict";
(function () {
  const DB = "ticketsim";
  const STORES = ["labels", "files"];
  let dbPromise = null;

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const req = indexedDB.open(DB, 1);
        req.onupgradeneeded = () => {
          for (const s of STORES) {
            if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s);
          }
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }

  function tx(store, mode, fn) {
    return open().then(
      (db) =>
        new Promise((resolve, reject) => {
          const t = db.transaction(store, mode);
          const result = fn(t.objectStore(store));
          // Resolve when the transaction is durable, not when the request succeeds: a reload right
          // after a label must find it.
          t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
          t.onerror = () => reject(t.error);
          t.onabort = () => reject(t.error);
        })
    );
  }

  // Read every file under a dropped DataTransfer: loose files and folders (recursively), as
  // [{path, file}] with paths relative to the drop.
  async function droppedFiles(dataTransfer) {
    const items = Array.from(dataTransfer.items || []);
    const entries = items
      .map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null))
      .filter((e) => e);
    if (entries.length === 0) {
      return Array.from(dataTransfer.files || []).map((f) => ({ path: f.name, file: f }));
    }
    const out = [];
    async function walk(entry, prefix) {
      if (entry.isFile) {
        const file = await new Promise((res, rej) => entry.file(res, rej));
        out.push({ path: prefix + entry.name, file });
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        // readEntries returns the entries in chunks until an empty one.
        for (;;) {
          const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
          if (batch.length === 0) break;
          for (const e of batch) await walk(e, prefix + entry.name + "/");
        }
      }
    }
    for (const e of entries) await walk(e, "");
    return out;
  }

  // The service worker (www/sw.js; README "Offline"): registered once the page has loaded, so its
  // precache does not compete with the page's own first downloads. When a newer build has been
  // cached and waits, `onUpdateReady` callbacks get its version; `applyUpdate` lets it take over
  // and reloads the page once it controls it, so the page never runs on a mix of two builds.
  const update = { build: null, waiting: null, callbacks: [] };
  let applying = false;

  // `worker` waits to take over (`waiting`), or has already (another tab applied it).
  function announce(worker, waiting = true) {
    // A worker that waits while no worker controls the page is the first install: nothing to update.
    if (!worker || !navigator.serviceWorker.controller) return;
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => {
      update.build = (e.data && e.data.build) || "?";
      update.waiting = waiting ? worker : null;
      for (const cb of update.callbacks) cb(update.build);
    };
    worker.postMessage({ type: "version" }, [channel.port2]);
  }

  function watchInstalling(worker) {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") announce(worker);
    });
  }

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", () => {
      navigator.serviceWorker
        .register("./sw.js")
        .then((reg) => {
          announce(reg.waiting);
          watchInstalling(reg.installing);
          reg.addEventListener("updatefound", () => watchInstalling(reg.installing));
        })
        .catch((e) => console.warn("ticketsim: no service worker, the app will not open offline:", e));
      let controlled = !!navigator.serviceWorker.controller;
      navigator.serviceWorker.addEventListener("controllerchange", () => {
        if (applying) {
          location.reload();
        } else if (controlled) {
          // Another tab applied a newer build: this one still runs the old build, whose files
          // are gone from the cache. Say so; applying it is a reload.
          announce(navigator.serviceWorker.controller, false);
        }
        controlled = true;
      });
    });
  }

  window.ticketsimGlue = {
    // Call `cb(build)` when a newer build waits (at once if one already does).
    onUpdateReady: (cb) => {
      update.callbacks.push(cb);
      if (update.build) cb(update.build);
    },
    // Call `cb()` once this build is cached whole and opens without the network.
    onOfflineReady: (cb) => {
      if ("serviceWorker" in navigator && window.isSecureContext) navigator.serviceWorker.ready.then(() => cb());
    },
    applyUpdate: () => {
      if (!update.waiting) {
        location.reload();
        return;
      }
      applying = true;
      update.waiting.postMessage({ type: "activate" });
    },
    idbPut: (store, key, value) => tx(store, "readwrite", (s) => s.put(value, key)),
    idbDelete: (store, key) => tx(store, "readwrite", (s) => s.delete(key)),
    idbClear: (store) => tx(store, "readwrite", (s) => s.clear()),
    // [[key, value], …] in key order.
    idbEntries: (store) =>
      open().then(
        (db) =>
          new Promise((resolve, reject) => {
            const out = [];
            const req = db.transaction(store, "readonly").objectStore(store).openCursor();
            req.onsuccess = () => {
              const c = req.result;
              if (c) {
                out.push([c.key, c.value]);
                c.continue();
              } else resolve(out);
            };
            req.onerror = () => reject(req.error);
          })
      ),
    droppedFiles,
    download: (bytes, name, mime) => {
      const url = URL.createObjectURL(new Blob([bytes], { type: mime }));
      const a = document.createElement("a");
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    },
  };
})();
