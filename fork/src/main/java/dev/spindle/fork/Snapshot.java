package dev.spindle.fork;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageSource;
import dev.spindle.memory.PageTable;
import dev.spindle.store.Hashes;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A persisted snapshot, opened: its state and a page table whose pages load from {@code
 * memory.bin} on first touch, each checked against its SHA-256 before any guest sees it. Opening
 * checks the structure (state fields, file sizes, the hash of the page hashes), not every page;
 * {@link #verify()} checks every page.
 */
public final class Snapshot implements Closeable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final ObjectNode state;
  private final int pages;
  private final byte[] hashes;
  private final FileChannel memory;
  private final PageTable table;

  /**
   * Pages loaded so far, shared by every branch of this snapshot: a frame from a page source is
   * never written (a memory copies it before its first write), so N children reading one page
   * cost one read and one hash check, not N.
   */
  private final AtomicReferenceArray<byte[]> loaded;

  private Snapshot(Path dir, ObjectNode state, int pages, byte[] hashes, FileChannel memory,
      BitSet dropped) {
    this.dir = dir;
    this.state = state;
    this.pages = pages;
    this.hashes = hashes;
    this.memory = memory;
    this.loaded = new AtomicReferenceArray<>(pages);
    BitSet zero = new BitSet(pages);
    for (int i = 0; i < pages; i++) {
      if (isZeroHash(i)) {
        zero.set(i);
      }
    }
    PageSource source = this::loadShared;
    this.table = PageTable.restored(pages, zero, dropped, source);
  }

  /** Opens the snapshot in {@code dir}; a damaged one is refused naming the file and field. */
  public static Snapshot open(Path dir) throws IOException {
    Path statePath = dir.resolve(SnapshotFormat.STATE);
    if (!Files.isRegularFile(statePath)) {
      throw new NoSuchFileException(statePath.toString(), null, "not a snapshot (no state.json)");
    }
    ObjectNode state;
    try {
      JsonNode n = JSON.readTree(statePath.toFile());
      if (!(n instanceof ObjectNode o)) {
        throw damaged(statePath, "is not a JSON object");
      }
      state = o;
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw damaged(statePath, "is not valid JSON: " + e.getOriginalMessage());
    }
    int version = intField(statePath, state, "format_version");
    if (version != SnapshotFormat.VERSION) {
      throw damaged(statePath, "field format_version: " + version + " (this Spindle reads "
          + SnapshotFormat.VERSION + ")");
    }
    int pageSize = intField(statePath, state, "page_size");
    if (pageSize != PageTable.PAGE_SIZE) {
      throw damaged(statePath, "field page_size: " + pageSize + ", expected " + PageTable.PAGE_SIZE);
    }
    int pages = intField(statePath, state, "pages");
    if (pages < 0 || pages > 65536) {
      throw damaged(statePath, "field pages: " + pages + " is out of range");
    }
    Path hashPath = dir.resolve(SnapshotFormat.HASHES);
    byte[] hashes = Files.readAllBytes(hashPath);
    if (hashes.length != pages * SnapshotFormat.HASH_BYTES) {
      throw damaged(hashPath, "has " + hashes.length + " bytes, expected "
          + (pages * SnapshotFormat.HASH_BYTES) + " for " + pages + " pages");
    }
    String root = Hashes.sha256Hex(hashes);
    JsonNode stored = state.get("page_hashes_sha256");
    if (stored == null || !stored.asText().equals(root)) {
      throw damaged(statePath, "field page_hashes_sha256 does not match " + SnapshotFormat.HASHES);
    }
    BitSet dropped = new BitSet();
    JsonNode d = state.get("dropped_segments");
    if (d != null) {
      for (JsonNode x : d) {
        if (!x.canConvertToInt() || x.asInt() < 0) {
          throw damaged(statePath, "field dropped_segments holds " + x);
        }
        dropped.set(x.asInt());
      }
    }
    Path memPath = dir.resolve(SnapshotFormat.MEMORY);
    FileChannel mem = FileChannel.open(memPath, StandardOpenOption.READ);
    if (mem.size() != (long) pages * PageTable.PAGE_SIZE) {
      long size = mem.size();
      mem.close();
      throw damaged(memPath, "has " + size + " bytes, expected " + ((long) pages * PageTable.PAGE_SIZE));
    }
    return new Snapshot(dir, state, pages, hashes, mem, dropped);
  }

  private static int intField(Path file, ObjectNode state, String name) {
    JsonNode n = state.get(name);
    if (n == null || !n.canConvertToInt()) {
      throw damaged(file, "field " + name + " is missing or not an integer");
    }
    return n.asInt();
  }

  private static SnapshotDamagedException damaged(Path file, String what) {
    return new SnapshotDamagedException(file + ": " + what);
  }

  public Path directory() {
    return dir;
  }

  /** The state as stored (a copy): lineage, mode, and the sandbox's own state under "sandbox". */
  public ObjectNode state() {
    return state.deepCopy();
  }

  public int pages() {
    return pages;
  }

  /** A page table over this snapshot: share it among any number of branches. */
  public PageTable table() {
    return table;
  }

  private boolean isZeroHash(int page) {
    int off = page * SnapshotFormat.HASH_BYTES;
    for (int i = 0; i < SnapshotFormat.HASH_BYTES; i++) {
      if (hashes[off + i] != 0) {
        return false;
      }
    }
    return true;
  }

  private byte[] loadShared(int index) {
    byte[] page = loaded.get(index);
    if (page == null) {
      page = load(index);
      if (!loaded.compareAndSet(index, null, page)) {
        page = loaded.get(index);
      }
    }
    return page;
  }

  /** Loads page {@code index} from memory.bin and checks its hash; damage stops the guest. */
  byte[] load(int index) {
    byte[] page = new byte[PageTable.PAGE_SIZE];
    ByteBuffer b = ByteBuffer.wrap(page);
    long pos = (long) index * PageTable.PAGE_SIZE;
    try {
      while (b.hasRemaining()) {
        int n = memory.read(b, pos + b.position());
        if (n < 0) {
          throw damaged(dir.resolve(SnapshotFormat.MEMORY), "page " + index + " is truncated");
        }
      }
    } catch (IOException e) {
      throw new SnapshotDamagedException(dir.resolve(SnapshotFormat.MEMORY) + ": page " + index
          + " cannot be read: " + e.getMessage());
    }
    byte[] actual = Hashes.sha256(page);
    int off = index * SnapshotFormat.HASH_BYTES;
    if (!Arrays.equals(actual, 0, 32, hashes, off, off + 32)) {
      throw damaged(dir.resolve(SnapshotFormat.MEMORY), "page " + index + " (bytes " + pos + ".."
          + (pos + PageTable.PAGE_SIZE - 1) + ") does not match its SHA-256");
    }
    return page;
  }

  /** Checks every page (zero pages must read as zeros). Returns the first damage, or null. */
  public String verify() {
    byte[] zeros = new byte[PageTable.PAGE_SIZE];
    for (int i = 0; i < pages; i++) {
      try {
        if (isZeroHash(i)) {
          byte[] page = new byte[PageTable.PAGE_SIZE];
          memory.read(ByteBuffer.wrap(page), (long) i * PageTable.PAGE_SIZE);
          if (!Arrays.equals(page, zeros)) {
            return dir.resolve(SnapshotFormat.MEMORY) + ": page " + i + " should be zero";
          }
        } else {
          load(i);
        }
      } catch (SnapshotDamagedException | IOException e) {
        return e.getMessage();
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    memory.close();
  }
}
