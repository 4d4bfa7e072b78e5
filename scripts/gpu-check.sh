#!/usr/bin/env bash
# Everything the CUDA build must show on a real GPU, in one script (README "GPU"):
#   1. the embedding-parity tests (both models), the one-step parity test and the gradient tests,
#      in-process on the GPU with the CPU's tolerances, plus zero-shot STS-B through the CLI;
#   2. fine-tuning throughput of all-mpnet-base-v2 on the STS-B 2000-pair workload (1 epoch, batch
#      32, max_seq_length 256): ticketsim vs PyTorch + sentence-transformers on the same GPU in the
#      same run, alternating, f32 and reduced precision, with peak GPU memory;
#   3. the full v3 recipe (12 epochs, batch 32, lr 2e-5, warmup 100, max_seq_length 256) on the
#      sample data (data/training_pairs.json) and on STS-B 2000, each against PyTorch.
#
#   scripts/gpu-check.sh bundle [DIR]                here, no GPU needed: build the CUDA binaries and
#                                                    pack what a run needs into DIR (default .gpu)
#   scripts/gpu-check.sh verify [DIR]                join the parts and check every sha256 (no GPU)
#   scripts/gpu-check.sh run [DIR] [OUT] [PHASE...]  on the GPU machine: unpack, verify, run
#                                                    PHASEs (checks bench recipe-sample recipe-stsb;
#                                                    default all) and write OUT/report.md
#
# The GPU machine needs the NVIDIA driver, python3 with torch + sentence-transformers, and cuBLAS /
# cuRAND 13 (found in PyTorch's nvidia/cu13 wheels or a CUDA install). It needs no network and no
# Rust. `bundle` splits the models into parts of at most 48 MiB (DIR/p01, DIR/p02, ...), so a
# machine reachable only through 64 MiB transfers gets one part per transfer; `run` joins the parts
# and checks every file's sha256 first.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:?usage: gpu-check.sh bundle [DIR] | run [DIR] [OUT] [PHASE...]}
dir=${2:-.gpu}
models=${TICKETSIM_MODELS:-$HOME/.cache/ticketsim/models}
reference=${TICKETSIM_REFERENCE:-../shared/reference}
datasets=${DATASETS:-../shared/datasets}
part_bytes=$((48 << 20))

bundle() {
  rm -rf "$dir" && mkdir -p "$dir/stage"/{bin,reference,datasets,models}
  local stage="$dir/stage" target="${CARGO_TARGET_DIR:-target}/cuda"
  make check-cuda CUDA_TARGET_DIR="$target" >&2
  # shellcheck disable=SC1090
  eval "$(scripts/cuda-toolkit.sh --env)"
  # The integration-test binary: parity, one training step and gradients run in-process on any
  # device (TICKETSIM_TEST_DEVICE).
  local it
  it=$(CARGO_TARGET_DIR="$target" cargo test --release --features cuda --no-run --test it \
    --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it" and m.get("executable"):
        print(m["executable"])' | tail -1)
  [ -x "$it" ] || { echo "gpu-check: no test binary built" >&2; exit 1; }
  cp "$target/release/ticketsim" "$stage/bin/ticketsim"
  cp "$it" "$stage/bin/it"
  cp "$reference"/*.json "$stage/reference/"
  cp -r "$datasets/stsbenchmark" "$stage/datasets/"
  for m in minilm mpnet; do
    scripts/fetch-model.sh "$m" "$models" >&2
    cp -rL "$models/$m" "$stage/models/$m"
  done
  (cd "$stage" && find . -type f ! -name manifest.sha256 | sort | xargs sha256sum > manifest.sha256)
  # Cut files into chunks, then fill parts of at most part_bytes in file order.
  python3 - "$stage" "$dir" "$part_bytes" <<'EOF'
import os, sys
stage, out, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
chunks = []  # (relative name, bytes)
for root, _, files in os.walk(stage):
    for f in sorted(files):
        path = os.path.join(root, f)
        rel = os.path.relpath(path, stage)
        with open(path, "rb") as fh:
            data = fh.read()
        if len(data) <= cap:
            chunks.append((rel, data))
        else:
            for i in range(0, len(data), cap):
                chunks.append((f"{rel}.chunk{i // cap:03d}", data[i:i + cap]))
parts, size = [[]], 0
for rel, data in sorted(chunks, key=lambda c: c[0]):
    if size + len(data) > cap and parts[-1]:
        parts.append([]); size = 0
    parts[-1].append((rel, data)); size += len(data)
for k, part in enumerate(parts, 1):
    for rel, data in part:
        p = os.path.join(out, f"p{k:02d}", rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(data)
print(len(parts))
EOF
  rm -rf "$stage"
  local n
  n=$(ls -d "$dir"/p* | wc -l)
  echo "gpu-check: bundle in $dir: $n parts ($(du -sh "$dir" | cut -f1))" >&2
  echo "Send every $dir/pNN to the GPU machine (one per transfer where transfers are capped at 64 MiB)," >&2
  echo "then run there: scripts/gpu-check.sh run $dir OUT_DIR" >&2
}

# Join the parts into DIR/stage and verify it.
unpack() {
  local stage="$dir/stage"
  if [ -f "$stage/.verified" ]; then return; fi
  rm -rf "$stage" && mkdir -p "$stage"
  for p in "$dir"/p[0-9][0-9]; do cp -r "$p/." "$stage/"; done
  (cd "$stage" && find . -name '*.chunk000' | while read -r first; do
     base=${first%.chunk000}; cat "$base".chunk[0-9][0-9][0-9] > "$base"; rm "$base".chunk[0-9][0-9][0-9]
   done)
  (cd "$stage" && sha256sum --quiet -c manifest.sha256) || { echo "gpu-check: bundle incomplete or corrupt (missing parts?)" >&2; exit 1; }
  chmod +x "$stage/bin/"*
  touch "$stage/.verified"
}

# cuBLAS / cuRAND 13 for the binaries: PyTorch's nvidia wheels, else a system CUDA.
find_cuda_libs() {
  local d
  d=$(python3 - <<'EOF' 2>/dev/null || true
import glob, site, sys
dirs = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for d in dirs:
    hit = glob.glob(f"{d}/nvidia/cu13/lib/libcublas.so.13") or glob.glob(f"{d}/nvidia/cublas/lib/libcublas.so.13")
    if hit:
        libs = {h.rsplit("/", 1)[0] for h in glob.glob(f"{d}/nvidia/*/lib/lib*.so.*")}
        print(":".join(sorted(libs)))
        break
EOF
)
  for extra in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$extra" ] && d="${d:+$d:}$extra"
  done
  echo "$d"
}

run() {
  local out=${3:-${OUT:-gpu-report}}
  shift $(( $# < 3 ? $# : 3 ))
  local phases=("$@")
  [ ${#phases[@]} -gt 0 ] || phases=(checks bench recipe-sample recipe-stsb)
  unpack
  mkdir -p "$out"
  local S
  S=$(cd "$dir/stage" && pwd)
  out=$(cd "$out" && pwd)
  local libs
  libs=$(find_cuda_libs)
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export TICKETSIM_MODELS="$S/models" TICKETSIM_REFERENCE="$S/reference"
  local bin="$S/bin/ticketsim" sts="$S/datasets/stsbenchmark" work
  work=$(mktemp -d)
  head -n 2000 "$sts/sts-train.csv" > "$work/stsb2000.tsv"
  { echo "# GPU check, $(date -u +%FT%TZ)"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } | tee -a "$out/report.md"
  ldd "$bin" | grep -E 'cuda|cublas|curand' | tee "$out/ldd.txt" || true

  for phase in "${phases[@]}"; do
    echo "## $phase" | tee -a "$out/report.md"
    case "$phase" in
      checks)
        # A failure is reported, not fatal: the later phases still run.
        if TICKETSIM_TEST_DEVICE=cuda "$S/bin/it" --exact --test-threads 1 --nocapture \
          parity::minilm_matches_sentence_transformers parity::mpnet_matches_sentence_transformers \
          train_step::one_step_matches_sentence_transformers \
          gradients::every_parameter_gets_a_gradient_and_moves gradients::autograd_matches_finite_differences \
          > "$out/tests.log" 2>&1; then verdict="all passed"; else verdict="**FAILED** (tests.log)"; fi
        grep -E '^test |max \|diff\||loss (before|after)|grad norm|test result' "$out/tests.log" | tee -a "$out/report.md" || true
        echo "- GPU tests: $verdict" | tee -a "$out/report.md"
        for m in minilm mpnet; do
          "$bin" --device cuda sts --model "$S/models/$m" --data "$sts/sts-test.csv" > "$out/sts-$m.json"
          python3 - "$out/sts-$m.json" "$S/reference/stsb-zero-shot.json" "$m" <<'EOF' | tee -a "$out/report.md"
import json, sys
got = json.load(open(sys.argv[1])); ref = json.load(open(sys.argv[2]))
name = {"minilm": "all-MiniLM-L6-v2", "mpnet": "all-mpnet-base-v2"}[sys.argv[3]]
want = ref["models"][name]["test"]["cosine_spearman_x100"] / 100
ok = abs(got["spearman"] - want) <= 5e-4
print(f"- {name} sts-test Spearman on GPU {got['spearman']:.6f} vs sentence-transformers {want:.6f}: {'ok' if ok else 'OFF'}")
EOF
        done
        ;;
      bench)
        # Alternate the two libraries so drift (clocks, temperature) hits both alike.
        for run in 1 2; do
          python3 scripts/gpu/st_train.py --model "$S/models/mpnet" --sts-train "$sts/sts-train.csv" \
            --sts-dev "$sts/sts-dev.csv" --pairs 2000 > "$out/bench-st-f32-$run.json"
          "$bin" --device cuda bench train --model "$S/models/mpnet" --data "$sts/sts-train.csv" \
            --eval-data "$sts/sts-dev.csv" --pairs 2000 --max-seq-length 256 \
            --reference /dev/null > "$out/bench-ts-f32-$run.json"
        done
        python3 scripts/gpu/st_train.py --model "$S/models/mpnet" --sts-train "$sts/sts-train.csv" \
          --sts-dev "$sts/sts-dev.csv" --pairs 2000 --amp > "$out/bench-st-amp-1.json"
        for p in f16 bf16; do
          "$bin" --device cuda bench train --model "$S/models/mpnet" --data "$sts/sts-train.csv" \
            --eval-data "$sts/sts-dev.csv" --pairs 2000 --max-seq-length 256 --precision "$p" \
            --reference /dev/null > "$out/bench-ts-$p-1.json"
        done
        python3 scripts/gpu/report.py bench "$out" | tee -a "$out/report.md"
        ;;
      recipe-sample)
        "$bin" --device cuda train --recipe v3 --model "$S/models/mpnet" --data data/training_pairs.json \
          --output "$work/mpnet-sample" > "$out/recipe-sample-ts.json"
        cp "$work/mpnet-sample/training_metadata.json" "$out/recipe-sample-metadata.json"
        python3 scripts/gpu/st_train.py --model "$S/models/mpnet" --training-pairs data/training_pairs.json \
          --pairs "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_pairs"])' "$out/recipe-sample-ts.json")" \
          --epochs 12 > "$out/recipe-sample-st.json"
        python3 scripts/gpu/report.py recipe "$out/recipe-sample-ts.json" "$out/recipe-sample-st.json" | tee -a "$out/report.md"
        ;;
      recipe-stsb)
        "$bin" --device cuda train --recipe v3 --model "$S/models/mpnet" --data "$work/stsb2000.tsv" \
          --eval-data "$sts/sts-dev.csv" --output "$work/mpnet-stsb" > "$out/recipe-stsb-ts.json"
        cp "$work/mpnet-stsb/training_metadata.json" "$out/recipe-stsb-metadata.json"
        python3 scripts/gpu/st_train.py --model "$S/models/mpnet" --sts-train "$work/stsb2000.tsv" \
          --sts-dev "$sts/sts-dev.csv" --pairs 2000 --epochs 12 > "$out/recipe-stsb-st.json"
        python3 scripts/gpu/report.py recipe "$out/recipe-stsb-ts.json" "$out/recipe-stsb-st.json" | tee -a "$out/report.md"
        ;;
      *) echo "gpu-check: unknown phase $phase" >&2; exit 2 ;;
    esac
  done
  rm -rf "$work"
  echo "gpu-check: report in $out/report.md" >&2
}

case "$cmd" in
  bundle) bundle ;;
  verify) unpack; echo "gpu-check: $dir/stage complete, every sha256 matches" >&2 ;;
  run) run "$@" ;;
  *) echo "usage: gpu-check.sh bundle [DIR] | run [DIR] [OUT] [PHASE...]" >&2; exit 2 ;;
esac
