# Sourced by bin/multiproc and .ci/run: points JAVA_HOME at a JDK 25.0.3 or later, or stops with
# one line saying what to install. Looks at JAVA_HOME first, then `java` on PATH, then the usual
# install locations.
mp_java_ok() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')
  case "$v" in
    25|25.0.[3-9]*|25.0.[1-9][0-9]*|2[6-9]*|[3-9][0-9]*) return 0 ;;
    *) return 1 ;;
  esac
}
mp_find_jdk() {
  local c
  if [ -n "${JAVA_HOME:-}" ] && mp_java_ok "$JAVA_HOME"; then return 0; fi
  if command -v java >/dev/null 2>&1; then
    c=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if mp_java_ok "$c"; then export JAVA_HOME="$c"; return 0; fi
  fi
  for c in /usr/lib/jvm/temurin-25-jdk* /usr/lib/jvm/*25* /opt/java/*25* /opt/jdk*25* "$HOME"/.sdkman/candidates/java/25* /Library/Java/JavaVirtualMachines/*25*/Contents/Home; do
    if mp_java_ok "$c"; then export JAVA_HOME="$c"; return 0; fi
  done
  echo "multiproc4j needs JDK 25.0.3 or later: install one (for example Eclipse Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
