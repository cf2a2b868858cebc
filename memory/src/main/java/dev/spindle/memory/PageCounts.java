package dev.spindle.memory;

/**
 * How many pages of a memory are in each {@link PageState}: the sizing figures of a sandbox (its
 * own bytes are {@link #privateBytes()}; shared pages are paid for once per snapshot).
 */
public record PageCounts(int zeroPages, int sharedPages, int privatePages, int unloadedPages) {

  /** All pages, whatever their state. */
  public int pages() {
    return zeroPages + sharedPages + privatePages + unloadedPages;
  }

  /** Bytes this memory alone holds. */
  public long privateBytes() {
    return (long) privatePages * Pages.SIZE;
  }
}
