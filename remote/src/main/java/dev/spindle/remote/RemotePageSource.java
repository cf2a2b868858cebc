package dev.spindle.remote;

import dev.spindle.memory.PageSource;
import dev.spindle.memory.PageTable;
import dev.spindle.store.Hashes;
import java.io.IOException;
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
 *
 * <p>Hashes the descriptor left pending are learnt from the parent: with each page it sends (the
 * page must match the hash the parent computed, so damage on the way is caught), and as a list
 * fetched in the background over a second connection from resume on; when the parent is gone,
 * from the list it saved in the store. A page whose hash the child never learnt is not taken
 * from the store: it stops the child, naming the page.
 */
public final class RemotePageSource implements PageSource, AutoCloseable {
  /** After the parent failed, go straight to the store for this long instead of timing out per page. */
  private static final long PARENT_BACKOFF_MS = 5_000;
  private static final int HASH = Descriptor.HASH_BYTES;

  private final Descriptor d;
  /** Faults only: a fault never waits behind background work. */
  private final PageClient client;
  /** The hash list and the working-set replay, which move up to a whole memory. */
  private final PageClient background;
  /** Page hashes as known now: the descriptor's, then pending ones as they are learnt. */
  private final byte[] hashes;
  private final BitSet pending;
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
  private final AtomicLong hashListBytes = new AtomicLong();
  private volatile boolean released;

  RemotePageSource(Descriptor d, PageClient client, PageClient background, PageStore fallback, int window) {
    this.d = d;
    this.client = client;
    this.background = background;
    this.fallback = fallback;
    this.window = Math.max(1, Math.min(window, PageProtocol.MAX_BATCH));
    this.hashes = d.pageHashes().clone();
    this.pending = (BitSet) d.pendingHashes().clone();
  }

  /**
   * Fetches the hashes the descriptor left pending, over the background connection so that
   * faults never queue behind it. A failure stops it quietly: pages still come with their
   * hashes, and the store holds the full list.
   */
  void learnHashesInBackground() {
    if (pendingHashes() == 0) {
      return;
    }
    Thread.ofVirtual().name("spindle-hashes").start(() -> {
      try {
        int first;
        while (!released && (first = nextPending()) >= 0) {
          int count = Math.min(PageProtocol.MAX_HASHES, d.pages() - first);
          byte[] got = background.hashes(d.capability(), first, count);
          hashListBytes.addAndGet(got.length);
          learn(first, got);
        }
      } catch (IOException e) {
        // see above
      }
    });
  }

  private synchronized int nextPending() {
    return pending.nextSetBit(0);
  }

  /** Pages whose hash the child has not learnt yet. */
  public synchronized int pendingHashes() {
    return pending.cardinality();
  }

  /** Takes the hashes of pages {@code first..} from {@code list}, for the pages still pending. */
  private synchronized void learn(int first, byte[] list) {
    int count = list.length / HASH;
    for (int i = pending.nextSetBit(first); i >= 0 && i < first + count; i = pending.nextSetBit(i + 1)) {
      System.arraycopy(list, (i - first) * HASH, hashes, i * HASH, HASH);
      pending.clear(i);
    }
  }

  /** Page {@code i}'s hash, or null while pending. */
  private synchronized byte[] knownHash(int i) {
    return pending.get(i) ? null : Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH);
  }

  /**
   * Counters for tests, metrics and benchmarks. {@code bytesFetched} counts what came from the
   * parent: pages with their hashes, and hash lists.
   */
  public record Stats(long faults, long pagesFetched, long bytesFetched, long fallbackPages, long corruptPages) {}

  public Stats stats() {
    long fetched = pagesFetched.get();
    return new Stats(faults.get(), fetched, fetched * (PageTable.PAGE_SIZE + HASH) + hashListBytes.get(),
        fallbackPages.get(), corruptPages.get());
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
        PageClient.Fetched got = client.fetch(d.capability(), asked);
        byte[][] pages = got.pages();
        byte[] mine = null;
        for (int k = 0; k < asked.length; k++) {
          pagesFetched.incrementAndGet();
          if (!matches(asked[k], pages[k], got.hashes()[k])) {
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
   * over the background connection (faults never queue behind it), so the child's first touches
   * of them find them here. Pages already asked for are skipped; a
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
          PageClient.Fetched got = background.fetch(d.capability(), asked);
          for (int k = 0; k < asked.length; k++) {
            pagesFetched.incrementAndGet();
            replayed.incrementAndGet();
            if (matches(asked[k], got.pages()[k], got.hashes()[k])) {
              prefetched.put(asked[k], got.pages()[k]);
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

  /**
   * The sandbox's Wasm module whose SHA-256 is {@code sha256Hex}, for a node that lacks it: from
   * the parent's page service (under the descriptor's capability), else from the store (the
   * parent saves it there with the pages); checked against the hash either way.
   *
   * @throws RemotePageException naming the module when neither has it
   */
  public byte[] module(String sha256Hex, int maxBytes) {
    byte[] want = HexFormat.of().parseHex(sha256Hex);
    String parent;
    try {
      byte[] m = background.module(d.capability(), maxBytes);
      if (Arrays.equals(Hashes.sha256(m), want)) {
        return m;
      }
      parent = "sent a module with another hash";
    } catch (IOException e) {
      parent = "failed (" + e.getMessage() + ")";
    }
    String why = "module " + sha256Hex + ": parent " + d.host() + ":" + d.port() + " " + parent;
    if (fallback == null) {
      throw new RemotePageException(why + " and there is no fallback store");
    }
    Optional<byte[]> m;
    try {
      m = fallback.get(want);
    } catch (IOException e) {
      throw new RemotePageException(why + " and the store failed: " + e.getMessage());
    }
    if (m.isEmpty() || !Arrays.equals(Hashes.sha256(m.get()), want)) {
      throw new RemotePageException(why + " and the store has " + (m.isEmpty() ? "no such module" : "a damaged copy"));
    }
    return m.get();
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
      close();
    }
  }

  /**
   * Stops this child's use of the parent (the background replay and hash list, and the
   * connections) without releasing the descriptor, which other children may share.
   */
  @Override
  public void close() {
    released = true;
    client.close();
    background.close();
  }

  private byte[] fromStore(int index) {
    String why = "parent " + d.host() + ":" + d.port() + " failed (" + parentFailure + ")";
    if (fallback == null) {
      throw new RemotePageException("page " + index + ": " + why + " and there is no fallback store");
    }
    Optional<byte[]> p;
    byte[] hash;
    try {
      hash = knownHash(index);
      if (hash == null) {
        hash = hashFromStore(index, why);
      }
      p = fallback.get(hash);
    } catch (IOException e) {
      throw new RemotePageException("page " + index + ": " + why + " and the store failed: " + e.getMessage());
    }
    if (p.isEmpty() || !matches(index, p.get(), null)) {
      throw new RemotePageException("page " + index + ": " + why + " and the store has no page "
          + HexFormat.of().formatHex(hash) + (p.isPresent() ? " with the right content" : ""));
    }
    fallbackPages.incrementAndGet();
    return p.get();
  }

  /**
   * Learns the pending hashes from the list the parent saved in the store after saving the
   * pages. A list that contradicts a hash the descriptor gives is not used.
   */
  private byte[] hashFromStore(int index, String why) throws IOException {
    Optional<byte[]> list = fallback.getHashes(d.id());
    String problem = list.isEmpty()
        ? "the store has no hash list for descriptor " + d.id() + " (its pages were still being saved)"
        : list.get().length != d.pages() * HASH
            ? "the store's hash list for descriptor " + d.id() + " has " + list.get().length + " bytes"
            : contradiction(list.get());
    if (problem != null) {
      throw new RemotePageException("page " + index + ": " + why + ", its hash was still pending, and " + problem);
    }
    learn(0, list.get());
    return knownHash(index);
  }

  private String contradiction(byte[] list) {
    for (int i = 0; i < d.pages(); i++) {
      if (!d.isPending(i) && !Arrays.equals(list, i * HASH, (i + 1) * HASH, d.pageHashes(), i * HASH, (i + 1) * HASH)) {
        return "the store's hash list for descriptor " + d.id() + " contradicts the descriptor at page " + i;
      }
    }
    return null;
  }

  /**
   * Whether {@code page} is page {@code index}'s content: its hash is the known one, or, while
   * that is pending, the one the parent sent with it ({@code sent}), which is then learnt.
   */
  private boolean matches(int index, byte[] page, byte[] sent) {
    if (page.length != PageTable.PAGE_SIZE) {
      return false;
    }
    byte[] h = Hashes.sha256(page);
    byte[] known = knownHash(index);
    if (known != null) {
      return Arrays.equals(h, known);
    }
    if (sent != null && Arrays.equals(h, sent)) {
      learnOne(index, h);
      return true;
    }
    return false;
  }

  private synchronized void learnOne(int index, byte[] h) {
    if (pending.get(index)) {
      System.arraycopy(h, 0, hashes, index * HASH, HASH);
      pending.clear(index);
    }
  }
}
