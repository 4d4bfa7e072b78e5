#!/usr/bin/env python3
"""Serve the model cache and the reference outputs to in-browser tests, on loopback only.

    test-server.py PORT MODELS_DIR REFERENCE_DIR [DATASETS_DIR]

/models/<path> maps to MODELS_DIR/<path>, /reference/<path> to REFERENCE_DIR/<path> and
/datasets/<path> to DATASETS_DIR/<path>. Responses
carry `Access-Control-Allow-Origin: *` because wasm-bindgen-test-runner serves the test page from
another port (another origin).
"""
import http.server
import os
import sys

port, models, reference = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ROOTS = {"models": os.path.realpath(models), "reference": os.path.realpath(reference)}
if len(sys.argv) > 4:
    ROOTS["datasets"] = os.path.realpath(sys.argv[4])


class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        path = path.split("?", 1)[0].split("#", 1)[0]
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        if not parts or parts[0] not in ROOTS:
            return "/nonexistent"
        return os.path.join(ROOTS[parts[0]], *parts[1:])

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
