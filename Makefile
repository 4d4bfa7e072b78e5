# ticketsim — two commands on a fresh machine:
#   make run    install what is missing, build, serve the web app on http://127.0.0.1:8080
#   make test   install what is missing, then every test (lint, native, in-browser)
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
MODELS ?= $(or $(TICKETSIM_MODELS),$(HOME)/.cache/ticketsim/models)
REFERENCE ?= ../shared/reference
DATASETS ?= ../shared/datasets
export TICKETSIM_MODELS := $(MODELS)
export TICKETSIM_REFERENCE := $(REFERENCE)
# The model files the web app serves (the cache also holds README etc.).
WEB_MODEL_FILES := config.json model.safetensors tokenizer.json modules.json sentence_bert_config.json 1_Pooling/config.json

.PHONY: help run test setup models lint test-native test-wasm test-e2e build web bench bench-web bench-app bench-backlog bench-scale test-memory bench-quality bench-quality-gitbugs bench-quality-sample bench-quality-default web-model check-python check-cuda gpu-bundle

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

run: setup web-model ## build and serve the web app on http://127.0.0.1:8080
	trunk serve

test: setup models lint test-native test-wasm test-e2e ## every test

setup: ## install toolchain pieces, trunk, wasm-bindgen-cli, chromium (idempotent)
	scripts/setup.sh

models: ## fetch and verify all-MiniLM-L6-v2 and all-mpnet-base-v2 into the cache
	scripts/fetch-model.sh minilm "$(MODELS)"
	scripts/fetch-model.sh mpnet "$(MODELS)"

web-model: ## copy the default model into www/models/minilm for Trunk to bundle
	scripts/fetch-model.sh minilm "$(MODELS)"
	for f in $(WEB_MODEL_FILES); do mkdir -p "www/models/minilm/$$(dirname $$f)"; cp -u "$(MODELS)/minilm/$$f" "www/models/minilm/$$f"; done

lint: ## rustfmt, clippy and rustdoc (native, wasm32, xtask) with warnings as errors; no import cycles
	cargo fmt --all -- --check
	cargo clippy --release --all-targets -- -D warnings
	cargo clippy --release --all-targets --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --release -p xtask --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps
	RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --target wasm32-unknown-unknown
	RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps -p xtask
	python3 scripts/module-graph.py

test-native: ## unit + integration tests (real models against shared/reference); xtask (sample data) tests
	cargo test --release
	cargo test --release -p xtask

test-wasm: ## in-browser tests in headless Chromium (encoder parity in wasm)
	scripts/test-wasm.sh

test-e2e: web ## click through the built app in headless Chromium (Playwright); screenshots in test-output/e2e; same results on 1, 2, 3 threads; a crashed worker keeps the run's best checkpoint; opens offline, updates whole
	cargo build --release
	node tests/e2e/threads.mjs dist $(DATASETS)
	node tests/e2e/app.test.mjs dist test-output/e2e
	node tests/e2e/crash.mjs dist test-output/e2e-crash
	node tests/e2e/offline.mjs dist test-output/e2e-offline

web: web-model ## build the web app into dist/
	trunk build

build: web ## release CLI and web bundle
	cargo build --release

bench: ## encode and fine-tuning throughput vs the sentence-transformers reference
	cargo run --release -- bench embed --model minilm --data $(DATASETS)/stsbenchmark/sts-test.csv --reference $(REFERENCE)/stsb-zero-shot.json
	cargo run --release -- bench train --model minilm --data $(DATASETS)/stsbenchmark/sts-train.csv --eval-data $(DATASETS)/stsbenchmark/sts-dev.csv --reference $(REFERENCE)/finetune-stsb2000-all-MiniLM-L6-v2.json

bench-web: setup models web-model ## in-browser (threaded and single-threaded workers) vs native throughput on the same workload
	scripts/bench-web.sh

bench-backlog: setup web ## 10,000 synthetic incidents analysed in the app (retrieval, groups, map): time, longest frozen frame, progress seen
	mkdir -p test-output
	node tests/e2e/backlog.mjs dist --n 10000

SCALE_COUNT ?= 10000
test-memory: setup models web ## all-mpnet-base-v2 fine-tuned in the browser (1 epoch at batch 8 / 64 tokens; the v3 settings for two steps), MiniLM the same, a run too big refused: the worker's peak wasm memory each (~25 min; not in make test)
	node tests/e2e/memory.mjs dist test-output/memory

bench-scale: setup web ## a generated 10,000-incident export (SCALE_COUNT) through load, pairs, labelling queue, find similar and a reload: step times, worst main-thread stall, tab memory
	cargo run --release -p xtask -- sample-data --count $(SCALE_COUNT) --seed 7 --out target/scale-$(SCALE_COUNT)
	node tests/e2e/scale.mjs dist target/scale-$(SCALE_COUNT)/incidents.csv --out test-output/scale-$(SCALE_COUNT)

GITBUGS := $(DATASETS)/gitbugs
QUALITY_FLAGS ?= --seeds 42,43,44 --epochs 3 --max-seq-length 128
QUALITY_OUT ?= results/quality
bench-quality: bench-quality-gitbugs bench-quality-sample bench-quality-default ## recipes judged on held-out tickets: tables on stderr, reports in results/quality (hours on 2 cores; resumes a stopped run)
	cargo run --release -- bench recommend --report $(QUALITY_OUT)/gitbugs.json --report $(QUALITY_OUT)/sample.json

bench-quality-gitbugs: setup models ## the quality benchmark on GitBugs (≈ 15 min a seed on 2 cores)
	mkdir -p $(QUALITY_OUT)
	cargo run --release -- bench quality --incidents $(GITBUGS)/incidents.csv --links $(GITBUGS)/pairs-train.json --links $(GITBUGS)/pairs-test.json $(QUALITY_FLAGS) --resume --out $(QUALITY_OUT)/gitbugs.json

bench-quality-default: setup models ## the default recipe at the default settings (12 epochs, 256 tokens) on GitBugs, vs base and BM25 (≈ 50 min a seed on 2 cores; resumes)
	mkdir -p $(QUALITY_OUT)
	cargo run --release -- bench quality --incidents $(GITBUGS)/incidents.csv --links $(GITBUGS)/pairs-train.json --links $(GITBUGS)/pairs-test.json --recipe mnrl --seeds 42,43,44 --resume --out $(QUALITY_OUT)/gitbugs-default-settings.json

bench-quality-sample: setup models ## the quality benchmark on the sample incidents (≈ 1 h a seed on 2 cores)
	mkdir -p $(QUALITY_OUT)
	cargo run --release -- bench quality --incidents data/incidents.csv $(QUALITY_FLAGS) --resume --out $(QUALITY_OUT)/sample.json

bench-app: setup web ## a 1-epoch run on data/training_pairs.json in the app as a user starts it: the estimate shown, then the real time
	node tests/e2e/epoch.mjs dist

ST_VENV ?= $(HOME)/.cache/ticketsim/venv-st
BIN := $(or $(CARGO_TARGET_DIR),target)/release/ticketsim
CHECK_DIR := $(or $(CARGO_TARGET_DIR),target)/check-python
check-python: ## train a short run, then load the folder with Python sentence-transformers 6.2 and compare embeddings
	test -x $(ST_VENV)/bin/python || (python3 -m venv $(ST_VENV) && $(ST_VENV)/bin/pip install -q sentence-transformers==6.2.0 torch==2.15.0)
	cargo build --release
	rm -rf $(CHECK_DIR) && $(BIN) train --data $(DATASETS)/gitbugs/pairs-train.json --epochs 1 --output $(CHECK_DIR) > /dev/null
	HF_HUB_OFFLINE=1 $(ST_VENV)/bin/python scripts/st-load-check.py $(CHECK_DIR) $(BIN)

# The CUDA build lives in its own target folder: switching candle's features back and forth in one
# folder would rebuild candle every time and swap target/release/ticketsim between the two builds.
CUDA_TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)/cuda
check-cuda: ## install the CUDA 13.0 toolkit from PyPI wheels if missing; build and lint --features cuda (no GPU needed)
	scripts/cuda-toolkit.sh > /dev/null
	eval "$$(scripts/cuda-toolkit.sh --env)" && export CARGO_TARGET_DIR=$(CUDA_TARGET_DIR) && \
	  cargo build --release --features cuda && \
	  cargo clippy --release --features cuda --all-targets -- -D warnings
	@echo "check-cuda: built $(CUDA_TARGET_DIR)/release/ticketsim; it runs where the NVIDIA driver and cuBLAS/cuRAND 13 are"

gpu-bundle: ## pack the CUDA binaries, models and references for scripts/gpu-check.sh run on a GPU machine
	scripts/gpu-check.sh bundle .gpu
