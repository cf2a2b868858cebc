package dev.spindle.memory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;

/**
 * The flat page table as it was before the two-level table (one frame reference per page), kept
 * unchanged as the reference for {@link PageTableDifferentialTest}. Not used outside the tests.
 */
final class FlatPageTable {
  /** Bytes per page: one Wasm page. */
  public static final int PAGE_SIZE = Pages.SIZE;

  /** One frame per page: {@link Pages#ZERO}, a shared frame, or null for an unloaded page. */
  private final byte[][] frames;

  private final PageSource source;
  private final BitSet droppedSegments;

  /** Pages whose frame was private when the table was made, so never hashed before it. */
  private final BitSet neverHashed;

  FlatPageTable(byte[][] frames, PageSource source, BitSet droppedSegments) {
    this(frames, source, droppedSegments, new BitSet());
  }

  FlatPageTable(byte[][] frames, PageSource source, BitSet droppedSegments, BitSet neverHashed) {
    this.frames = frames;
    this.source = source;
    this.droppedSegments = droppedSegments;
    this.neverHashed = neverHashed;
  }

  /**
   * A table of {@code pages} pages that are all {@link PageState#UNLOADED}: each is loaded from
   * {@code source} on first touch (a snapshot file, a remote parent).
   */
  public static FlatPageTable unloaded(int pages, PageSource source) {
    Objects.requireNonNull(source, "source");
    checkPageCount(pages);
    return new FlatPageTable(new byte[pages][], source, new BitSet());
  }

  /**
   * A table restored from storage: pages in {@code zeroPages} are zero, every other page is {@link
   * PageState#UNLOADED} and comes from {@code source} on first touch; {@code droppedSegments} are
   * the passive data segments the guest had dropped.
   */
  public static FlatPageTable restored(
      int pages, BitSet zeroPages, BitSet droppedSegments, PageSource source) {
    Objects.requireNonNull(source, "source");
    checkPageCount(pages);
    byte[][] frames = new byte[pages][];
    for (int i = zeroPages.nextSetBit(0); i >= 0 && i < pages; i = zeroPages.nextSetBit(i + 1)) {
      frames[i] = Pages.ZERO;
    }
    return new FlatPageTable(frames, source, (BitSet) droppedSegments.clone());
  }

  /** A table of {@code pages} zero pages. */
  public static FlatPageTable zero(int pages) {
    checkPageCount(pages);
    byte[][] frames = new byte[pages][];
    Arrays.fill(frames, Pages.ZERO);
    return new FlatPageTable(frames, PageSource.NONE, new BitSet());
  }

  private static void checkPageCount(int pages) {
    if (pages < 0 || pages > com.dylibso.chicory.runtime.Memory.RUNTIME_MAX_PAGES) {
      throw new IllegalArgumentException("page count out of range: " + pages);
    }
  }

  /** The number of pages (the memory's size in Wasm pages at the snapshot's instant). */
  public int pages() {
    return frames.length;
  }

  /** The state of page {@code page}: {@link PageState#ZERO}, {@code SHARED} or {@code UNLOADED}. */
  public PageState state(int page) {
    Objects.checkIndex(page, frames.length);
    byte[] frame = frames[page];
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
    Objects.checkIndex(page, frames.length);
    return ByteBuffer.wrap(frame(page)).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The SHA-256 of page {@code page}'s bytes, or 32 zero bytes for a zero page; computed once per
   * frame ({@link FrameHashes}).
   */
  public byte[] sha256(int page) {
    Objects.checkIndex(page, frames.length);
    byte[] frame = frames[page];
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
    if (dest.length != frames.length * 32) {
      throw new IllegalArgumentException(dest.length + " bytes for " + frames.length + " hashes");
    }
    // Pages written since the table's memory last made a table are unknown as a block (a bulk
    // copy of the bitset); only the others are looked up.
    BitSet unknown = (BitSet) neverHashed.clone();
    for (int i = neverHashed.nextClearBit(0);
        i < frames.length;
        i = neverHashed.nextClearBit(i + 1)) {
      byte[] frame = frames[i];
      if (frame == Pages.ZERO) {
        continue;
      }
      byte[] h = frame == null ? null : FrameHashes.get(frame);
      if (h == null) {
        unknown.set(i);
      } else {
        System.arraycopy(h, 0, dest, i * 32, 32);
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
    for (byte[] frame : frames) {
      if (frame == null) {
        unloaded++;
      } else if (frame == Pages.ZERO) {
        zero++;
      }
    }
    return new PageCounts(zero, frames.length - zero - unloaded, 0, unloaded);
  }

  /** Page {@code page}'s frame, loading it if needed. The caller must not write it. */
  byte[] frame(int page) {
    byte[] frame = frames[page];
    return frame != null ? frame : Pages.checkLoaded(source.load(page), page);
  }

  /** The frame as stored: null for an unloaded page. For memories and identity tests. */
  byte[] storedFrame(int page) {
    return frames[page];
  }

  /** The frames in an array of {@code capacity} (at least {@link #pages()}), null beyond. */
  byte[][] framesCopy(int capacity) {
    return Arrays.copyOf(frames, capacity);
  }

  void copyFramesTo(byte[][] dest) {
    System.arraycopy(frames, 0, dest, 0, frames.length);
  }

  PageSource source() {
    return source;
  }

  /** Passive data segments dropped by the guest before the snapshot (a copy). */
  public BitSet droppedSegments() {
    return (BitSet) droppedSegments.clone();
  }
}
