# Sourced by the project's scripts: picks a JDK >= 25 and exports JAVA_HOME.
# The machines' default `java` is 17, so PATH alone is not trusted.
spindle_java_version() { # prints the feature version of $1/bin/java, or nothing
  # The JDK's release file says it without starting a JVM (that costs as much as the CLI's own
  # start); a JDK without one is asked.
  local line
  if [ -f "$1/release" ]; then
    while IFS= read -r line; do
      case $line in JAVA_VERSION=*) line=${line#*\"}; line=${line%%[.\"]*}
        [ -n "$line" ] && [ -z "${line//[0-9]/}" ] && { echo "$line"; return 0; } ;; esac
    done < "$1/release"
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
spindle_select_java() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[5-9]-* /usr/lib/jvm/*; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(spindle_java_version "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then export JAVA_HOME="$c"; export PATH="$c/bin:$PATH"; return 0; fi
  done
  echo "spindle: no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm)." >&2
  echo "  Install Temurin 25 (e.g. /usr/lib/jvm/temurin-25-jdk-amd64) or set JAVA_HOME to a JDK >= 25." >&2
  return 1
}
