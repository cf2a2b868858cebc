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
 * against the descriptor's hash when it is taken; the durable store when the parent does not
 * answer, times out, breaks the protocol or sends a page whose hash is wrong. A page neither has
 * stops the child.
 *
 * <p>Readahead adapts to the access pattern ({@link #readAhead}): each touch that follows the
 * previous one in page order widens a window of pages asked for ahead of the reader, up to the
 * bound given at resume, and each touch elsewhere halves it and asks for its own page only (bytes
 * moved stay those touched), while a sequential reader keeps up to {@value #MAX_WINDOW} pages in
 * flight as pipelined batches on its one connection (throughput is no longer one round trip per
 * page).
 *
 * <p>Hashes the descriptor left pending are learnt from the parent: with each page it sends (the
 * page must match the hash the parent computed, so damage on the way is caught), and as a list
 * fetched in the background over a second connection from resume on; when the parent is gone, from
 * the list it saved in the store. A page whose hash the child never learnt is not taken from the
 * store: it stops the child, naming the page.
 */
public final class RemotePageSource implements PageSource, AutoCloseable {
  /**
   * After the parent failed, go straight to the store for this long instead of timing out per page.
   */
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

  /**
   * Most pages read ahead of a sequential reader: every batch the connection may have in flight.
   */
  static final int MAX_WINDOW = PageClient.MAX_IN_FLIGHT * PageProtocol.MAX_BATCH;

  /** A sequential run's first readahead, in pages. */
  private static final int FIRST_WINDOW = 4;

  /** A readahead's bound, in pages: 1 turns it off. */
  private final int maxWindow;

  /** Pages asked for before they were touched, each with the request that brings it. */
  private final Map<Integer, Batch> prefetched = new ConcurrentHashMap<>();

  /** Pages asked for already (by a fault, the readahead or the replay); guarded by {@code this}. */
  private final BitSet requested = new BitSet();

  /** The readahead's state, guarded by {@code this}: the page a sequential reader touches next, */
  private int expected = -1;

  /** the window now (0: none), */
  private int window;

  /** and the first page past what it has asked for. */
  private int aheadEnd;

  private volatile long parentDownUntil;
  private volatile String parentFailure;
  final AtomicLong faults = new AtomicLong();
  final AtomicLong pagesFetched = new AtomicLong();
  final AtomicLong fallbackPages = new AtomicLong();
  final AtomicLong corruptPages = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final RemoteObjects objects;
  private final AtomicLong hashListBytes = new AtomicLong();
  private volatile boolean released;

  RemotePageSource(
      Descriptor d, PageClient client, PageClient background, PageStore fallback, int window) {
    this.d = d;
    this.client = client;
    this.background = background;
    this.fallback = fallback;
    this.maxWindow = Math.max(1, Math.min(window, MAX_WINDOW));
    this.hashes = d.pageHashes().clone();
    this.pending = (BitSet) d.pendingHashes().clone();
    this.objects = new RemoteObjects(d, background, fallback);
  }

  /**
   * The child's files as Git objects: from the parent's page service over the background connection
   * (a file read never queues behind a page fault), else the store.
   */
  public RemoteObjects objects() {
    return objects;
  }

  /**
   * Fetches the hashes the descriptor left pending, over the background connection so that faults
   * never queue behind it. A failure stops it quietly: pages still come with their hashes, and the
   * store holds the full list.
   */
  void learnHashesInBackground() {
    if (pendingHashes() == 0) {
      return;
    }
    Thread.ofVirtual()
        .name("spindle-hashes")
        .start(
            () -> {
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
    for (int i = pending.nextSetBit(first);
        i >= 0 && i < first + count;
        i = pending.nextSetBit(i + 1)) {
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
  public record Stats(
      long faults, long pagesFetched, long bytesFetched, long fallbackPages, long corruptPages) {}

  public Stats stats() {
    long fetched = pagesFetched.get();
    return new Stats(
        faults.get(),
        fetched,
        fetched * (PageTable.PAGE_SIZE + HASH) + hashListBytes.get(),
        fallbackPages.get(),
        corruptPages.get());
  }

  /**
   * Pages asked for in one request, whose answer is read, parsed and checked for being exactly the
   * pages asked once, by whoever needs one of them first.
   */
  private static final class Batch {
    private final PageClient client;
    private final int[] asked;
    private final PageClient.Pending pending;
    private PageClient.Fetched fetched;
    private IOException failure;

    Batch(PageClient client, int[] asked, PageClient.Pending pending) {
      this.client = client;
      this.asked = asked;
      this.pending = pending;
    }

    Batch(int[] asked, PageClient.Fetched fetched) {
      this(null, asked, null);
      this.fetched = fetched;
    }

    synchronized PageClient.Fetched get() throws IOException {
      if (fetched == null && failure == null) {
        try {
          fetched = client.pages(pending, asked);
        } catch (PageProtocolException e) {
          failure =
              new PageProtocolException(
                  "answering pages "
                      + asked[0]
                      + ".."
                      + asked[asked.length - 1]
                      + ": "
                      + e.getMessage());
        } catch (IOException e) {
          failure = e;
        }
      }
      if (failure != null) {
        throw failure;
      }
      return fetched;
    }

    int position(int index) {
      for (int k = 0; k < asked.length; k++) {
        if (asked[k] == index) {
          return k;
        }
      }
      throw new IllegalStateException("page " + index + " is not in this batch");
    }
  }

  @Override
  public byte[] load(int index) {
    Batch b = prefetched.remove(index);
    if (b == null) {
      faults.incrementAndGet();
      synchronized (this) {
        requested.set(index);
      }
      if (parentUp()) {
        // Sent before the readahead's requests, so that its answer comes first.
        b = send(client, new int[] {index});
      }
    }
    readAhead(index);
    if (b != null) {
      try {
        PageClient.Fetched got = b.get();
        int k = b.position(index);
        if (matches(index, got.pages()[k], got.hashes()[k])) {
          return got.pages()[k];
        }
        corruptPages.incrementAndGet();
        parentFailure = "sent page " + index + " with a wrong hash";
        return fromStore(index);
      } catch (PageProtocolException e) {
        parentFailure = e.getMessage();
        parentDownUntil = System.currentTimeMillis() + PARENT_BACKOFF_MS;
        return fromStore(index);
      } catch (IOException e) {
        parentFailure = e.getMessage();
      }
      if (parentUp()) {
        // One more time on its own (and on a new connection if that one ended): a connection the
        // server closed while idle fails every request that was in flight on it.
        byte[] p = fetchOne(index);
        if (p != null) {
          return p;
        }
      }
    }
    return fromStore(index);
  }

  private boolean parentUp() {
    return System.currentTimeMillis() >= parentDownUntil;
  }

  /** Sends a request for {@code pages}; null (the parent marked down) when it cannot be sent. */
  private Batch send(PageClient c, int[] pages) {
    try {
      Batch b = new Batch(c, pages, c.sendFetch(d.capability(), pages));
      pagesFetched.addAndGet(pages.length);
      return b;
    } catch (IOException e) {
      parentFailure = e.getMessage();
      parentDownUntil = System.currentTimeMillis() + PARENT_BACKOFF_MS;
      return null;
    }
  }

  /** Page {@code index} in a request of its own, checked; null when the parent failed. */
  private byte[] fetchOne(int index) {
    try {
      PageClient.Fetched got = client.fetch(d.capability(), new int[] {index});
      pagesFetched.incrementAndGet();
      if (matches(index, got.pages()[0], got.hashes()[0])) {
        return got.pages()[0];
      }
      corruptPages.incrementAndGet();
      parentFailure = "sent page " + index + " with a wrong hash";
    } catch (IOException e) {
      parentFailure = e.getMessage();
      parentDownUntil = System.currentTimeMillis() + PARENT_BACKOFF_MS;
    }
    return null;
  }

  /**
   * Adapts the readahead to this touch of page {@code index}, then asks for what it wants that is
   * not asked for yet, in pipelined batches. A touch of the page just past the previous touch (zero
   * pages skipped: they are never loaded) widens the window by two pages, from {@value
   * #FIRST_WINDOW} up to the bound, so a run of n touches reads at most 2n + {@value #FIRST_WINDOW}
   * pages past its end; any other touch halves it and reads nothing ahead, so a random reader moves
   * the pages it touches. The readahead asks again only once half the window (at most a batch) is
   * missing, so that it sends full batches, and never past the table.
   */
  private void readAhead(int index) {
    if (maxWindow <= 1 || released || !parentUp()) {
      return;
    }
    List<int[]> batches = new ArrayList<>();
    synchronized (this) {
      boolean sequential = index == expected;
      expected = nextNonZero(index + 1);
      if (!sequential) {
        window /= 2;
        return;
      }
      window = Math.min(maxWindow, Math.max(FIRST_WINDOW, window + 2));
      int end = (int) Math.min(d.pages(), (long) index + 1 + window);
      aheadEnd = Math.max(aheadEnd, index + 1);
      int missing = end - aheadEnd;
      if (missing <= 0
          || (missing < Math.min(PageProtocol.MAX_BATCH, window / 2) && end < d.pages())) {
        return;
      }
      List<Integer> want = new ArrayList<>();
      for (int i = aheadEnd; i < end; i++) {
        if (!requested.get(i) && !d.isZero(i)) {
          requested.set(i);
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
    }
    for (int[] pages : batches) {
      Batch b = send(client, pages);
      if (b == null) {
        synchronized (this) {
          for (int p : pages) {
            requested.clear(p); // a touch fetches it (or falls back)
          }
        }
        return;
      }
      for (int p : pages) {
        prefetched.put(p, b);
      }
    }
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

  /**
   * Fetches {@code pages} (the parent's working set) in the background, in order and in batches,
   * over the background connection (faults never queue behind it), so the child's first touches of
   * them find them here. Pages already asked for are skipped; a failure stops the replay quietly,
   * since touching a page still fetches it (or falls back).
   */
  public void replayInBackground(int[] pages) {
    if (pages.length == 0) {
      return;
    }
    Thread.ofVirtual()
        .name("spindle-replay")
        .start(
            () -> {
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
                  pagesFetched.addAndGet(asked.length);
                  replayed.addAndGet(asked.length);
                  Batch b = new Batch(asked, got); // checked when touched
                  for (int p : asked) {
                    prefetched.put(p, b);
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
   * the parent's page service (under the descriptor's capability), else from the store (the parent
   * saves it there with the pages); checked against the hash either way.
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
      throw new RemotePageException(
          why + " and the store has " + (m.isEmpty() ? "no such module" : "a damaged copy"));
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
   * Stops this child's use of the parent (the background replay and hash list, and the connections)
   * without releasing the descriptor, which other children may share.
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
      throw new RemotePageException(
          "page " + index + ": " + why + " and there is no fallback store");
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
      throw new RemotePageException(
          "page " + index + ": " + why + " and the store failed: " + e.getMessage());
    }
    if (p.isEmpty() || !matches(index, p.get(), null)) {
      throw new RemotePageException(
          "page "
              + index
              + ": "
              + why
              + " and the store has no page "
              + HexFormat.of().formatHex(hash)
              + (p.isPresent() ? " with the right content" : ""));
    }
    fallbackPages.incrementAndGet();
    return p.get();
  }

  /**
   * Learns the pending hashes from the list the parent saved in the store after saving the pages. A
   * list that contradicts a hash the descriptor gives is not used.
   */
  private byte[] hashFromStore(int index, String why) throws IOException {
    Optional<byte[]> list = fallback.getHashes(d.id());
    String problem =
        list.isEmpty()
            ? "the store has no hash list for descriptor "
                + d.id()
                + " (its pages were still being saved)"
            : list.get().length != d.pages() * HASH
                ? "the store's hash list for descriptor "
                    + d.id()
                    + " has "
                    + list.get().length
                    + " bytes"
                : contradiction(list.get());
    if (problem != null) {
      throw new RemotePageException(
          "page " + index + ": " + why + ", its hash was still pending, and " + problem);
    }
    learn(0, list.get());
    return knownHash(index);
  }

  private String contradiction(byte[] list) {
    for (int i = 0; i < d.pages(); i++) {
      if (!d.isPending(i)
          && !Arrays.equals(
              list, i * HASH, (i + 1) * HASH, d.pageHashes(), i * HASH, (i + 1) * HASH)) {
        return "the store's hash list for descriptor "
            + d.id()
            + " contradicts the descriptor at page "
            + i;
      }
    }
    return null;
  }

  /**
   * Whether {@code page} is page {@code index}'s content: its hash is the known one, or, while that
   * is pending, the one the parent sent with it ({@code sent}), which is then learnt.
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
