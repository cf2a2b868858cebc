package dev.spindle.fork;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageState;
import dev.spindle.memory.PageTable;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a page table and the sandbox state into a snapshot directory (see {@link
 * SnapshotFormat}) and fsyncs every file. Hashing is the cost (SHA-256 ~2 GB/s per core here with
 * SHA-NI), so pages are hashed and written by one worker per core, each a contiguous run, with
 * positional writes into the same file.
 */
final class SnapshotWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SnapshotWriter() {}

  /** What was written: sizes for the caller's status line. */
  record Written(int pages, int zeroPages, String pageHashesSha256, long bytes) {}

  static Written write(Path dir, PageTable table, ObjectNode state) throws IOException {
    return write(dir, table, state, Runtime.getRuntime().availableProcessors());
  }

  /** Writes with at most {@code cores} hashing workers. */
  static Written write(Path dir, PageTable table, ObjectNode state, int cores) throws IOException {
    Files.createDirectories(dir);
    int pages = table.pages();
    byte[] hashes = new byte[pages * SnapshotFormat.HASH_BYTES];
    BitSet zero = new BitSet(pages);
    for (int i = 0; i < pages; i++) {
      if (table.state(i) == PageState.ZERO) {
        zero.set(i);
      }
    }
    Path mem = dir.resolve(SnapshotFormat.MEMORY);
    try (FileChannel ch = FileChannel.open(mem, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      writePages(ch, table, zero, hashes, cores);
      // Dense size even when the last pages are zero (holes).
      ch.truncate((long) pages * PageTable.PAGE_SIZE);
      if (ch.size() < (long) pages * PageTable.PAGE_SIZE) {
        ch.write(ByteBuffer.allocate(1), (long) pages * PageTable.PAGE_SIZE - 1);
      }
      ch.force(true);
    }
    writeFile(dir.resolve(SnapshotFormat.HASHES), hashes);
    MessageDigest root = Hashes.sha256();
    root.update(hashes);
    String rootHex = SnapshotFormat.hex(root.digest());

    ObjectNode s = state.deepCopy();
    s.put("format_version", SnapshotFormat.VERSION);
    s.put("page_size", PageTable.PAGE_SIZE);
    s.put("pages", pages);
    s.put("zero_pages", zero.cardinality());
    s.put("page_hashes_sha256", rootHex);
    ArrayNode dropped = s.putArray("dropped_segments");
    table.droppedSegments().stream().forEach(dropped::add);
    writeFile(dir.resolve(SnapshotFormat.STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
    return new Written(pages, zero.cardinality(), rootHex, (long) pages * PageTable.PAGE_SIZE);
  }

  private static void writePages(FileChannel ch, PageTable table, BitSet zero, byte[] hashes,
      int cores) throws IOException {
    int pages = table.pages();
    int workers = Math.max(1, Math.min(cores, pages / 16));
    if (workers == 1) {
      writeRun(ch, table, zero, hashes, 0, pages);
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    try {
      List<Future<Void>> runs = new ArrayList<>();
      int per = (pages + workers - 1) / workers;
      for (int w = 0; w < workers; w++) {
        int from = w * per;
        int to = Math.min(pages, from + per);
        runs.add(pool.submit(() -> {
          writeRun(ch, table, zero, hashes, from, to);
          return null;
        }));
      }
      for (Future<Void> f : runs) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("snapshot write interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static void writeRun(FileChannel ch, PageTable table, BitSet zero, byte[] hashes,
      int from, int to) throws IOException {
    for (int i = from; i < to; i++) {
      if (zero.get(i)) {
        continue; // a hole in memory.bin, an all-zero hash entry
      }
      ByteBuffer page = table.page(i);
      System.arraycopy(table.sha256(i), 0, hashes, i * SnapshotFormat.HASH_BYTES, SnapshotFormat.HASH_BYTES);
      long pos = (long) i * PageTable.PAGE_SIZE;
      while (page.hasRemaining()) {
        pos += ch.write(page, pos);
      }
    }
  }

  private static void writeFile(Path p, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }
}
