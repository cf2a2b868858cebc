package dev.spindle.memory;

/**
 * Where the bytes of a page that is not in memory yet come from: a snapshot file, a peer node, the
 * durable store. A {@link PagedMemory} calls it on the first touch of such a page (read or write);
 * a {@link PageTable} calls it when a reader asks for such a page.
 *
 * <p>Contract: {@link #load} returns exactly {@value Pages#SIZE} bytes in an array that nobody
 * writes afterwards (callers share it between memories and copy it before writing); it may be
 * called from several threads at once and more than once for the same page, so an implementation
 * that fetches over the network caches or deduplicates itself. A wrong length is rejected with an
 * {@link IllegalStateException} naming the page.
 */
@FunctionalInterface
public interface PageSource {
  /** A source for tables that have no unloaded pages: loading from it is a bug. */
  PageSource NONE =
      index -> {
        throw new IllegalStateException("no page source for page " + index);
      };

  /** Returns page {@code index}'s bytes (see the interface's contract). */
  byte[] load(int index);
}
