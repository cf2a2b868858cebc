package dev.spindle.fork;

/**
 * A snapshot's files are not what its state says: names the file and the page or field. Unchecked
 * because it can surface from a page fault inside a running guest, where only unchecked exceptions
 * pass; the sandbox turns it into a trap, so a guest never runs on wrong memory.
 */
public final class SnapshotDamagedException extends RuntimeException {
  public SnapshotDamagedException(String message) {
    super(message);
  }
}
