package dev.spindle.fork;

/**
 * How a snapshot is taken. Both capture the same instant in O(pages) (the page table; no byte is
 * copied on the caller's path) and write byte-identical files; they differ in when the call
 * returns.
 */
public enum SnapshotMode {
  /** Returns once the snapshot is persisted (the sandbox is paused meanwhile). */
  FULL,
  /**
   * Returns right after the page table is taken; the files are written in the background while the
   * sandbox keeps running (its later writes copy pages first, so the snapshot keeps its instant).
   */
  LIVE;

  public String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The mode named {@code text} ({@code full} or {@code live}). */
  public static SnapshotMode parse(String text) {
    for (SnapshotMode m : values()) {
      if (m.json().equals(text)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown snapshot mode '" + text + "' (full or live)");
  }
}
