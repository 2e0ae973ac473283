# Sourced by ./shears, ./test and .ci/run: sets SHEARS_JAVA_HOME to a JDK >= 25.
# Order: JAVA_HOME if it is >= 25, then /usr/lib/jvm/* newest first. Prints one line and
# returns 1 when there is none.
shears_java_major() { # $1 = a JDK home; prints its feature version or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 1
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  [ -n "$v" ] && echo "$v"
}
shears_find_jdk() {
  local cand v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(shears_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then SHEARS_JAVA_HOME="$JAVA_HOME"; return 0; fi
  fi
  for cand in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -rV); do
    v=$(shears_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then SHEARS_JAVA_HOME="$cand"; return 0; fi
  done
  echo "shears: needs a JDK 25 or newer (none in JAVA_HOME or /usr/lib/jvm); install one, e.g. Temurin 25 into /usr/lib/jvm/temurin-25-jdk-amd64" >&2
  return 1
}
