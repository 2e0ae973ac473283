#!/usr/bin/env bash
# Runs on a GPU host with no Java and no Maven, from what scripts/gpu-prepare.sh put in .gpu/:
# nvidia-smi, where the CUDA libraries are, then, in order of importance (a section is skipped when its
# time limit would end past the budget, GPU_BUDGET_S, default 460 s, so the whole stays under 8 min):
#  1. the device layer's JUnit tests (package dev.shears.engine.cuda: every CUDA kernel against its
#     CPU twin, determinism, the caching allocator), kernels from NVRTC when the host has it;
#  2. CudaKernelsGpuTest again with the PTX shipped in the jar (-Dshears.cuda.kernels=ptx), then
#     CudaKernelBench (each device op timed with CUDA events on ResNet-32 b128 shapes);
#  3. the cuBLAS JUnit tests (package dev.shears.engine.nativelib) and CudaCheck (cuBLAS vs java
#     accuracy and GFLOP/s); 4. the ResNet-32 bench train step (java vs cuda GEMMs).
# Writes everything under $OUT (default ./gpu-out). Without a GPU it still runs: the probe says why,
# the GPU tests are skipped, CudaCheck exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-./gpu-out}"
mkdir -p "$OUT"
JAVA=.gpu/jre/bin/java
chmod u+x .gpu/jre/bin/* .gpu/jre/lib/jspawnhelper 2>/dev/null   # in case the copy dropped the mode bits
[ -x "$JAVA" ] || { echo "gpu-check: $JAVA missing; run scripts/gpu-prepare.sh first (and carry .gpu)" >&2; exit 2; }
FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m)
PROPS=()
status=0

{
  echo "== commit $(cat .gpu/commit 2>/dev/null || echo unknown), $(date -u +%FT%TZ), $(uname -srm)"
  echo "== nvidia-smi"
  timeout 30 nvidia-smi || echo "(nvidia-smi failed or is absent)"
  echo "== CUDA libraries on this host"
  timeout 40 find / \( -path /proc -o -path /sys -o -path /dev \) -prune -o \( -name 'libcublas.so*' -o -name 'libcudart.so*' -o -name 'libcublasLt.so*' \
    -o -name 'libcuda.so*' -o -name 'libnvrtc.so*' \) -print 2>/dev/null | head -n 40
} 2>&1 | tee "$OUT/gpu-env.txt"

probe() { timeout 45 "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" -cp .gpu/engine.jar dev.shears.engine.nativelib.CudaCheck --probe 2>&1; }
echo "== probe" | tee -a "$OUT/gpu-env.txt"
line=$(probe); rc=$?
echo "$line" | tee -a "$OUT/gpu-env.txt"
if [ "$rc" != 0 ]; then
  # The default search missed (or found a pair without a device): point it at every folder that
  # holds a runtime or cuBLAS of a known major, and try once more.
  dirs=$(timeout 40 find / \( -path /proc -o -path /sys -o -path /dev \) -prune -o \( -name 'libcudart.so.1[23]' -o -name 'libcublas.so.1[23]' \) -print 2>/dev/null \
         | xargs -r -n1 dirname | awk '!seen[$0]++' | paste -sd: -)
  if [ -n "$dirs" ]; then
    echo "== probe again with -Dshears.cuda.path=$dirs" | tee -a "$OUT/gpu-env.txt"
    PROPS=(-Dshears.cuda.path="$dirs")
    line=$(probe); rc=$?
    echo "$line" | tee -a "$OUT/gpu-env.txt"
    [ "$rc" = 0 ] || PROPS=()   # no better: keep the default search for the runs below
  fi
fi

BUDGET_S="${GPU_BUDGET_S:-460}"
in_budget() { # $1: what would run next, $2: its time limit in seconds
  if [ $((SECONDS + $2)) -gt "$BUDGET_S" ]; then
    echo "== skipped: $1 (its ${2}s limit would end past the ${BUDGET_S}s budget; ${SECONDS}s elapsed)" | tee -a "$OUT/skipped.txt"; return 1
  fi
}

# JUnit console run: $1 name of the output, $2 timeout, then selectors and -D options (before --)
junit() {
  local name=$1 limit=$2; shift 2
  local props=() sel=()
  for a in "$@"; do case "$a" in -D*) props+=("$a") ;; *) sel+=("$a") ;; esac; done
  timeout "$limit" "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" "${props[@]}" -cp .gpu/junit-console.jar:.gpu/engine.jar:.gpu/engine-tests.jar \
    org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree --disable-ansi-colors \
    "${sel[@]}" --fail-if-no-tests --reports-dir "$OUT/junit-$name" 2>&1 | tee "$OUT/$name.txt"
  local rc=${PIPESTATUS[0]}
  echo "== JUnit $name exit $rc (${SECONDS}s elapsed)" | tee -a "$OUT/$name.txt"
  [ "$rc" = 0 ] || status=1
}

if [ -f .gpu/junit-console.jar ] && [ -f .gpu/engine-tests.jar ]; then
  echo "== the device layer: dev.shears.engine.cuda (kernels from NVRTC when found, else the shipped PTX)"
  in_budget "device tests" 150 && junit cuda-device-tests 150 --select-package dev.shears.engine.cuda
  echo "== CudaKernelsGpuTest with the PTX shipped in the jar"
  in_budget "device tests (shipped PTX)" 120 && junit cuda-device-tests-ptx 120 --select-class dev.shears.engine.cuda.CudaKernelsGpuTest -Dshears.cuda.kernels=ptx
else
  echo "== device tests skipped: .gpu/junit-console.jar or .gpu/engine-tests.jar missing" | tee "$OUT/cuda-device-tests.txt"
fi

if in_budget "CudaKernelBench" 90; then
  echo "== CudaKernelBench: each device op on ResNet-32 b128 shapes (CUDA events)"
  timeout 90 "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" -cp .gpu/engine.jar dev.shears.engine.cuda.CudaKernelBench 2>&1 | tee "$OUT/cuda-kernel-bench.txt"
  echo "== CudaKernelBench exit ${PIPESTATUS[0]} (${SECONDS}s elapsed)"
fi

if [ ! -f .gpu/junit-console.jar ] || [ ! -f .gpu/engine-tests.jar ]; then
  echo "== JUnit skipped: .gpu/junit-console.jar or .gpu/engine-tests.jar missing" | tee "$OUT/gpu-tests.txt"
elif in_budget "cuBLAS tests" 90; then
  echo "== JUnit: dev.shears.engine.nativelib (the GPU tests, and the CPU ones beside them)"
  timeout 90 "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" -cp .gpu/junit-console.jar:.gpu/engine.jar:.gpu/engine-tests.jar \
    org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree --disable-ansi-colors \
    --select-package dev.shears.engine.nativelib --fail-if-no-tests --reports-dir "$OUT/junit" 2>&1 | tee "$OUT/gpu-tests.txt"
  rc=${PIPESTATUS[0]}
  echo "== JUnit exit $rc" | tee -a "$OUT/gpu-tests.txt"
  [ "$rc" = 0 ] || status=1
fi

if in_budget "CudaCheck" 130; then
echo "== CudaCheck"
timeout 130 "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" -cp .gpu/engine.jar dev.shears.engine.nativelib.CudaCheck \
  --out "$OUT" --budget-s 60 2>&1 | tee "$OUT/cuda-check.txt"
rc=${PIPESTATUS[0]}
echo "== CudaCheck exit $rc"
[ "$rc" = 0 ] || status=1
fi

if [ -d .gpu/app ]; then
  # ResNet-32 training step, batch 128, random data: every GEMM on the java path, then on cuBLAS
  # (transfers per call; the size rule keeps small GEMMs on the CPU), in the same run.
  for backend in java cuda; do
    echo "== bench train resnet32 b128, -Dshears.gemm=$backend"
    in_budget "bench train $backend" 150 || break
    timeout 150 "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" -Dshears.gemm=$backend -cp '.gpu/app/*' dev.shears.cli.Main \
      bench train --model resnet32 --batch 128 --steps 6 --warmup 2 2>&1 | tee "$OUT/bench-train-$backend.txt"
  done
fi
exit $status
