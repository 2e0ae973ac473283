#!/usr/bin/env bash
# Reruns the benchmarks of docs/benchmarks.md on this machine and prints one markdown table, each
# row Shears against its peer from the same run, with the machine (CPU model, vector width,
# threads, versions, date) above it. Not a replacement for the long runs the page quotes: by
# default every benchmark runs with short settings (a few minutes in all); --full uses the page's.
#
# usage: scripts/bench-all.sh [--full] [--threads N] [--no-peers] [--only gemm,threshold,infer,train,rnn,spmv,loader]
#   --threads N   threads on both sides (default 1: the CPU-time comparisons of the page)
#   --no-peers    only the Shears side (no PyTorch needed)
# Raw output of every run is kept in $BENCH_OUT (default: a new folder under /tmp; printed at the end).
# Ratios are "Shears is x times as fast": peer time / Shears time (or Shears rate / peer rate).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
full=0 threads=1 peers=1 only="gemm,threshold,infer,train,rnn,spmv,loader"
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1; shift ;;
    --threads) threads=$2; shift 2 ;;
    --no-peers) peers=0; shift ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-all: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }
out=${BENCH_OUT:-$(mktemp -d /tmp/shears-bench.XXXXXX)}
mkdir -p "$out"

. scripts/find-jdk.sh
shears_find_jdk || exit 1
export JAVA_HOME="$SHEARS_JAVA_HOME"
java=("$JAVA_HOME/bin/java" --enable-preview --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
echo "bench-all: building the shears and JMH jars ..." >&2
./shears info >"$out/info.txt" 2>&1 || { cat "$out/info.txt" >&2; exit 1; }
(mvn -B -q -o -DskipTests -pl jmh -am package >"$out/build.txt" 2>&1 || mvn -B -q -DskipTests -pl jmh -am package >"$out/build.txt" 2>&1) \
  || { cat "$out/build.txt" >&2; exit 1; }
jar=jmh/target/benchmarks.jar

PY=/usr/bin/python3
OB=/usr/lib/x86_64-linux-gnu/openblas-openmp
torch_version=""
if [ "$peers" = 1 ]; then
  if torch_version=$(LD_LIBRARY_PATH=$OB $PY -c 'import torch; print(torch.__version__)' 2>/dev/null); then :; else
    echo "bench-all: no PyTorch for $PY: peers skipped (apt-get install python3-torch; see scripts/peers/README.md)" >&2
    peers=0 torch_version=""
  fi
fi
peer() { # peer SCRIPT ARGS... : runs a scripts/peers script on $threads threads, its step clock on thread CPU time when one thread
  (cd scripts/peers && if [ "$threads" = 1 ]; then
     PEER_THREADS=1 OMP_NUM_THREADS=1 LD_LIBRARY_PATH=$OB $PY thread_cpu_clock.py "$@"
   else
     PEER_THREADS=$threads OMP_NUM_THREADS=$threads LD_LIBRARY_PATH=$OB $PY "$@"
   fi)
}
value() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }        # value NAME FILE: the figure of a `name value unit` line
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
cpu=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^ +/, "", $2); print $2; exit }')
width=$(grep -o 'SIMD [0-9]*-bit' "$out/info.txt" | head -1); [ -z "$width" ] && width="scalar"
when=$(date -u '+%Y-%m-%d %H:%M')
rows=()
# row WHAT SHEARS PEER PEER_VALUE RATIO COMMAND: one line in the form of docs/benchmarks.md's summary table
row() { rows+=("| $1 | $2 | $3: $4 | $5 | $threads | ${cpu:-not recorded}, ${width#SIMD } | $when | \`$6\` |"); }

if wants gemm; then
  shapes=1024x1024x1024,64x576x8192,dW:32x32768x288
  jmh_opts=(-wi 2 -w 1s -i 3 -r 1s -f 1); [ "$full" = 1 ] && jmh_opts=(-wi 5 -w 1s -i 5 -r 1s -f 1)
  echo "bench-all: gemm ($shapes) ..." >&2
  "${java[@]}" -jar "$jar" GemmBench -p shape=$shapes -p threads=$threads "${jmh_opts[@]}" -rf csv -rff "$out/gemm.csv" >"$out/gemm.txt" 2>&1
  # CSV rows: "Benchmark","Mode","Threads","Samples","Score",...,backend,shape,threads; the score is ms per call, and
  # the :calls and :cpuNanos rows give the benchmark thread's CPU time per call (the figure to read on one thread)
  gemm_ms() { # gemm_ms BACKEND SHAPE
    awk -F, -v b="$1" -v s="$2" -v one="$threads" '
      { gsub(/"/, "") } $(NF-2) == b && $(NF-1) == s {
        if ($1 ~ /sgemm$/) wall = $5; else if ($1 ~ /:calls$/) calls = $5; else if ($1 ~ /:cpuNanos$/) cpu = $5 }
      END { if (one == 1 && calls > 0) printf "%.4f", cpu / calls / 1e6; else if (wall != "") printf "%.4f", wall }' "$out/gemm.csv"
  }
  clock="wall"; [ "$threads" = 1 ] && clock="thread CPU time"
  for s in ${shapes//,/ }; do
    j=$(gemm_ms java "$s"); o=$(gemm_ms openblas "$s")
    d=${s#d?:}; IFS=x read -r m k n <<<"$d"
    gf() { awk -v t="$1" -v m="$m" -v k="$k" -v n="$n" 'BEGIN { if (t == "") print "-"; else printf "%.1f GFLOP/s", 2 * m * k * n / (t * 1e6) }'; }
    row "GEMM $s, java vs OpenBLAS ($clock, same JMH run)" "$(gf "$j")" "OpenBLAS $(grep -o 'OpenBLAS [0-9.]*' "$out/info.txt" | head -1 | cut -d' ' -f2)" "$(gf "$o")" "$(ratio "$o" "$j")" \
      "java -jar jmh/target/benchmarks.jar GemmBench -p shape=$s -p threads=$threads ${jmh_opts[*]}"
  done
fi

if wants threshold; then
  reps=5; [ "$full" = 1 ] && reps=15
  echo "bench-all: threshold (ResNet-50-sized, 25.5 M weights) ..." >&2
  "${java[@]}" -Dshears.threads=$threads -cp "$jar" dev.shears.jmh.ThresholdCpuTime $reps >"$out/threshold.txt" 2>&1
  sel=$(awk '$1 == "radixSelect" { print $3 }' "$out/threshold.txt"); srt=$(awk '$1 == "fullSort" { print $3 }' "$out/threshold.txt")
  row "global threshold, 25.5 M weights at 90%: radix select vs full sort (CPU ms)" "${sel:--} ms" "Arrays.sort (same run)" "${srt:--} ms" "$(ratio "$srt" "$sel")" \
    "java -Dshears.threads=$threads -cp jmh/target/benchmarks.jar dev.shears.jmh.ThresholdCpuTime $reps"
  if [ "$peers" = 1 ]; then
    echo "bench-all: threshold peer (torch.kthvalue, up to 2.5e7) ..." >&2
    q=--quick; [ "$full" = 1 ] && q=""
    peer select.py --part select --max-n 2.5e7 $q >"$out/select.txt" 2>&1
    kth=$(value select.torch_kthvalue.n2.5e7.ms.med "$out/select.txt")
    row "global threshold vs torch.kthvalue (2.5e7 \|w\|)" "${sel:--} ms" "PyTorch $torch_version" "${kth:--} ms" "$(ratio "$kth" "$sel")" \
      "scripts/peers/select.py --part select --max-n 2.5e7 $q"
  fi
fi

declare -A infer_sparse
if wants infer; then
  iters=50; [ "$full" = 1 ] && iters=200
  for sp in 0.9 0.95 0.98; do
    echo "bench-all: sparse inference, ResNet-32 at $sp ..." >&2
    ./shears bench infer --model resnet32 --sparsity $sp --batch 1 --threads $threads --iters $iters >"$out/infer-$sp.txt" 2>&1
    k=resnet32.3x32x32_b1_s$sp
    if [ "$threads" = 1 ]; then dn=$(value $k.dense.cpu_ms.med "$out/infer-$sp.txt"); spv=$(value $k.sparse.cpu_ms.med "$out/infer-$sp.txt"); clock="CPU ms";
    else dn=$(value $k.dense.ms.med "$out/infer-$sp.txt"); spv=$(value $k.sparse.ms.med "$out/infer-$sp.txt"); clock="wall ms"; fi
    row "ResNet-32 batch 1, $sp sparse vs our dense ($clock)" "${spv:--} ms" "Shears dense (same run)" "${dn:--} ms" "$(ratio "$dn" "$spv")" \
      "shears bench infer --model resnet32 --sparsity $sp --batch 1 --threads $threads --iters $iters"
    infer_sparse[${sp/./}]=$spv
  done
  if [ "$peers" = 1 ]; then
    echo "bench-all: sparse inference peer (PyTorch ResNet-32 dense, batch 1) ..." >&2
    (cd scripts/peers && PEER_THREADS=$threads OMP_NUM_THREADS=$threads LD_LIBRARY_PATH=$OB $PY resnet32_infer.py) >"$out/resnet32_infer.txt" 2>&1
    if [ "$threads" = 1 ]; then t=$(value torch.resnet32.b1.eval.cpu_ms.med "$out/resnet32_infer.txt"); else t=$(value torch.resnet32.b1.eval.ms.med "$out/resnet32_infer.txt"); fi
    row "ResNet-32 batch 1, 0.95 sparse vs PyTorch dense" "${infer_sparse[095]:--} ms" "PyTorch $torch_version" "${t:--} ms" "$(ratio "$t" "${infer_sparse[095]:-}")" \
      "scripts/peers/resnet32_infer.py"
  fi
fi

if wants train; then
  steps=3 warm=1; [ "$full" = 1 ] && steps=12 warm=3
  echo "bench-all: ResNet-32 training step, batch 128 ..." >&2
  ./shears bench train --model resnet32 --batch 128 --threads $threads --steps $steps --warmup $warm >"$out/train.txt" 2>&1
  k=resnet32.3x32x32_b128.train_step
  if [ "$threads" = 1 ]; then s=$(value $k.thread_cpu.ms.med "$out/train.txt"); else s=$(value $k.ms.med "$out/train.txt"); fi
  if [ "$peers" = 1 ]; then
    echo "bench-all: training step peer (PyTorch ResNet-32) ..." >&2
    peer resnet32_train.py --part resnet --steps $steps --warmup $warm >"$out/resnet32_train.txt" 2>&1
    p=$(value resnet32.cifar_3x32x32_b128.train_step.ms.med "$out/resnet32_train.txt")
  fi
  row "ResNet-32 training step, batch 128 ($([ "$threads" = 1 ] && echo "CPU ms" || echo "wall ms"))" "${s:--} ms" "PyTorch ${torch_version:-not run}" "${p:--} ms" "$(ratio "${p:-}" "$s")" \
    "shears bench train --model resnet32 --batch 128 --threads $threads --steps $steps --warmup $warm"
fi

if wants rnn; then
  secs=1; [ "$full" = 1 ] && secs=3
  echo "bench-all: FastGRNN batch 1 ..." >&2
  ./shears bench rnn --cell fastgrnn --input 9 --hidden 128 --steps 128 --batch 1 --threads $threads --seconds $secs >"$out/rnn.txt" 2>&1
  k=fastgrnn.I9_H128_T128.infer_b1
  s=$(value $k.us.med "$out/rnn.txt")
  if [ "$peers" = 1 ]; then
    echo "bench-all: FastGRNN peer (PyTorch eager and jit) ..." >&2
    q=--quick; [ "$full" = 1 ] && q=""
    (cd scripts/peers && PEER_THREADS=$threads OMP_NUM_THREADS=$threads LD_LIBRARY_PATH=$OB $PY rnn.py --cell fastgrnn --hidden 128 $q) >"$out/rnn-peer.txt" 2>&1
    pj=$(value $k.jit.us.med "$out/rnn-peer.txt")
  fi
  row "FastGRNN hidden 128, 128 steps, batch 1 (wall us/sequence)" "${s:--} us" "PyTorch ${torch_version:-not run} (jit)" "${pj:--} us" "$(ratio "${pj:-}" "$s")" \
    "shears bench rnn --cell fastgrnn --hidden 128 --batch 1 --threads $threads --seconds $secs"
fi

if wants spmv; then
  echo "bench-all: sparse linear at batch 1 (SpMV) ..." >&2
  "${java[@]}" -Dshears.threads=1 -cp "$jar" dev.shears.jmh.SparseBench 1024x1024x1 >"$out/spmv.txt" 2>&1
  # table rows: | shape | sparsity | nnz | dense | sparse | speed-up | ...
  line=$(grep -E '^\| 1024x1024x1 \| 0\.95 ' "$out/spmv.txt" | head -1)
  d=$(awk -F'|' '{ gsub(/ /, "", $5); print $5 }' <<<"$line"); s=$(awk -F'|' '{ gsub(/ /, "", $6); print $6 }' <<<"$line")
  threads_was=$threads; threads=1
  row "linear 1024x1024 at 0.95, batch 1: SpMV vs our dense GEMV (CPU us)" "${s:--} us" "Shears dense (same run)" "${d:--} us" "$(ratio "$d" "$s")" \
    "java -Dshears.threads=1 -cp jmh/target/benchmarks.jar dev.shears.jmh.SparseBench 1024x1024x1"
  threads=$threads_was
fi

if wants loader; then
  echo "bench-all: loader (CIFAR-shaped batch of 128) ..." >&2
  "${java[@]}" -jar "$jar" LoaderBench -p augment=cifar -p prefetch=0 -wi 2 -w 1s -i 3 -r 1s -f 1 -rf csv -rff "$out/loader.csv" >"$out/loader.txt" 2>&1
  l=$(awk -F, 'NR == 2 { printf "%.2f", $5 }' "$out/loader.csv" 2>/dev/null)
  threads_was=$threads; threads=1
  row "loader: CIFAR batch of 128, reflect-pad crop + flip + normalise, calling thread" "${l:--} ms" "no peer" "-" "-" \
    "java -jar jmh/target/benchmarks.jar LoaderBench -p augment=cifar -p prefetch=0 -wi 2 -w 1s -i 3 -r 1s -f 1"
  threads=$threads_was
fi

kernels=$(awk -F': *' '/^kernels:/ { print $2; exit }' "$out/info.txt")
echo "# Shears benchmarks, $when UTC, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), settings: $([ "$full" = 1 ] && echo full || echo short)"
echo "# CPU: ${cpu:-not recorded} ($(nproc) cores), kernels: ${kernels:-unknown}; threads: $threads; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(awk -F': *' '/^java:/ { print "java " $2; exit }' "$out/info.txt"); peer: $([ -n "$torch_version" ] && echo "PyTorch $torch_version ($PY)" || echo "PyTorch not run"); $(grep -o 'OpenBLAS [0-9.]*' "$out/info.txt" | head -1)"
echo "# ratio: how many times as fast Shears is (peer time / Shears time); raw output in $out"
echo
echo "| figure | Shears | peer (version): figure | ratio | threads | CPU, vector width | date (UTC) | command |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
