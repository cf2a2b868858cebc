# Sourced by the project's scripts: installs Debian packages that are missing, once.
spindle_ensure_apt() { # packages...
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "spindle: installing Debian packages: ${missing[*]}" >&2
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
spindle_ensure_maven() {
  command -v mvn >/dev/null 2>&1 || spindle_ensure_apt maven
}
# The one reader of the package lists (*/APT-PACKAGES, */NPM-PACKAGES): appends to the array named
# VAR the packages FILE lists. A '#' starts a comment (whole line or the rest of one); blank lines
# are skipped; several names may share a line. A missing file is an error, so a typo is not a
# silent "nothing to install". Usage: spindle_read_packages VAR FILE...
spindle_read_packages() {
  local -n _spindle_pkgs=$1
  shift
  local f line words
  for f in "$@"; do
    [ -f "$f" ] || { echo "spindle: package list not found: $f" >&2; return 1; }
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%%#*}
      read -ra words <<< "$line"
      _spindle_pkgs+=("${words[@]}")
    done < "$f"
  done
}
