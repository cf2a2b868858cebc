package dev.spindle.fork;

/** Where a snapshot tag stands: being written, complete, or failed (nothing left under the tag). */
public enum SnapshotStatus {
  WRITING,
  READY,
  FAILED;

  public String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
