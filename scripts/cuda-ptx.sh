#!/usr/bin/env bash
# Regenerates the PTX that ships in the engine jar from our CUDA C kernels, for hosts without NVRTC:
# engine/src/main/resources/dev/shears/engine/cuda/NAME.cu -> .../cuda/ptx/NAME.ptx, built by nvcc for
# a stated virtual architecture (compute_80: the driver JIT-compiles it for sm_80 and newer, H100/H200
# included) with the flags the run-time NVRTC path uses (--fmad=false). Each PTX starts with a line
# holding the SHA-256 of its source; PtxHashTest fails when a source changed and this was not rerun.
# Then ptxas assembles every PTX for sm_90 as a compile check. Needs the CUDA toolkit (nvcc, ptxas),
# not a GPU. Usage: scripts/cuda-ptx.sh   (CUDA_HOME or /usr/local/cuda; PTX_ARCH=compute_80 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
CUDA="${CUDA_HOME:-/usr/local/cuda}"
NVCC="$CUDA/bin/nvcc"; PTXAS="$CUDA/bin/ptxas"
ARCH="${PTX_ARCH:-compute_80}"
CHECK_SM="${PTXAS_SM:-sm_90}"
SRC=engine/src/main/resources/dev/shears/engine/cuda
[ -x "$NVCC" ] || { echo "cuda-ptx: $NVCC not found; set CUDA_HOME to a CUDA toolkit" >&2; exit 2; }
mkdir -p "$SRC/ptx"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for cu in "$SRC"/*.cu; do
  name=$(basename "$cu" .cu)
  hash=$(sha256sum "$cu" | cut -d' ' -f1)
  "$NVCC" -ptx -arch="$ARCH" --fmad=false -std=c++17 -o "$tmp/$name.ptx" "$cu"
  "$PTXAS" -arch="$CHECK_SM" -o "$tmp/$name.cubin" "$tmp/$name.ptx"
  { echo "// shears-source-sha256 $hash $name.cu ($("$NVCC" --version | tail -n 2 | head -n 1 | sed 's/^Cuda compilation tools, //'), -arch=$ARCH --fmad=false)"
    grep -v '^// Compiler Build ID\|^// Cuda compilation tools\|^// Based on NVVM' "$tmp/$name.ptx"; } > "$tmp/$name.out"
  cp "$tmp/$name.out" "$SRC/ptx/.$name.ptx.tmp" && mv "$SRC/ptx/.$name.ptx.tmp" "$SRC/ptx/$name.ptx"   # atomic: temp + rename
  echo "cuda-ptx: $name.cu -> ptx/$name.ptx ($(grep -c '^.entry\|^\.visible \.entry' "$SRC/ptx/$name.ptx") kernels, ptxas $CHECK_SM ok)"
done
