package dev.spindle.remote;

import dev.spindle.memory.PageSource;
import dev.spindle.memory.PageTable;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a resumed child's pages come from: the parent's page service on first touch, checked
 * against the descriptor's hash, with the next pages of the same fault fetched in the same
 * request (prefetch window) and kept until touched; the durable store when the parent does not
 * answer, times out or sends a page whose hash is wrong. A page neither has stops the child.
 */
public final class RemotePageSource implements PageSource {
  /** After the parent failed, go straight to the store for this long instead of timing out per page. */
  private static final long PARENT_BACKOFF_MS = 5_000;

  private final Descriptor d;
  private final PageClient client;
  private final PageStore fallback;
  private final int window;
  private final Map<Integer, byte[]> prefetched = new ConcurrentHashMap<>();
  private final BitSet requested = new BitSet();
  private volatile long parentDownUntil;
  private volatile String parentFailure;
  final AtomicLong faults = new AtomicLong();
  final AtomicLong pagesFetched = new AtomicLong();
  final AtomicLong fallbackPages = new AtomicLong();
  final AtomicLong corruptPages = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private volatile boolean released;

  RemotePageSource(Descriptor d, PageClient client, PageStore fallback, int window) {
    this.d = d;
    this.client = client;
    this.fallback = fallback;
    this.window = Math.max(1, Math.min(window, PageProtocol.MAX_BATCH));
  }

  /** Counters for tests, metrics and benchmarks. */
  public record Stats(long faults, long pagesFetched, long bytesFetched, long fallbackPages, long corruptPages) {}

  public Stats stats() {
    long fetched = pagesFetched.get();
    return new Stats(faults.get(), fetched, fetched * PageTable.PAGE_SIZE, fallbackPages.get(),
        corruptPages.get());
  }

  @Override
  public byte[] load(int index) {
    byte[] p = prefetched.remove(index);
    if (p != null) {
      return p;
    }
    faults.incrementAndGet();
    if (System.currentTimeMillis() >= parentDownUntil) {
      try {
        int[] asked = batch(index);
        byte[][] pages = client.fetch(d.capability(), asked);
        byte[] mine = null;
        for (int k = 0; k < asked.length; k++) {
          pagesFetched.incrementAndGet();
          if (!matches(asked[k], pages[k])) {
            corruptPages.incrementAndGet();
            continue; // the store is asked for it when it is touched
          }
          if (asked[k] == index) {
            mine = pages[k];
          } else {
            prefetched.put(asked[k], pages[k]);
          }
        }
        if (mine != null) {
          return mine;
        }
        parentFailure = "sent page " + index + " with a wrong hash";
      } catch (IOException e) {
        parentFailure = e.getMessage();
        parentDownUntil = System.currentTimeMillis() + PARENT_BACKOFF_MS;
      }
    }
    return fromStore(index);
  }

  /** The page a sequential reader faults on next: just past the last fault or batch. */
  private int sequentialNext = -1;

  /**
   * The faulting page, and, when the faults run sequentially (this one is just past the last
   * fault or the last batch), the next non-zero pages not yet asked for, up to the window: a
   * readahead. Random faults fetch only their page: a fixed 16-page window moved 8-16x the
   * bytes touched on a 10% random touch (bench/remote), while sequential scans keep their cut.
   */
  private synchronized int[] batch(int index) {
    List<Integer> b = new ArrayList<>();
    b.add(index);
    requested.set(index);
    int limit = index == sequentialNext ? window : 1;
    for (int i = index + 1; i < d.pages() && b.size() < limit; i++) {
      if (!requested.get(i) && !d.isZero(i)) {
        b.add(i);
        requested.set(i);
      }
    }
    int next = b.getLast() + 1;
    while (next < d.pages() && d.isZero(next)) {
      next++; // zero pages are never fetched: the reader's next fault skips them
    }
    sequentialNext = next;
    return b.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Fetches {@code pages} (the parent's working set) in the background, in order and in batches,
   * so the child's first touches of them find them here. Pages already asked for are skipped; a
   * failure stops the replay quietly, since touching a page still fetches it (or falls back).
   */
  public void replayInBackground(int[] pages) {
    if (pages.length == 0) {
      return;
    }
    Thread.ofVirtual().name("spindle-replay").start(() -> {
      int i = 0;
      while (i < pages.length && !released) {
        List<Integer> want = new ArrayList<>();
        synchronized (this) {
          while (i < pages.length && want.size() < PageProtocol.MAX_BATCH) {
            int p = pages[i++];
            if (p >= 0 && p < d.pages() && !requested.get(p) && !d.isZero(p)) {
              requested.set(p);
              want.add(p);
            }
          }
        }
        if (want.isEmpty()) {
          continue;
        }
        int[] asked = want.stream().mapToInt(Integer::intValue).toArray();
        try {
          byte[][] got = client.fetch(d.capability(), asked);
          for (int k = 0; k < asked.length; k++) {
            pagesFetched.incrementAndGet();
            replayed.incrementAndGet();
            if (matches(asked[k], got[k])) {
              prefetched.put(asked[k], got[k]);
            } else {
              corruptPages.incrementAndGet();
            }
          }
        } catch (IOException e) {
          synchronized (this) {
            for (int p : asked) {
              requested.clear(p); // let a touch fetch them (or fall back)
            }
          }
          return;
        }
      }
    });
  }

  /** Pages fetched by the working-set replay (a subset of {@code pagesFetched}). */
  public long replayedPages() {
    return replayed.get();
  }

  /**
   * Tells the parent's node this child needs no more pages (it ended), so the node can drop the
   * descriptor's pages at once instead of at expiry. Best effort: the lease expires anyway.
   */
  public void release() {
    released = true;
    try {
      client.release(d.capability());
    } catch (IOException e) {
      // The parent may be gone already; its lease expires on its own.
    } finally {
      client.close();
    }
  }

  private byte[] fromStore(int index) {
    String why = "parent " + d.host() + ":" + d.port() + " failed (" + parentFailure + ")";
    if (fallback == null) {
      throw new RemotePageException("page " + index + ": " + why + " and there is no fallback store");
    }
    Optional<byte[]> p;
    try {
      p = fallback.get(d.hash(index));
    } catch (IOException e) {
      throw new RemotePageException("page " + index + ": " + why + " and the store failed: " + e.getMessage());
    }
    if (p.isEmpty() || !matches(index, p.get())) {
      throw new RemotePageException("page " + index + ": " + why + " and the store has no page "
          + HexFormat.of().formatHex(d.hash(index)) + (p.isPresent() ? " with the right content" : ""));
    }
    fallbackPages.incrementAndGet();
    return p.get();
  }

  private boolean matches(int index, byte[] page) {
    if (page.length != PageTable.PAGE_SIZE) {
      return false;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(page);
      return Arrays.equals(h, d.hash(index));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
