package dev.spindle.fork;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageState;
import dev.spindle.memory.PageTable;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a page table and the sandbox state into a snapshot directory (see {@link SnapshotFormat})
 * and fsyncs every file.
 *
 * <p>Memory is cut into chunks of {@link #CHUNK_PAGES} pages. Workers (one per core) hash the pages
 * of each chunk whose hash is not known yet (a frame hashed before costs a lookup: {@link
 * PageTable#knownSha256s}); the calling thread writes the chunks in order, each run of pages to
 * write copied into one direct buffer and written with one call, so the file is written large and
 * sequentially while later chunks are hashed. Zero pages, including written pages whose bytes are
 * all zero again, are holes. With a base, pages whose hash equals the base's are not written at all
 * (format version 2).
 */
final class SnapshotWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Pages per chunk: 4 MiB, large enough for one write call to cost nothing per page. */
  static final int CHUNK_PAGES = 64;

  /**
   * Pages to hash up to which the writer hashes on its own thread: 16 MiB, ~10 ms of SHA-256, about
   * what starting and ending a pool's threads costs the machine.
   */
  static final int INLINE_HASH_PAGES = 4 * CHUNK_PAGES;

  private static final byte[] ZERO_PAGE_SHA256 = Hashes.sha256(new byte[PageTable.PAGE_SIZE]);

  private SnapshotWriter() {}

  /** What was written: sizes for the caller's status line. */
  record Written(
      int pages,
      int zeroPages,
      String pageHashesSha256,
      long bytes,
      int inheritedPages,
      String base) {
    Written(int pages, int zeroPages, String pageHashesSha256, long bytes) {
      this(pages, zeroPages, pageHashesSha256, bytes, 0, null);
    }

    /** Pages whose bytes this snapshot's memory.bin holds. */
    int writtenPages() {
      return pages - zeroPages - inheritedPages;
    }
  }

  /**
   * The base an incremental snapshot is written onto, read and checked by the store: its tag, root
   * hash, page hashes and chain depth.
   */
  record Base(String tag, String root, int pages, byte[] hashes, int chainDepth) {}

  static Written write(Path dir, PageTable table, ObjectNode state) throws IOException {
    return write(dir, table, state, Runtime.getRuntime().availableProcessors(), null);
  }

  static Written write(Path dir, PageTable table, ObjectNode state, int cores) throws IOException {
    return write(dir, table, state, cores, null);
  }

  /**
   * Writes with at most {@code cores} hashing workers; with a {@code base}, writes only the pages
   * that differ from it. The caller guarantees that an {@link PageState#UNLOADED} page of {@code
   * table} holds the base's bytes (the table's memory derives from the base's table).
   */
  static Written write(Path dir, PageTable table, ObjectNode state, int cores, Base base)
      throws IOException {
    Files.createDirectories(dir);
    int pages = table.pages();
    byte[] hashes = new byte[pages * SnapshotFormat.HASH_BYTES];
    BitSet unknown = table.knownSha256s(hashes);
    BitSet zero = new BitSet(pages);
    for (int i = 0; i < pages; i++) {
      if (table.state(i) == PageState.ZERO) {
        zero.set(i);
      }
    }
    BitSet inherited = new BitSet(pages);
    int shared = base == null ? 0 : Math.min(pages, base.pages());
    Path mem = dir.resolve(SnapshotFormat.MEMORY);
    try (FileChannel ch =
        FileChannel.open(mem, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      Chunks chunks = new Chunks(table, hashes, unknown, zero, inherited, base, shared);
      chunks.run(ch, cores);
      long size = (long) pages * PageTable.PAGE_SIZE;
      // Dense size even when the last pages are holes.
      if (ch.size() < size) {
        ch.write(ByteBuffer.allocate(1), size - 1);
      }
      ch.force(true);
    }
    writeFile(dir.resolve(SnapshotFormat.HASHES), hashes);
    MessageDigest root = Hashes.sha256();
    root.update(hashes);
    String rootHex = SnapshotFormat.hex(root.digest());

    ObjectNode s = state.deepCopy();
    s.put(
        "format_version",
        base == null ? SnapshotFormat.VERSION : SnapshotFormat.INCREMENTAL_VERSION);
    s.put("page_size", PageTable.PAGE_SIZE);
    s.put("pages", pages);
    s.put("zero_pages", zero.cardinality());
    s.put("page_hashes_sha256", rootHex);
    if (base != null) {
      byte[] bits = SnapshotFormat.bits(inherited, pages);
      writeFile(dir.resolve(SnapshotFormat.INHERITED), bits);
      s.put("base", base.tag());
      s.put("base_page_hashes_sha256", base.root());
      s.put("chain_depth", base.chainDepth() + 1);
      s.put("inherited_pages", inherited.cardinality());
      s.put("inherited_bits_sha256", Hashes.sha256Hex(bits));
    }
    ArrayNode dropped = s.putArray("dropped_segments");
    table.droppedSegments().stream().forEach(dropped::add);
    writeFile(
        dir.resolve(SnapshotFormat.STATE),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
    return new Written(
        pages,
        zero.cardinality(),
        rootHex,
        (long) pages * PageTable.PAGE_SIZE,
        inherited.cardinality(),
        base == null ? null : base.tag());
  }

  /** The pipeline: chunks hashed by workers, written in order by the caller. */
  private static final class Chunks {
    private static final byte WRITE = 0;
    private static final byte ZERO = 1;
    private static final byte INHERITED = 2;
    private final PageTable table;
    private final byte[] hashes;
    private final BitSet unknown;
    private final BitSet zero;
    private final BitSet inherited;
    private final Base base;
    private final int shared;
    private final int pages;

    Chunks(
        PageTable table,
        byte[] hashes,
        BitSet unknown,
        BitSet zero,
        BitSet inherited,
        Base base,
        int shared) {
      this.table = table;
      this.hashes = hashes;
      this.unknown = unknown;
      this.zero = zero;
      this.inherited = inherited;
      this.base = base;
      this.shared = shared;
      this.pages = table.pages();
    }

    void run(FileChannel ch, int cores) throws IOException {
      int n = (pages + CHUNK_PAGES - 1) / CHUNK_PAGES;
      byte[] kind = new byte[pages];
      if (cores <= 1 || unknown.cardinality() <= INLINE_HASH_PAGES) {
        // Little to hash (a later snapshot of a sandbox that wrote a few pages): on this thread.
        // A pool here started and ended a thread per snapshot, and those threads were a third
        // of what took the CPU from a sandbox in its live-snapshot pause (perf sched).
        ByteBuffer buf = takeBuffer();
        try {
          for (int c = 0; c < n; c++) {
            int from = c * CHUNK_PAGES;
            int to = Math.min(pages, from + CHUNK_PAGES);
            classify(from, to, kind);
            writeChunk(ch, buf, from, to, kind);
          }
        } finally {
          giveBuffer(buf);
        }
        mark(kind);
        return;
      }
      ExecutorService pool =
          Executors.newFixedThreadPool(
              Math.max(1, Math.min(cores, n)),
              r -> {
                Thread t = new Thread(r, "spindle-snapshot-hash");
                t.setDaemon(true);
                return t;
              });
      ByteBuffer buf = takeBuffer();
      try {
        List<Future<?>> done = new ArrayList<>(n);
        for (int c = 0; c < n; c++) {
          int from = c * CHUNK_PAGES;
          int to = Math.min(pages, from + CHUNK_PAGES);
          done.add(pool.submit(() -> classify(from, to, kind)));
        }
        for (int c = 0; c < n; c++) {
          done.get(c).get();
          int from = c * CHUNK_PAGES;
          writeChunk(ch, buf, from, Math.min(pages, from + CHUNK_PAGES), kind);
        }
        mark(kind);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("snapshot write interrupted");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw new IOException(e.getCause());
      } finally {
        pool.shutdownNow();
        giveBuffer(buf);
      }
    }

    private void mark(byte[] kind) {
      for (int i = 0; i < pages; i++) {
        if (kind[i] == ZERO) {
          zero.set(i);
        } else if (kind[i] == INHERITED) {
          inherited.set(i);
        }
      }
    }

    /**
     * Hashes the chunk's unknown pages and marks which are not written: zero pages (a written page
     * whose bytes are zero again too), and pages equal to the base's. Each worker writes only its
     * chunk's entries of {@code kind} and {@code hashes}; the caller reads them after the chunk's
     * future (so no shared bit set is written concurrently).
     */
    private void classify(int from, int to, byte[] kind) {
      int h = SnapshotFormat.HASH_BYTES;
      for (int i = from; i < to; i++) {
        if (zero.get(i)) {
          kind[i] = ZERO;
          continue;
        }
        if (i < shared && unknown.get(i) && table.state(i) == PageState.UNLOADED) {
          // Never loaded by this memory: the base's page (see write's contract), not read at all.
          System.arraycopy(base.hashes(), i * h, hashes, i * h, h);
          kind[i] = INHERITED;
          continue;
        }
        if (unknown.get(i)) {
          System.arraycopy(table.sha256(i), 0, hashes, i * h, h);
        }
        if (Arrays.equals(hashes, i * h, i * h + h, ZERO_PAGE_SHA256, 0, h)) {
          Arrays.fill(hashes, i * h, i * h + h, (byte) 0);
          kind[i] = ZERO;
        } else if (i < shared
            && Arrays.equals(hashes, i * h, i * h + h, base.hashes(), i * h, i * h + h)) {
          kind[i] = INHERITED;
        }
      }
    }

    /** Writes each run of pages to write in the chunk with one call. */
    private void writeChunk(FileChannel ch, ByteBuffer buf, int from, int to, byte[] kind)
        throws IOException {
      int i = from;
      while (i < to) {
        if (kind[i] != WRITE) {
          i++;
          continue;
        }
        int start = i;
        buf.clear();
        while (i < to && kind[i] == WRITE) {
          buf.put(table.page(i));
          i++;
        }
        buf.flip();
        long pos = (long) start * PageTable.PAGE_SIZE;
        while (buf.hasRemaining()) {
          pos += ch.write(buf, pos);
        }
      }
    }
  }

  /**
   * Writes {@code src} whole into {@code dir} (format version 1): every page read once through its
   * chain and checked against its hash, the page hashes unchanged (so the root hash is the same),
   * the base fields dropped from {@code state}.
   */
  static Written flatten(Path dir, Snapshot src, ObjectNode state) throws IOException {
    Files.createDirectories(dir);
    int pages = src.pages();
    byte[] hashes = src.hashes();
    int h = SnapshotFormat.HASH_BYTES;
    byte[] zeroHash = new byte[h];
    int zero = 0;
    ByteBuffer buf = takeBuffer();
    try (FileChannel ch =
        FileChannel.open(
            dir.resolve(SnapshotFormat.MEMORY),
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
      int i = 0;
      while (i < pages) {
        if (Arrays.equals(hashes, i * h, i * h + h, zeroHash, 0, h)) {
          zero++;
          i++;
          continue;
        }
        int start = i;
        buf.clear();
        while (i < pages
            && buf.remaining() >= PageTable.PAGE_SIZE
            && !Arrays.equals(hashes, i * h, i * h + h, zeroHash, 0, h)) {
          buf.put(src.read(i));
          i++;
        }
        buf.flip();
        long pos = (long) start * PageTable.PAGE_SIZE;
        while (buf.hasRemaining()) {
          pos += ch.write(buf, pos);
        }
      }
      long size = (long) pages * PageTable.PAGE_SIZE;
      if (ch.size() < size) {
        ch.write(ByteBuffer.allocate(1), size - 1);
      }
      ch.force(true);
    } finally {
      giveBuffer(buf);
    }
    writeFile(dir.resolve(SnapshotFormat.HASHES), hashes);
    ObjectNode s = state.deepCopy();
    for (String f :
        List.of(
            "base",
            "base_page_hashes_sha256",
            "chain_depth",
            "inherited_pages",
            "inherited_bits_sha256")) {
      s.remove(f);
    }
    s.put("format_version", SnapshotFormat.VERSION);
    s.put("zero_pages", zero);
    writeFile(
        dir.resolve(SnapshotFormat.STATE),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
    return new Written(pages, zero, src.pageHashesSha256(), (long) pages * PageTable.PAGE_SIZE);
  }

  /**
   * Direct buffers of one chunk, kept between writes. A new one per write cost 17 ms of a live
   * snapshot's 25 ms on this machine (malloc's fresh mapping, zeroed and faulted in page by page),
   * and each was freed only when the collector next ran.
   */
  private static final ConcurrentLinkedQueue<ByteBuffer> BUFFERS = new ConcurrentLinkedQueue<>();

  /** Buffers kept at most: a writer and a caller's full snapshot at once, and one more. */
  private static final int KEPT_BUFFERS = 3;

  private static ByteBuffer takeBuffer() {
    ByteBuffer b = BUFFERS.poll();
    return b != null ? b.clear() : ByteBuffer.allocateDirect(CHUNK_PAGES * PageTable.PAGE_SIZE);
  }

  private static void giveBuffer(ByteBuffer b) {
    if (BUFFERS.size() < KEPT_BUFFERS) {
      BUFFERS.offer(b);
    }
  }

  private static void writeFile(Path p, byte[] bytes) throws IOException {
    try (FileChannel ch =
        FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }
}
