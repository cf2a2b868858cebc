package dev.spindle.store;

import java.nio.file.Path;
import java.util.Map;

/**
 * The cache directory: {@code $SPINDLE_CACHE}, else {@code ~/.cache/spindle}. It holds what can be
 * made again (compiled modules, guests, the Python root, bench inputs), unlike {@link SpindleHome}.
 * Shell scripts ask {@code spindle_cache} in {@code scripts/lib/cache.sh}, which spells the same
 * rule.
 */
public final class SpindleCache {
  private SpindleCache() {}

  /** {@code $SPINDLE_CACHE} when set and not empty, else {@code ~/.cache/spindle}. */
  public static Path root() {
    return root(System.getenv(), System.getProperty("user.home"));
  }

  static Path root(Map<String, String> env, String userHome) {
    String cache = env.get("SPINDLE_CACHE");
    return cache != null && !cache.isEmpty()
        ? Path.of(cache)
        : Path.of(userHome, ".cache", "spindle");
  }
}
