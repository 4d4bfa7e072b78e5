#!/usr/bin/env bash
# Trunk's post-build step (Trunk.toml), one script because Trunk starts the hooks of a stage all at
# once and these three must run in order: the page's CSP gets the inline loader's hash, the
# threaded worker is built into mt/, and only then is the whole site versioned and its service
# worker written (sw-manifest.py hashes what the first two wrote).
set -euo pipefail
cd "$(dirname "$0")/.."
site=${TRUNK_STAGING_DIR:?run by trunk build (Trunk.toml), which sets TRUNK_STAGING_DIR}
python3 scripts/csp-hashes.py "$site"
bash scripts/build-worker-mt.sh "$site/mt"
python3 scripts/sw-manifest.py "$site"
