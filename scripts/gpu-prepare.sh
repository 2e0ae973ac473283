#!/usr/bin/env bash
# Prepares, on a machine with Maven and a JDK 25, what scripts/gpu-check.sh needs on a GPU host
# that has neither: .gpu/engine.jar, .gpu/engine-tests.jar (the GPU tests), .gpu/junit-console.jar
# (to run them without Maven) and .gpu/jre (a jlink'd Java runtime). Carry .gpu to the GPU host.
# Usage: scripts/gpu-prepare.sh        (then: scripts/gpu-check.sh here runs the no-GPU path)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/find-jdk.sh
shears_find_jdk
export JAVA_HOME="$SHEARS_JAVA_HOME"
JUNIT_CONSOLE_VERSION=1.14.1   # the platform release that goes with junit-jupiter 5.14.1 (pom.xml)

echo "gpu-prepare: building the engine jars with $JAVA_HOME"
mvn -B -q -o -pl engine -am -DskipTests package

rm -rf .gpu
mkdir -p .gpu
for j in engine/target/shears-engine-*.jar; do
  case "$j" in
    *-tests.jar) cp "$j" .gpu/engine-tests.jar ;;
    *-sources.jar|*-javadoc.jar) ;;
    *) cp "$j" .gpu/engine.jar ;;
  esac
done

console="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$JUNIT_CONSOLE_VERSION/junit-platform-console-standalone-$JUNIT_CONSOLE_VERSION.jar"
if [ ! -f "$console" ]; then
  echo "gpu-prepare: fetching the JUnit console launcher $JUNIT_CONSOLE_VERSION from Maven Central"
  mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE_VERSION" \
    || echo "gpu-prepare: no JUnit console launcher (offline?); gpu-check.sh will skip the JUnit GPU tests and run CudaCheck only"
fi
[ -f "$console" ] && cp "$console" .gpu/junit-console.jar

echo "gpu-prepare: jlink runtime (java.xml and jdk.zipfs: the JUnit console reads jars and writes XML reports)"
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output .gpu/jre
# libjvm.so keeps a 5 MB symbol table that only crash reports use; the dynamic symbols stay.
if command -v strip >/dev/null; then chmod u+w .gpu/jre/lib/server/libjvm.so && strip --strip-unneeded .gpu/jre/lib/server/libjvm.so; fi
git rev-parse HEAD > .gpu/commit 2>/dev/null || true

# The training-step comparison (java vs cuda GEMMs) needs the CLI and its libraries, without the
# embedded data set (the step runs on random data), to keep what travels under the size limit.
echo "gpu-prepare: slim application classpath for bench train (.gpu/app)"
mvn -B -q -o -pl cli -am -DskipTests package
mkdir -p .gpu/app
for m in engine nn pruning cli; do cp "$m"/target/shears-"$m"-*-SNAPSHOT.jar .gpu/app/; done
rm -f .gpu/app/*-tests.jar
cp "$HOME"/.m2/repository/info/picocli/picocli/*/picocli-*.jar .gpu/app/
cp "$HOME"/.m2/repository/com/google/code/gson/gson/2.13.2/gson-2.13.2.jar .gpu/app/
slim=$(mktemp -d)
(cd "$slim" && "$JAVA_HOME/bin/jar" xf "$OLDPWD"/datasets/target/shears-datasets-*-SNAPSHOT.jar && rm -rf dev/shears/datasets/embedded \
  && "$JAVA_HOME/bin/jar" cf "$OLDPWD"/.gpu/app/shears-datasets-slim.jar .)
rm -rf "$slim"

# The smoke test of the runtime: it must start and run the probe (exit 0 with a device, 3 without).
set +e
.gpu/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp .gpu/engine.jar \
  dev.shears.engine.nativelib.CudaCheck --probe 2>/dev/null
rc=$?
set -e
[ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "gpu-prepare: the jlink'd runtime failed to run CudaCheck (exit $rc)" >&2; exit 1; }
du -sh .gpu/* | sed 's/^/gpu-prepare: /'
du -sh .gpu | sed 's/^/gpu-prepare: total /'
