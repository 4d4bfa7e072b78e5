#!/usr/bin/env python3
"""Version a built site and write its service worker (the last step of scripts/post-build.sh).

    scripts/sw-manifest.py SITE

- The app shell is every file of SITE except the model folder (models/: the page keeps models in
  a Cache API cache of its own) and the service worker itself.
- The build's version is the first 12 hex digits of a sha256 over the shell's paths and contents
  (index.html as Trunk wrote it, before the version goes in). Trunk's content hashes name most
  files, but not the workers (worker.js, worker_bg.wasm, mt/*), so the version covers the bytes.
- index.html gets the version in <meta name="ticketsim-build">, which the page shows.
- SITE/sw.js is www/sw.js with BUILD and FILES (path -> sha256 of the final bytes) filled in: a new
  build is a new sw.js, which is how the browser learns of it.

Running it again on a built site (the offline e2e test derives a second build from the first this
way) replaces the version in index.html and writes sw.js again."""
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "www", "sw.js")
SKIP_DIRS = {"models"}
SKIP_FILES = {"sw.js"}
META = re.compile(r'(<meta name="ticketsim-build" content=")[^"]*(")')


def shell_files(site):
    out = []
    for d, dirs, files in os.walk(site):
        rel_dir = os.path.relpath(d, site)
        if rel_dir == ".":
            dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
        else:
            dirs.sort()
        for f in sorted(files):
            rel = os.path.normpath(os.path.join(rel_dir, f)).replace(os.sep, "/")
            if rel not in SKIP_FILES:
                out.append(rel)
    return sorted(out)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    site = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TRUNK_STAGING_DIR")
    if not site:
        sys.exit("sw-manifest: give the built site's folder (or run as a Trunk hook)")
    index = os.path.join(site, "index.html")
    html = open(index, encoding="utf-8").read()
    if not META.search(html):
        sys.exit(f'sw-manifest: {index} has no <meta name="ticketsim-build" content="…">')
    files = shell_files(site)
    if "index.html" not in files:
        sys.exit(f"sw-manifest: {site} has no index.html")
    # The version: every shell file's path and sha256, index.html without a version in it.
    h = hashlib.sha256()
    for rel in files:
        digest = (
            hashlib.sha256(META.sub(r"\1\2", html).encode("utf-8")).hexdigest()
            if rel == "index.html"
            else sha256(os.path.join(site, rel))
        )
        h.update(f"{rel}\0{digest}\n".encode("utf-8"))
    build = h.hexdigest()[:12]
    html = META.sub(rf"\g<1>{build}\g<2>", html)
    with open(index, "w", encoding="utf-8") as f:
        f.write(html)
    manifest = {rel: sha256(os.path.join(site, rel)) for rel in files}
    sw = open(TEMPLATE, encoding="utf-8").read()
    for placeholder in ("__TICKETSIM_BUILD__", "__TICKETSIM_FILES__"):
        if placeholder not in sw:
            sys.exit(f"sw-manifest: {TEMPLATE} has no {placeholder}")
    sw = sw.replace('"__TICKETSIM_BUILD__"', json.dumps(build))
    sw = sw.replace("__TICKETSIM_FILES__", json.dumps(manifest, indent=1, sort_keys=True))
    with open(os.path.join(site, "sw.js"), "w", encoding="utf-8") as f:
        f.write(sw)
    size = sum(os.path.getsize(os.path.join(site, rel)) for rel in files)
    print(f"sw-manifest: build {build}, {len(files)} shell files, {size / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
