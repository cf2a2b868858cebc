package dev.spindle.memory;

import com.dylibso.chicory.runtime.Memory;

/**
 * Page geometry and the one all-zero frame.
 *
 * <p>A Spindle page is one Wasm page (64 KiB): {@link Memory#pages()} counts in that unit, so a
 * page-table entry maps to exactly one unit of {@code memory.grow}, and the table of a maximal
 * 32,767-page memory stays at 32,767 entries. A first write to a shared page copies 64 KiB (about 3
 * µs at the 19-20 GB/s memcpy measured on these machines, docs/PLATFORM-FACTS.md).
 */
final class Pages {
  static final int SHIFT = 16;
  static final int SIZE = 1 << SHIFT;
  static final int MASK = SIZE - 1;

  /**
   * The frame of every zero page. Never written: writes only go through private frames, and a
   * private frame is always a fresh array.
   */
  static final byte[] ZERO = new byte[SIZE];

  /**
   * log2 of the pages per leaf of the two-level page table: 8, so a leaf maps 16 MiB in a 1 KiB
   * array and the directory of a maximal memory has 256 entries (1 KiB). Branching copies only the
   * directory; a first write in a leaf copies that leaf. The property exists for the tests, which
   * run with 2-page leaves so that memories of a few pages cross leaves.
   */
  static final int LEAF_SHIFT = leafShift();

  /** Pages per leaf. */
  static final int LEAF = 1 << LEAF_SHIFT;

  static final int LEAF_MASK = LEAF - 1;

  /** Address bits below a directory index: an address's leaf is {@code addr >>> DIR_SHIFT}. */
  static final int DIR_SHIFT = SHIFT + LEAF_SHIFT;

  /**
   * The leaf of no frames: every page in it unloaded (or past the end). Shared by every table and
   * memory and never written; a memory's writable directory holds it where the memory owns no leaf.
   */
  static final byte[][] NO_FRAMES = new byte[LEAF][];

  /** The leaf of {@link #LEAF} zero pages, shared and never written. */
  static final byte[][] ZERO_LEAF = zeroLeaf();

  static {
    if (SIZE != Memory.PAGE_SIZE) {
      throw new AssertionError("page size must equal the Wasm page size");
    }
  }

  private Pages() {}

  private static int leafShift() {
    int shift = Integer.getInteger("spindle.memory.leafShift", 8);
    if (shift < 0 || shift > 12) {
      throw new IllegalArgumentException("spindle.memory.leafShift must be 0..12: " + shift);
    }
    return shift;
  }

  private static byte[][] zeroLeaf() {
    byte[][] leaf = new byte[LEAF][];
    java.util.Arrays.fill(leaf, ZERO);
    return leaf;
  }

  /** The number of leaves that hold {@code pages} pages. */
  static int leaves(int pages) {
    return (pages + LEAF_MASK) >>> LEAF_SHIFT;
  }

  /** Bytes of a reference array of {@code length} (16-byte header, compressed references). */
  static long arrayBytes(int length) {
    return (16 + 4L * length + 7) & ~7L;
  }

  /** Checks what a {@link PageSource} returned for page {@code index}. */
  static byte[] checkLoaded(byte[] frame, int index) {
    if (frame == null) {
      throw new IllegalStateException("page source returned no bytes for page " + index);
    }
    if (frame.length != SIZE) {
      throw new IllegalStateException(
          "page source returned "
              + frame.length
              + " bytes for page "
              + index
              + ", expected "
              + SIZE);
    }
    return frame;
  }
}
