package dev.spindle.image;

/** How an open image finds a path. */
public enum AccessMode {
  /** Binary search in the image's path index (memory-mapped): fast lookups, nothing built. */
  INDEXED,
  /** Walk the Git trees from the root on every lookup: no index needed, costs per depth. */
  LAZY;

  public static AccessMode parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("access mode must be 'indexed' or 'lazy', got: " + s);
    }
  }
}
