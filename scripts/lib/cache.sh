# Sourced by the project's scripts: the cache root, by the rule of dev.spindle.store.SpindleCache
# ($SPINDLE_CACHE when set and not empty, else ~/.cache/spindle). What is under it can be made again.
spindle_cache() {
  printf '%s\n' "${SPINDLE_CACHE:-$HOME/.cache/spindle}"
}
