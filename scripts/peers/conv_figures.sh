#!/usr/bin/env bash
# The figures of docs/convolution.md, peers back to back (a shared machine: run it whole, read
# medians and thread/process CPU times). Builds shears.jar and jmh/target/benchmarks.jar, then prints
# name/value lines. ORT runs Shears' own ONNX export of the same model (InferVsOrt's "shears"
# argument: same weights, logits compared); scripts/peers/export_onnx.py writes PyTorch exports instead.
# usage: scripts/peers/conv_figures.sh [train|infer|all] [rounds]   (extra JVM flags: CONV_JAVA_OPTS, e.g. -Dshears.simd=256)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. scripts/find-jdk.sh
shears_find_jdk
export JAVA_HOME="$SHEARS_JAVA_HOME"
what=${1:-all}
rounds=${2:-2}
mvn -B -q -o -DskipTests -pl cli,jmh -am package >/dev/null
java=("$JAVA_HOME/bin/java" --enable-preview --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmn16m ${CONV_JAVA_OPTS:-})
quiet() { grep -v '^WARNING' || true; }
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(lscpu | sed -n 's/^Model name: *//p') load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$what" = train ] || [ "$what" = all ]; then
  for r in $(seq "$rounds"); do
    for t in 1 2; do
      for model in resnet32 mobilenet-v2-cifar; do
        steps=8; [ "$model" = resnet32 ] || steps=5
        echo "# round $r threads $t $model"
        "${java[@]}" -jar cli/target/shears.jar bench train --model "$model" --threads "$t" --steps "$steps" 2>&1 | quiet | grep -v '^#'
        (cd scripts/peers && OMP_NUM_THREADS=$t /usr/bin/python3 cifar_train.py --model "$model" --threads "$t" --steps "$steps" 2>&1 | grep -v '^#')
      done
    done
  done
fi
if [ "$what" = infer ] || [ "$what" = all ]; then
  for r in $(seq "$rounds"); do
    for t in 1 2; do
      for s in 0.9 0.95 0.98; do
        echo "# round $r threads $t resnet32 sparsity $s"
        "${java[@]}" -Dshears.threads="$t" -cp jmh/target/benchmarks.jar dev.shears.jmh.InferVsOrt resnet32 3x32x32 10 shears "$s" 200 30 2>&1 | quiet | grep -v '^#'
      done
      echo "# round $r threads $t mobilenet-v1 sparsity 0.95"
      "${java[@]}" -Dshears.threads="$t" -cp jmh/target/benchmarks.jar dev.shears.jmh.InferVsOrt mobilenet-v1 3x224x224 1000 shears 0.95 30 5 2>&1 | quiet | grep -v '^#'
    done
  done
fi
