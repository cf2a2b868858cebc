package dev.spindle.memory;

/** Where a page's bytes are, seen from one memory or one page table. */
public enum PageState {
  /** Never written since the memory was created or zeroed: reads as zeros, no storage. */
  ZERO,
  /**
   * Held in memory and read-only: shared with snapshots or other memories, copied on its first
   * write.
   */
  SHARED,
  /** Owned by one memory and writable in place. Never found in a {@link PageTable}. */
  PRIVATE,
  /** Not in this JVM yet: its {@link PageSource} supplies it on first touch. */
  UNLOADED
}
