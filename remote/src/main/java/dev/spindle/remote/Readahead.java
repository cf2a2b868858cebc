package dev.spindle.remote;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * The readahead of a {@link RemotePageSource}, adapting to the access pattern: each touch that
 * follows the previous one in page order widens a window of pages asked for ahead of the reader, up
 * to the bound given at resume, and each touch elsewhere halves it and asks for its own page only
 * (bytes moved stay those touched), while a sequential reader keeps up to {@value #MAX_WINDOW}
 * pages in flight as pipelined batches on its one connection (throughput is no longer one round
 * trip per page).
 *
 * <p>Not thread-safe: its source calls it under the lock that also guards which pages are asked for
 * already.
 */
final class Readahead {
  /**
   * Most pages read ahead of a sequential reader: every batch the connection may have in flight.
   */
  static final int MAX_WINDOW = PageClient.MAX_IN_FLIGHT * PageProtocol.MAX_BATCH;

  /** A sequential run's first readahead, in pages. */
  private static final int FIRST_WINDOW = 4;

  private final Descriptor d;

  /** A readahead's bound, in pages: 1 turns it off. */
  private final int maxWindow;

  /** The page a sequential reader touches next, */
  private int expected = -1;

  /** the window now (0: none), */
  private int window;

  /** and the first page past what it has asked for. */
  private int aheadEnd;

  Readahead(Descriptor d, int window) {
    this.d = d;
    this.maxWindow = Math.max(1, Math.min(window, MAX_WINDOW));
  }

  /** Whether it reads ahead at all (its bound is more than one page). */
  boolean on() {
    return maxWindow > 1;
  }

  /**
   * Adapts the readahead to this touch of page {@code index} and returns the batches of pages to
   * ask for now, each page one that {@code claim} accepts (not asked for yet; it marks it asked). A
   * touch of the page just past the previous touch (zero pages skipped: they are never loaded)
   * widens the window by two pages, from {@value #FIRST_WINDOW} up to the bound, so a run of n
   * touches reads at most 2n + {@value #FIRST_WINDOW} pages past its end; any other touch halves it
   * and reads nothing ahead, so a random reader moves the pages it touches. The readahead asks
   * again only once half the window (at most a batch) is missing, so that it sends full batches,
   * and never past the table.
   */
  List<int[]> touched(int index, IntPredicate claim) {
    List<int[]> batches = new ArrayList<>();
    boolean sequential = index == expected;
    expected = nextNonZero(index + 1);
    if (!sequential) {
      window /= 2;
      return batches;
    }
    window = Math.min(maxWindow, Math.max(FIRST_WINDOW, window + 2));
    int end = (int) Math.min(d.pages(), (long) index + 1 + window);
    aheadEnd = Math.max(aheadEnd, index + 1);
    int missing = end - aheadEnd;
    if (missing <= 0
        || (missing < Math.min(PageProtocol.MAX_BATCH, window / 2) && end < d.pages())) {
      return batches;
    }
    List<Integer> want = new ArrayList<>();
    for (int i = aheadEnd; i < end; i++) {
      if (!d.isZero(i) && claim.test(i)) {
        want.add(i);
        if (want.size() == PageProtocol.MAX_BATCH) {
          batches.add(want.stream().mapToInt(Integer::intValue).toArray());
          want.clear();
        }
      }
    }
    if (!want.isEmpty()) {
      batches.add(want.stream().mapToInt(Integer::intValue).toArray());
    }
    aheadEnd = end;
    return batches;
  }

  /** The first non-zero page from {@code from}, looking no further than a window; -1 if none. */
  private int nextNonZero(int from) {
    int limit = (int) Math.min(d.pages(), (long) from + MAX_WINDOW);
    for (int i = from; i < limit; i++) {
      if (!d.isZero(i)) {
        return i;
      }
    }
    return -1;
  }
}
