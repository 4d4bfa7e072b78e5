#!/usr/bin/env bash
# Install the CUDA 13.0 toolkit pieces the `cuda` feature needs from PyPI's NVIDIA wheels, into a
# cache outside the clone, and print the environment that points a build at them. No GPU and no
# driver are needed: the driver library is linked through a stub and the real one is found at run
# time. Idempotent: a complete, verified install is kept.
#
#   scripts/cuda-toolkit.sh [PREFIX]        # PREFIX defaults to $TICKETSIM_CUDA or ~/.cache/ticketsim/cuda-13.0
#   eval "$(scripts/cuda-toolkit.sh --env)" # export CUDA_HOME, PATH, CUDARC_CUDA_VERSION, ...
#
# Why 13.0 and not the newest 13.x: candle's kernels are shipped as PTX and JIT-compiled by the
# driver, which refuses PTX newer than itself (CUDA_ERROR_UNSUPPORTED_PTX_VERSION). The GPU
# machines we target run driver 580 (CUDA 13.0); PTX from nvcc 13.0 loads on it and on every newer
# driver.
set -euo pipefail

env_only=0
if [ "${1:-}" = "--env" ]; then env_only=1; shift; fi
prefix=${1:-${TICKETSIM_CUDA:-$HOME/.cache/ticketsim/cuda-13.0}}
py=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
reqs="$here/cuda-wheels.txt"
root="$prefix/site/nvidia/cu13"
stamp="$prefix/.complete"

print_env() {
  cat <<EOF
export CUDA_HOME="$root"
export CUDA_PATH="$root"
export PATH="$root/bin:\$PATH"
export LIBRARY_PATH="$root/lib:$root/lib/stubs\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$root/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export CUDARC_CUDA_VERSION=13000
export CUDA_COMPUTE_CAP=\${CUDA_COMPUTE_CAP:-90}
EOF
}

# The stamp records the pinned wheel list it was built from: a changed list reinstalls.
if [ -f "$stamp" ] && cmp -s "$stamp" "$reqs" && [ -x "$root/bin/nvcc" ]; then
  [ $env_only = 1 ] && { print_env; exit 0; }
  echo "cuda-toolkit: already installed at $prefix" >&2
  print_env
  exit 0
fi
if [ $env_only = 1 ]; then
  echo "cuda-toolkit: not installed at $prefix; run scripts/cuda-toolkit.sh first" >&2
  exit 1
fi

echo "cuda-toolkit: installing CUDA 13.0 wheels into $prefix (about 1.3 GB unpacked)" >&2
rm -rf "$prefix/site" "$stamp"
mkdir -p "$prefix/wheels" "$prefix/site"
# --require-hashes: every wheel is checked against the sha256 pinned in cuda-wheels.txt.
"$py" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux_2_12_x86_64 --platform manylinux2010_x86_64 \
  -d "$prefix/wheels" -r "$reqs"
# A wheel is a zip; unpacking beats `pip install --target` (no resolver, works in externally managed
# Pythons). Only the pinned files, not leftovers of an earlier list.
while read -r spec _; do
  case "$spec" in ''|'#'*|--*) continue ;; esac
  name=${spec%%==*}; version=${spec##*==}
  whl=$(ls "$prefix/wheels/${name//-/_}-${version}-"*.whl)
  "$py" -m zipfile -e "$whl" "$prefix/site"
done < "$reqs"
chmod +x "$root"/bin/* "$root"/nvvm/bin/* 2>/dev/null || true

# The wheels carry only versioned sonames (libcublas.so.13); the linker looks for libcublas.so.
for lib in "$root"/lib/*.so.*; do
  base=${lib%%.so.*}.so
  [ -e "$base" ] || ln -s "$(basename "$lib")" "$base"
done
# libcuda comes with the driver, never with the toolkit wheels. Link against a stub that defines
# every driver-API function cuda.h declares (the names after its _v2/_v3 macros, hence the
# preprocessor) under the driver's soname: the binary then asks for libcuda.so.1 and gets the real
# one where a GPU exists. The stub is never loaded.
mkdir -p "$root/lib/stubs"
${CC:-cc} -E -P -I "$root/include" "$root/include/cuda.h" \
  | grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | sed 's/[[:space:]]*($//' | sort -u \
  | sed 's/.*/void &(void) {}/' > "$prefix/libcuda-stub.c"
[ "$(wc -l < "$prefix/libcuda-stub.c")" -gt 300 ] || { echo "cuda-toolkit: too few functions in cuda.h" >&2; exit 1; }
${CC:-cc} -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/lib/stubs/libcuda.so" "$prefix/libcuda-stub.c"

"$root/bin/nvcc" --version | tail -2 >&2
cp "$reqs" "$stamp"
print_env
