package dev.spindle.memory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;

/**
 * An immutable page table: the state of a {@link PagedMemory} at one instant, made by {@link
 * PagedMemory#snapshot()} without copying any page or leaf (a directory of one reference per 256
 * pages), and the seed of any number of children ({@link PagedMemory#branch}) that share every
 * page, and every leaf of the table, until they write it. Copying a sandbox's memory is copying
 * this table's directory.
 *
 * <p><b>Thread safety.</b> A table never changes and its pages are never written again (the memory
 * that made it copies a page before its next write), so any thread may read a table's pages while
 * the memory that made it keeps running, e.g. a background persister. Its fields are final, so even
 * a table handed over without synchronisation shows the bytes of its instant. Reading an {@link
 * PageState#UNLOADED} page calls the table's {@link PageSource} from the reading thread.
 */
public final class PageTable {
  /** Bytes per page: one Wasm page. */
  public static final int PAGE_SIZE = Pages.SIZE;

  /**
   * The pages, {@link Pages#LEAF} to a leaf: {@link Pages#ZERO}, a shared frame, or null for an
   * unloaded page (and past {@link #pages}). A leaf is shared with the memory that made the table,
   * its other tables and its children, and is never written again: a memory copies a leaf before it
   * changes it. So a table costs its directory: one reference per 256 pages.
   */
  private final byte[][][] leaves;

  private final int pages;
  private final PageSource source;
  private final BitSet droppedSegments;

  /** Pages whose frame was private when the table was made, so never hashed before it. */
  private final BitSet neverHashed;

  PageTable(byte[][][] leaves, int pages, PageSource source, BitSet droppedSegments) {
    this(leaves, pages, source, droppedSegments, new BitSet());
  }

  PageTable(
      byte[][][] leaves, int pages, PageSource source, BitSet droppedSegments, BitSet neverHashed) {
    this.leaves = leaves;
    this.pages = pages;
    this.source = source;
    this.droppedSegments = droppedSegments;
    this.neverHashed = neverHashed;
  }

  /**
   * A table of {@code pages} pages that are all {@link PageState#UNLOADED}: each is loaded from
   * {@code source} on first touch (a snapshot file, a remote parent).
   */
  public static PageTable unloaded(int pages, PageSource source) {
    Objects.requireNonNull(source, "source");
    checkPageCount(pages);
    byte[][][] leaves = new byte[Pages.leaves(pages)][][];
    Arrays.fill(leaves, Pages.NO_FRAMES);
    return new PageTable(leaves, pages, source, new BitSet());
  }

  /**
   * A table restored from storage: pages in {@code zeroPages} are zero, every other page is {@link
   * PageState#UNLOADED} and comes from {@code source} on first touch; {@code droppedSegments} are
   * the passive data segments the guest had dropped.
   */
  public static PageTable restored(
      int pages, BitSet zeroPages, BitSet droppedSegments, PageSource source) {
    Objects.requireNonNull(source, "source");
    checkPageCount(pages);
    byte[][][] leaves = new byte[Pages.leaves(pages)][][];
    for (int l = 0; l < leaves.length; l++) {
      int from = l << Pages.LEAF_SHIFT;
      int to = Math.min(pages, from + Pages.LEAF);
      int zero = zeroPages.get(from, to).cardinality();
      if (zero == 0) {
        leaves[l] = Pages.NO_FRAMES;
      } else if (zero == Pages.LEAF) {
        leaves[l] = Pages.ZERO_LEAF;
      } else {
        byte[][] leaf = new byte[Pages.LEAF][];
        for (int i = zeroPages.nextSetBit(from);
            i >= 0 && i < to;
            i = zeroPages.nextSetBit(i + 1)) {
          leaf[i - from] = Pages.ZERO;
        }
        leaves[l] = leaf;
      }
    }
    return new PageTable(leaves, pages, source, (BitSet) droppedSegments.clone());
  }

  /** A table of {@code pages} zero pages. */
  public static PageTable zero(int pages) {
    checkPageCount(pages);
    byte[][][] leaves = new byte[Pages.leaves(pages)][][];
    Arrays.fill(leaves, Pages.ZERO_LEAF);
    int partial = pages & Pages.LEAF_MASK;
    if (partial != 0) {
      byte[][] last = new byte[Pages.LEAF][];
      Arrays.fill(last, 0, partial, Pages.ZERO);
      leaves[leaves.length - 1] = last;
    }
    return new PageTable(leaves, pages, PageSource.NONE, new BitSet());
  }

  private static void checkPageCount(int pages) {
    if (pages < 0 || pages > com.dylibso.chicory.runtime.Memory.RUNTIME_MAX_PAGES) {
      throw new IllegalArgumentException("page count out of range: " + pages);
    }
  }

  /** The number of pages (the memory's size in Wasm pages at the snapshot's instant). */
  public int pages() {
    return pages;
  }

  /** The state of page {@code page}: {@link PageState#ZERO}, {@code SHARED} or {@code UNLOADED}. */
  public PageState state(int page) {
    Objects.checkIndex(page, pages);
    byte[] frame = storedFrame(page);
    if (frame == null) {
      return PageState.UNLOADED;
    }
    return frame == Pages.ZERO ? PageState.ZERO : PageState.SHARED;
  }

  /**
   * A read-only, little-endian (as Wasm) view of page {@code page}'s {@value Pages#SIZE} bytes; no
   * copy is made. An unloaded page is loaded from the source (not cached here: the source caches).
   */
  public ByteBuffer page(int page) {
    Objects.checkIndex(page, pages);
    return ByteBuffer.wrap(frame(page)).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The SHA-256 of page {@code page}'s bytes, or 32 zero bytes for a zero page; computed once per
   * frame ({@link FrameHashes}).
   */
  public byte[] sha256(int page) {
    Objects.checkIndex(page, pages);
    byte[] frame = storedFrame(page);
    if (frame == Pages.ZERO) {
      return new byte[32];
    }
    if (frame == null) {
      return digest(frame(page));
    }
    byte[] h = FrameHashes.get(frame);
    if (h == null) {
      h = digest(frame);
      FrameHashes.put(frame, h);
    }
    return h.clone();
  }

  /**
   * Copies the SHA-256 of every page whose hash is known without hashing (a frame hashed before)
   * into {@code dest}, 32 bytes a page, leaving zero pages' entries zero, and returns the pages
   * whose hash is not known: unloaded pages, and frames written since they were last hashed. One
   * pass without hashing, so that a remote fork describes 1 GiB in under a millisecond and hashes
   * the rest in the background.
   */
  public BitSet knownSha256s(byte[] dest) {
    if (dest.length != pages * 32) {
      throw new IllegalArgumentException(dest.length + " bytes for " + pages + " hashes");
    }
    // Pages written since the table's memory last made a table are unknown as a block (a bulk
    // copy of the bitset); only the others are looked up, a leaf at a time when its block is known.
    BitSet unknown = (BitSet) neverHashed.clone();
    for (int l = 0; l < leaves.length; l++) {
      int from = l << Pages.LEAF_SHIFT;
      int n = Math.min(Pages.LEAF, pages - from);
      byte[][] leaf = leaves[l];
      if (n <= 0 || leaf == Pages.ZERO_LEAF) {
        continue;
      }
      if (leaf == Pages.NO_FRAMES) {
        unknown.set(from, from + n);
        continue;
      }
      int written = neverHashed.nextSetBit(from);
      boolean untouched = written < 0 || written >= from + n;
      byte[] block = untouched && n == Pages.LEAF ? FrameHashes.leaf(leaf) : null;
      if (block != null) {
        System.arraycopy(block, 0, dest, from * 32, Pages.LEAF * 32);
        continue;
      }
      boolean allKnown = untouched;
      for (int j = 0; j < n; j++) {
        int i = from + j;
        byte[] frame = leaf[j];
        if (frame == Pages.ZERO || neverHashed.get(i)) {
          continue;
        }
        byte[] h = frame == null ? null : FrameHashes.get(frame);
        if (h == null) {
          unknown.set(i);
          allKnown = false;
        } else {
          System.arraycopy(h, 0, dest, i * 32, 32);
        }
      }
      if (allKnown && n == Pages.LEAF) {
        FrameHashes.putLeaf(leaf, Arrays.copyOfRange(dest, from * 32, (from + n) * 32));
      }
    }
    return unknown;
  }

  private static byte[] digest(byte[] frame) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(frame);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Counts of pages by state (never any private pages). */
  public PageCounts counts() {
    int zero = 0;
    int unloaded = 0;
    for (int l = 0; l < leaves.length; l++) {
      byte[][] leaf = leaves[l];
      int n = Math.min(Pages.LEAF, pages - (l << Pages.LEAF_SHIFT));
      if (leaf == Pages.ZERO_LEAF) {
        zero += n;
      } else if (leaf == Pages.NO_FRAMES) {
        unloaded += n;
      } else {
        for (int j = 0; j < n; j++) {
          byte[] frame = leaf[j];
          if (frame == null) {
            unloaded++;
          } else if (frame == Pages.ZERO) {
            zero++;
          }
        }
      }
    }
    return new PageCounts(zero, pages - zero - unloaded, 0, unloaded);
  }

  /** Page {@code page}'s frame, loading it if needed. The caller must not write it. */
  byte[] frame(int page) {
    byte[] frame = storedFrame(page);
    return frame != null ? frame : Pages.checkLoaded(source.load(page), page);
  }

  /** The frame as stored: null for an unloaded page. For memories and identity tests. */
  byte[] storedFrame(int page) {
    return leaves[page >>> Pages.LEAF_SHIFT][page & Pages.LEAF_MASK];
  }

  /**
   * The directory in an array of {@code capacity} leaves (at least this table's), {@link
   * Pages#NO_FRAMES} beyond: the leaves themselves are shared, never copied.
   */
  byte[][][] leavesCopy(int capacity) {
    byte[][][] copy = Arrays.copyOf(leaves, capacity);
    Arrays.fill(copy, leaves.length, capacity, Pages.NO_FRAMES);
    return copy;
  }

  /** The number of leaves in the directory. */
  int leafCount() {
    return leaves.length;
  }

  void copyLeavesTo(byte[][][] dest) {
    System.arraycopy(leaves, 0, dest, 0, leaves.length);
  }

  PageSource source() {
    return source;
  }

  /** Passive data segments dropped by the guest before the snapshot (a copy). */
  public BitSet droppedSegments() {
    return (BitSet) droppedSegments.clone();
  }
}
