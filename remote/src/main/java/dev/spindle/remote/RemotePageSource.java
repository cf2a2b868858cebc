package dev.spindle.remote;

import dev.spindle.memory.PageSource;
import dev.spindle.memory.PageTable;
import dev.spindle.store.Hashes;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a resumed child's pages come from: the parent's page service on first touch, checked
 * against the descriptor's hash when it is taken; the durable store when the parent does not
 * answer, times out, breaks the protocol or sends a page whose hash is wrong. A page neither has
 * stops the child.
 *
 * <p>Readahead adapts to the access pattern ({@link Readahead}), asking for the pages a sequential
 * reader will touch in pipelined batches on the fault connection. Behind a sequential reader, one
 * thread reads those batches off the connection as they come (so the parent keeps sending), and
 * another hashes their pages from the last one back while the reader hashes the ones it touches
 * from the first on: checking a page's hash (about 40 us for 64 KiB) costs more than moving it, so
 * a reader alone would be held to one core's hashing speed.
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

  /** A digest per thread: looking one up per page showed in profiles of a sequential scan. */
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(Hashes::sha256);

  private final Descriptor d;

  /** Faults only: a fault never waits behind background work. */
  private final PageClient client;

  /** The hash list and the working-set replay, which move up to a whole memory. */
  private final PageClient background;

  /** Page hashes as known now: the descriptor's, then pending ones as they are learnt. */
  private final PageHashes hashes;

  private final PageStore fallback;

  /** Guarded by {@code this}, as {@link #requested} is. */
  private final Readahead readahead;

  /** Pages asked for before they were touched, each with the request that brings it. */
  private final Map<Integer, Batch> prefetched = new ConcurrentHashMap<>();

  /** Pages asked for already (by a fault, the readahead or the replay); guarded by {@code this}. */
  private final BitSet requested = new BitSet();

  /** Reads readahead batches off the connection as they come, oldest first. */
  private final BatchWorker batchReader = new BatchWorker("spindle-page-read", this::readBatch);

  /** Checks the pages of the batches read, each batch from its last page back. */
  private final BatchWorker batchChecker = new BatchWorker("spindle-page-check", this::checkBatch);

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
    this.readahead = new Readahead(d, window);
    this.hashes = new PageHashes(d);
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
                while (!released && (first = hashes.nextPending()) >= 0) {
                  int count = Math.min(PageProtocol.MAX_HASHES, d.pages() - first);
                  byte[] got = background.hashes(d.capability(), first, count);
                  hashListBytes.addAndGet(got.length);
                  hashes.learn(first, got);
                }
              } catch (IOException e) {
                // see above
              }
            });
  }

  /** Pages whose hash the child has not learnt yet. */
  public int pendingHashes() {
    return hashes.pendingCount();
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
   * pages asked once, by whoever needs one of them first; then each page is checked against its
   * hash once, by whoever comes to it first (a touch or the batch checker).
   */
  private static final class Batch {
    private static final int UNCHECKED = 0;
    private static final int CHECKING = 1;
    private static final int GOOD = 2;
    private static final int BAD = 3;

    private final PageClient client;
    private final int[] asked;
    private final PageClient.Pending pending;
    private PageClient.Fetched fetched;
    private IOException failure;

    /** Each page's check: {@link #UNCHECKED} until one side claims it. */
    private final AtomicIntegerArray checks;

    /** Waited on for a page the other side is checking. */
    private final Object checked = new Object();

    Batch(PageClient client, int[] asked, PageClient.Pending pending) {
      this.client = client;
      this.asked = asked;
      this.pending = pending;
      this.checks = new AtomicIntegerArray(asked.length);
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

    /**
     * Whether the batch's {@code k}-th page passes {@code check}, run here unless the other side
     * claimed the page first (then its result, waited for).
     */
    boolean check(int k, java.util.function.BooleanSupplier check) {
      if (claim(k)) {
        return checked(k, check.getAsBoolean());
      }
      synchronized (checked) {
        while (checks.get(k) == CHECKING) {
          try {
            checked.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return check.getAsBoolean(); // its own check, not waiting any longer
          }
        }
      }
      return checks.get(k) == GOOD;
    }

    /** Claims the {@code k}-th page's check; false if a side did already. */
    boolean claim(int k) {
      return checks.compareAndSet(k, UNCHECKED, CHECKING);
    }

    /** Records a claimed check's result and wakes whoever waits for it. */
    boolean checked(int k, boolean good) {
      synchronized (checked) {
        checks.set(k, good ? GOOD : BAD);
        checked.notifyAll();
      }
      return good;
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
        if (b.check(k, () -> matches(index, got.pages()[k], got.hashes()[k]))) {
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

  /** Lets the readahead see this touch of page {@code index} and sends the batches it asks for. */
  private void readAhead(int index) {
    if (!readahead.on() || released || !parentUp()) {
      return;
    }
    List<int[]> batches;
    synchronized (this) {
      batches = readahead.touched(index, this::claim);
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
      batchReader.add(b);
    }
  }

  /** Reads readahead batch {@code b}'s answer (if no touch did yet) and has its pages checked. */
  private void readBatch(Batch b) {
    try {
      b.get();
    } catch (IOException e) {
      return; // a touch of its pages fails over
    }
    batchChecker.add(b);
  }

  /** Checks the pages of batch {@code b} (read) that no touch claimed, from the last one back. */
  private void checkBatch(Batch b) {
    PageClient.Fetched got;
    try {
      got = b.get();
    } catch (IOException e) {
      return; // not reached: only read batches come here
    }
    for (int k = b.asked.length - 1; k >= 0 && !released; k--) {
      if (b.claim(k)) {
        boolean good = false;
        try {
          good = matches(b.asked[k], got.pages()[k], got.hashes()[k]);
        } finally {
          b.checked(k, good); // a touch may be waiting for it
        }
      }
    }
  }

  /**
   * A thread working through batches in order, started with the first one and ended after a second
   * without any (or when the source is closed).
   */
  private final class BatchWorker {
    private final String name;
    private final java.util.function.Consumer<Batch> work;
    private final LinkedBlockingQueue<Batch> queue = new LinkedBlockingQueue<>();

    /** The thread while it runs, else null; guarded by {@code queue}. */
    private Thread thread;

    BatchWorker(String name, java.util.function.Consumer<Batch> work) {
      this.name = name;
      this.work = work;
    }

    void add(Batch b) {
      synchronized (queue) {
        queue.add(b);
        if (thread == null && !released) {
          thread = Thread.ofPlatform().daemon().name(name).start(this::run);
        }
      }
    }

    void stop() {
      synchronized (queue) {
        if (thread != null) {
          thread.interrupt();
        }
      }
    }

    private void run() {
      while (true) {
        Batch b;
        try {
          b = queue.poll(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          b = null;
        }
        if (b == null || released) {
          synchronized (queue) {
            if (queue.isEmpty() || released) {
              queue.clear();
              thread = null;
              return;
            }
          }
          continue;
        }
        work.accept(b);
      }
    }
  }

  /** Marks page {@code p} asked for; false if it was already. Called holding {@code this}. */
  private boolean claim(int p) {
    if (requested.get(p)) {
      return false;
    }
    requested.set(p);
    return true;
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
    client.close(); // first: ends a read the batch reader waits in
    batchReader.stop();
    batchChecker.stop();
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
      hash = hashes.known(index);
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
    hashes.learn(0, list.get());
    return hashes.known(index);
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
    byte[] h = SHA256.get().digest(page);
    byte[] known = hashes.known(index);
    if (known != null) {
      return Arrays.equals(h, known);
    }
    if (sent != null && Arrays.equals(h, sent)) {
      hashes.learnOne(index, h);
      return true;
    }
    return false;
  }
}
