#!/usr/bin/env python3
"""Trunk post-build hook: allow exactly the inline <script>s Trunk wrote (its wasm loader) in the
page's Content-Security-Policy, by their sha256, so the policy needs no 'unsafe-inline'.

Trunk runs it with TRUNK_STAGING_DIR pointing at the built site; index.html there carries the
placeholder CSP_INLINE_SCRIPT_HASHES in its CSP meta tag."""
import base64
import hashlib
import os
import re
import sys

staging = os.environ.get("TRUNK_STAGING_DIR") or (sys.argv[1] if len(sys.argv) > 1 else None)
if not staging:
    sys.exit("csp-hashes: TRUNK_STAGING_DIR is not set")
path = os.path.join(staging, "index.html")
html = open(path, encoding="utf-8").read()
if "CSP_INLINE_SCRIPT_HASHES" not in html:
    sys.exit(f"csp-hashes: {path} has no CSP_INLINE_SCRIPT_HASHES placeholder")
scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
hashes = sorted(
    {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'" for s in scripts}
)
html = html.replace("CSP_INLINE_SCRIPT_HASHES", " ".join(hashes))
open(path, "w", encoding="utf-8").write(html)
print(f"csp-hashes: {len(scripts)} inline script(s) allowed by hash", file=sys.stderr)
