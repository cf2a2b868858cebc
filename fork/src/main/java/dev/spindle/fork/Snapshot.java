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
 * A persisted snapshot, opened: its state and a page table whose pages load from {@code memory.bin}
 * on first touch, each checked against its SHA-256 before any guest sees it. Opening checks the
 * structure (state fields, file sizes, the hash of the page hashes), not every page; {@link
 * #verify()} checks every page.
 */
public final class Snapshot implements Closeable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final ObjectNode state;
  private final int pages;
  private final byte[] hashes;
  private final FileChannel memory;
  private final PageTable table;

  /** The snapshot read through for inherited pages (format version 2), else null. */
  private final Snapshot base;

  /** Pages whose bytes are the base's (empty for a whole snapshot). */
  private final BitSet inherited;

  /**
   * Pages loaded so far, shared by every branch of this snapshot: a frame from a page source is
   * never written (a memory copies it before its first write), so N children reading one page cost
   * one read and one hash check, not N.
   */
  private final AtomicReferenceArray<byte[]> loaded;

  private Snapshot(
      Path dir,
      ObjectNode state,
      int pages,
      byte[] hashes,
      FileChannel memory,
      BitSet dropped,
      Snapshot base,
      BitSet inherited) {
    this.dir = dir;
    this.base = base;
    this.inherited = inherited;
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

  /**
   * Opens the snapshot in {@code dir}; a damaged one is refused naming the file and field. An
   * incremental snapshot (format version 2) opens its base, a sibling directory named by its tag,
   * and so on down the chain: a missing, replaced or damaged link is refused naming the link.
   */
  public static Snapshot open(Path dir) throws IOException {
    return open(dir, 0);
  }

  private static Snapshot open(Path dir, int depth) throws IOException {
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
    if (version != SnapshotFormat.VERSION && version != SnapshotFormat.INCREMENTAL_VERSION) {
      throw damaged(
          statePath,
          "field format_version: "
              + version
              + " (this Spindle reads "
              + SnapshotFormat.VERSION
              + " and "
              + SnapshotFormat.INCREMENTAL_VERSION
              + ")");
    }
    int pageSize = intField(statePath, state, "page_size");
    if (pageSize != PageTable.PAGE_SIZE) {
      throw damaged(
          statePath, "field page_size: " + pageSize + ", expected " + PageTable.PAGE_SIZE);
    }
    int pages = intField(statePath, state, "pages");
    if (pages < 0 || pages > 65536) {
      throw damaged(statePath, "field pages: " + pages + " is out of range");
    }
    Path hashPath = dir.resolve(SnapshotFormat.HASHES);
    if (Files.size(hashPath) != (long) pages * SnapshotFormat.HASH_BYTES) {
      throw damaged(
          hashPath,
          "has "
              + Files.size(hashPath)
              + " bytes, expected "
              + (pages * SnapshotFormat.HASH_BYTES)
              + " for "
              + pages
              + " pages");
    }
    byte[] hashes = Files.readAllBytes(hashPath);
    if (hashes.length != pages * SnapshotFormat.HASH_BYTES) {
      throw damaged(
          hashPath,
          "has "
              + hashes.length
              + " bytes, expected "
              + (pages * SnapshotFormat.HASH_BYTES)
              + " for "
              + pages
              + " pages");
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
        if (!x.canConvertToInt() || x.asInt() < 0 || x.asInt() > 1_000_000) {
          throw damaged(statePath, "field dropped_segments holds " + x);
        }
        dropped.set(x.asInt());
      }
    }
    Snapshot base = null;
    BitSet inherited = new BitSet();
    if (version == SnapshotFormat.INCREMENTAL_VERSION) {
      base = openBase(dir, statePath, state, pages, hashes, inherited, depth);
    }
    Path memPath = dir.resolve(SnapshotFormat.MEMORY);
    FileChannel mem;
    try {
      mem = FileChannel.open(memPath, StandardOpenOption.READ);
    } catch (IOException e) {
      closeQuietly(base);
      throw e;
    }
    if (mem.size() != (long) pages * PageTable.PAGE_SIZE) {
      long size = mem.size();
      mem.close();
      closeQuietly(base);
      throw damaged(
          memPath, "has " + size + " bytes, expected " + ((long) pages * PageTable.PAGE_SIZE));
    }
    return new Snapshot(dir, state, pages, hashes, mem, dropped, base, inherited);
  }

  /**
   * Opens the base of an incremental snapshot and reads its inherited pages: the base must be the
   * snapshot this one was written onto (same root hash), no deeper than {@link
   * SnapshotFormat#MAX_CHAIN} links, and hold every inherited page with the hash this one records.
   */
  private static Snapshot openBase(
      Path dir,
      Path statePath,
      ObjectNode state,
      int pages,
      byte[] hashes,
      BitSet inherited,
      int depth)
      throws IOException {
    JsonNode b = state.get("base");
    if (b == null || !b.isTextual() || !dev.spindle.store.Tag.isValid(b.asText())) {
      throw damaged(statePath, "field base is missing or not a tag");
    }
    String baseTag = b.asText();
    int chainDepth = intField(statePath, state, "chain_depth");
    if (chainDepth < 1
        || chainDepth > SnapshotFormat.MAX_CHAIN
        || depth + 1 > SnapshotFormat.MAX_CHAIN) {
      throw damaged(
          statePath,
          "field chain_depth: "
              + chainDepth
              + " (chains are at most "
              + SnapshotFormat.MAX_CHAIN
              + " links, this one is "
              + (depth + 1)
              + " deep here)");
    }
    JsonNode baseRoot = state.get("base_page_hashes_sha256");
    if (baseRoot == null || !baseRoot.isTextual()) {
      throw damaged(statePath, "field base_page_hashes_sha256 is missing");
    }
    Path bitsPath = dir.resolve(SnapshotFormat.INHERITED);
    long want = (pages + 7L) / 8;
    if (!Files.isRegularFile(bitsPath) || Files.size(bitsPath) != want) {
      throw damaged(
          bitsPath,
          Files.isRegularFile(bitsPath)
              ? "has "
                  + Files.size(bitsPath)
                  + " bytes, expected "
                  + want
                  + " for "
                  + pages
                  + " pages"
              : "is missing");
    }
    byte[] bits = Files.readAllBytes(bitsPath);
    JsonNode bitsHash = state.get("inherited_bits_sha256");
    if (bitsHash == null || !bitsHash.asText().equals(Hashes.sha256Hex(bits))) {
      throw damaged(
          statePath, "field inherited_bits_sha256 does not match " + SnapshotFormat.INHERITED);
    }
    inherited.or(BitSet.valueOf(bits));
    Path baseDir = dir.resolveSibling(baseTag);
    String link = "link '" + tagOf(dir) + "' reads through base '" + baseTag + "'";
    Snapshot base;
    try {
      base = open(baseDir, depth + 1);
    } catch (NoSuchFileException e) {
      throw new SnapshotDamagedException(
          statePath
              + ": "
              + link
              + ", which is missing ("
              + baseDir
              + " has no snapshot; was it deleted?)");
    } catch (SnapshotDamagedException e) {
      throw new SnapshotDamagedException(
          statePath + ": " + link + ", which is damaged: " + e.getMessage());
    }
    try {
      String actual = base.state.get("page_hashes_sha256").asText();
      if (!actual.equals(baseRoot.asText())) {
        throw damaged(
            statePath,
            link
                + ", which holds other memory than when this was written"
                + " (its page_hashes_sha256 changed)");
      }
      int h = SnapshotFormat.HASH_BYTES;
      for (int i = inherited.nextSetBit(0); i >= 0; i = inherited.nextSetBit(i + 1)) {
        if (i >= pages
            || i >= base.pages
            || !Arrays.equals(hashes, i * h, i * h + h, base.hashes, i * h, i * h + h)) {
          throw damaged(
              statePath,
              link
                  + ": page "
                  + i
                  + " is inherited but "
                  + (i >= pages || i >= base.pages
                      ? "out of range"
                      : "the base's page " + i + " has another SHA-256"));
        }
      }
      return base;
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  private static String tagOf(Path dir) {
    Path name = dir.getFileName();
    return name == null ? dir.toString() : name.toString();
  }

  private static void closeQuietly(Snapshot s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // already failing: the open's own error is the one to report
      }
    }
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

  /**
   * Page {@code index}'s bytes, checked against its hash, without keeping them (compaction reads
   * every page once): through the base for an inherited page, zeros for a zero page.
   */
  byte[] read(int index) {
    if (isZeroHash(index)) {
      return new byte[PageTable.PAGE_SIZE];
    }
    if (inherited.get(index)) {
      try {
        return base.read(index);
      } catch (SnapshotDamagedException e) {
        throw inheritedDamaged(index, e);
      }
    }
    return load(index);
  }

  /** Damage found through the base, said again naming this link and the page. */
  private SnapshotDamagedException inheritedDamaged(int index, SnapshotDamagedException e) {
    return new SnapshotDamagedException(
        "snapshot '"
            + tagOf(dir)
            + "' page "
            + index
            + " is inherited from '"
            + tagOf(base.dir)
            + "': "
            + e.getMessage());
  }

  /**
   * Loads page {@code index} from memory.bin, or through the base for an inherited page, and checks
   * its hash; damage stops the guest, naming the link and the page.
   */
  byte[] load(int index) {
    if (inherited.get(index)) {
      try {
        return base.loadShared(index);
      } catch (SnapshotDamagedException e) {
        throw inheritedDamaged(index, e);
      }
    }
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
      throw new SnapshotDamagedException(
          dir.resolve(SnapshotFormat.MEMORY)
              + ": page "
              + index
              + " cannot be read: "
              + e.getMessage());
    }
    byte[] actual = Hashes.sha256(page);
    int off = index * SnapshotFormat.HASH_BYTES;
    if (!Arrays.equals(actual, 0, 32, hashes, off, off + 32)) {
      throw damaged(
          dir.resolve(SnapshotFormat.MEMORY),
          "snapshot '"
              + tagOf(dir)
              + "' page "
              + index
              + " (bytes "
              + pos
              + ".."
              + (pos + PageTable.PAGE_SIZE - 1)
              + ") does not match its SHA-256");
    }
    return page;
  }

  /** Checks every page (zero pages must read as zeros). Returns the first damage, or null. */
  public String verify() {
    byte[] zeros = new byte[PageTable.PAGE_SIZE];
    for (int i = 0; i < pages; i++) {
      try {
        if (inherited.get(i)) {
          load(i); // through the chain, each link checking its own hash
        } else if (isZeroHash(i)) {
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

  /** The tag of the base this snapshot reads inherited pages through (format version 2). */
  public java.util.Optional<String> base() {
    return java.util.Optional.ofNullable(base == null ? null : tagOf(base.dir));
  }

  /** Links from this snapshot down to a whole one: 0 for a whole snapshot. */
  public int chainDepth() {
    return base == null ? 0 : 1 + base.chainDepth();
  }

  /** Pages read through the base (none for a whole snapshot). */
  public int inheritedPages() {
    return inherited.cardinality();
  }

  /** The SHA-256 of the page hashes: the same for a snapshot and its compacted copy. */
  String pageHashesSha256() {
    return state.get("page_hashes_sha256").asText();
  }

  /** The page hashes as stored (32 bytes a page), not copied: callers must not write them. */
  byte[] hashes() {
    return hashes;
  }

  @Override
  public void close() throws IOException {
    try {
      memory.close();
    } finally {
      if (base != null) {
        base.close();
      }
    }
  }
}
