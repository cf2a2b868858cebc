package dev.spindle.memory;

import static dev.spindle.memory.Pages.DIR_SHIFT;
import static dev.spindle.memory.Pages.LEAF;
import static dev.spindle.memory.Pages.LEAF_MASK;
import static dev.spindle.memory.Pages.LEAF_SHIFT;
import static dev.spindle.memory.Pages.MASK;
import static dev.spindle.memory.Pages.NO_FRAMES;
import static dev.spindle.memory.Pages.SHIFT;
import static dev.spindle.memory.Pages.SIZE;
import static dev.spindle.memory.Pages.ZERO;
import static dev.spindle.memory.Pages.ZERO_LEAF;

import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Objects;

/**
 * A Wasm linear memory for Chicory backed by a software page table that Spindle owns, so that
 * copying a sandbox's memory is copying a table: {@link #snapshot()} freezes the current pages into
 * an immutable {@link PageTable} without copying bytes, {@link #branch} starts a child memory that
 * shares every page of a table, and {@link #restore} swaps a table in. A page is {@link
 * PageState#ZERO zero}, {@link PageState#SHARED shared} (copied on its first write), {@link
 * PageState#PRIVATE private}, or {@link PageState#UNLOADED unloaded} (fetched from a {@link
 * PageSource} on first touch).
 *
 * <p>Plug it in with {@code Instance.builder(module).withMemoryFactory(PagedMemory::new)}. The
 * object stays the same for the instance's whole life, as Chicory's compiled mode requires
 * (docs/PLATFORM-FACTS.md): tables are swapped inside it. Semantics mirror Chicory 1.7.5's {@code
 * ByteArrayMemory} (little-endian, the same out-of-bounds exceptions and message prefix, a failed
 * access changes nothing), which the tests check differentially on random operation sequences.
 *
 * <p><b>Threads.</b> Like Chicory's memories for non-shared Wasm memories, a {@code PagedMemory} is
 * used by one thread at a time, the sandbox's; {@link #snapshot()} and {@link #restore} are called
 * by that thread (for instance from a host function, or while the sandbox is paused). The tables it
 * makes may be read by any thread while it keeps running (see {@link PageTable}). Shared memories
 * (the threads proposal) are rejected at construction.
 *
 * <p><b>Table.</b> Two levels: a directory of leaves of 256 pages (16 MiB) each. A table shares the
 * memory's leaves, and a child copies only a table's directory (a 1 GiB child: 64 entries), so
 * {@link #snapshot()} and {@link #branch} cost O(pages / 256) and a child holds no table of its own
 * but two directories until it writes; the first write (or load) in a leaf copies that leaf's 256
 * references.
 *
 * <p><b>Cost.</b> An access inside a page is two array loads (directory, leaf) plus the
 * little-endian {@code VarHandle} access of {@code ByteArrayMemory}; a write also checks that the
 * page is private. Measured against {@code ByteArrayMemory} ({@code PagedMemoryBench},
 * DESIGN-NOTES.md): sequential i32 reads 1.01x, writes 1.29x, 1 MiB copies 0.9-1.0x, as with the
 * flat table; the first write to a shared page copies its 64 KiB, about 9 µs.
 */
public final class PagedMemory implements Memory {
  private static final VarHandle SHORT =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final MemoryLimits limits;

  /**
   * The directory of readable leaves: leaf {@code l} holds the frames of pages {@code l * LEAF} to
   * {@code l * LEAF + LEAF - 1}, each {@link Pages#ZERO}, a shared frame, a private frame, or null
   * while unloaded (and null at and above {@link #pages}). A leaf is this memory's own (it may
   * write it) exactly where {@link #writable} holds a leaf of its own; elsewhere it is shared with
   * tables, siblings or the {@link Pages} constants and is copied before it changes. Directory
   * entries past the pages in use hold {@link Pages#NO_FRAMES}. Sized to the leaves in use and
   * reallocated (doubling, up to the maximum) only by {@link #grow} and {@link #restore}.
   */
  private byte[][][] frames;

  /**
   * The directory of private frames: where this memory owns leaf {@code l}, a leaf holding each
   * private page's frame (the same array as in {@link #frames}) and null for the others; else
   * {@link Pages#NO_FRAMES}, so a write there takes the copy-on-write path without a test here.
   */
  private byte[][][] writable;

  /** Where this memory's private frames are counted: the process's, or a test's own. */
  private final FrameBudget budget;

  private final DataSegments segments = new DataSegments();
  private final Object atomicLock = new Object();
  private int pages;
  private PageSource source;

  /** Set by {@link #branch}: instantiation's {@code zero()} and active segments are skipped. */
  private boolean restoring;

  /**
   * A fresh memory of {@code limits.initialPages()} zero pages (a {@code withMemoryFactory}
   * target).
   */
  public PagedMemory(MemoryLimits limits) {
    this(limits, PageTable.zero(limits.initialPages()), false, FrameBudget.global());
  }

  private PagedMemory(MemoryLimits limits, PageTable table, boolean restoring, FrameBudget budget) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.budget = budget;
    if (limits.shared()) {
      throw new ChicoryException(
          "PagedMemory does not support shared memories (threads proposal) yet");
    }
    int n = table.pages();
    checkFits(n);
    // The table's directory, its leaves shared: a child of a 1 GiB parent copies 64 references.
    this.frames =
        table.leavesCopy(
            Math.max(
                table.leafCount(), Pages.leaves(Math.min(maximumPages(), limits.initialPages()))));
    this.writable = new byte[frames.length][][];
    Arrays.fill(writable, NO_FRAMES);
    this.restoring = restoring;
    this.pages = n;
    this.source = table.source();
    segments.restoreDropped(table.droppedSegments());
  }

  /**
   * A child memory that starts as {@code table} and shares all of its pages until it writes them.
   * Meant for {@code withMemoryFactory(l -> PagedMemory.branch(l, table))}: Chicory's instantiation
   * then leaves the pages alone (its {@code zero()} and the active data segments are skipped, as
   * the table already holds their effect), while passive segments and the table's dropped-segment
   * state still apply. Until that {@link #initialize} call, {@link #zero()} does nothing.
   *
   * @throws IllegalArgumentException if the table has more pages than {@code limits} allow
   */
  public static PagedMemory branch(MemoryLimits limits, PageTable table) {
    return new PagedMemory(limits, table, true, FrameBudget.global());
  }

  /** As {@link #branch(MemoryLimits, PageTable)}, its frames counted in {@code budget} (tests). */
  static PagedMemory branch(MemoryLimits limits, PageTable table, FrameBudget budget) {
    return new PagedMemory(limits, table, true, budget);
  }

  /**
   * Freezes this memory's current state into an immutable table, in O(pages / 256 + leaves written
   * since the last snapshot), copying no page and no leaf: every private page becomes shared and is
   * copied on its next write, so the table keeps exactly the bytes of this instant however this
   * memory goes on.
   */
  public PageTable snapshot() {
    // Private frames were never in a table, so never hashed: telling the table spares a
    // remote fork a lookup (an object-header read, a cache miss) per page it wrote.
    BitSet neverHashed = new BitSet(pages);
    int leaves = Pages.leaves(pages);
    for (int l = 0; l < leaves; l++) {
      byte[][] w = writable[l];
      if (w == NO_FRAMES) {
        continue; // a shared leaf: no private page in it
      }
      for (int j = 0; j < LEAF; j++) {
        if (w[j] != null) {
          neverHashed.set((l << LEAF_SHIFT) + j);
        }
      }
      // The table takes this leaf as it is: the next change to it copies it first.
      writable[l] = NO_FRAMES;
    }
    return new PageTable(
        Arrays.copyOf(frames, leaves), pages, source, segments.dropped(), neverHashed);
  }

  /**
   * Replaces this memory's whole state by {@code table} (pages, size, dropped segments); all pages
   * become shared with the table. O(pages / 256).
   *
   * @throws IllegalArgumentException if the table has more pages than the limits allow
   */
  public void restore(PageTable table) {
    adopt(table);
  }

  private void adopt(PageTable table) {
    int n = table.pages();
    checkFits(n);
    ensureCapacity(n);
    int leaves = Math.max(table.leafCount(), Pages.leaves(pages));
    Arrays.fill(writable, 0, leaves, NO_FRAMES);
    Arrays.fill(frames, table.leafCount(), leaves, NO_FRAMES);
    table.copyLeavesTo(frames);
    pages = n;
    source = table.source();
    segments.restoreDropped(table.droppedSegments());
  }

  private void checkFits(int n) {
    if (n > maximumPages()) {
      throw new IllegalArgumentException(
          "page table has " + n + " pages, the memory allows " + maximumPages());
    }
  }

  /** The state of page {@code page} (below {@link #pages()}). */
  public PageState state(int page) {
    Objects.checkIndex(page, pages);
    byte[] frame = frames[page >>> LEAF_SHIFT][page & LEAF_MASK];
    if (frame == null) {
      return PageState.UNLOADED;
    }
    if (writable[page >>> LEAF_SHIFT][page & LEAF_MASK] != null) {
      return PageState.PRIVATE;
    }
    return frame == ZERO ? PageState.ZERO : PageState.SHARED;
  }

  /**
   * Counts of this memory's pages by state; O(pages), a leaf shared whole with the {@link Pages}
   * constants counted at once.
   */
  public PageCounts counts() {
    int zero = 0;
    int priv = 0;
    int unloaded = 0;
    int leaves = Pages.leaves(pages);
    for (int l = 0; l < leaves; l++) {
      byte[][] leaf = frames[l];
      int n = Math.min(LEAF, pages - (l << LEAF_SHIFT));
      if (leaf == ZERO_LEAF) {
        zero += n;
        continue;
      }
      if (leaf == NO_FRAMES) {
        unloaded += n;
        continue;
      }
      byte[][] w = writable[l];
      for (int j = 0; j < n; j++) {
        byte[] frame = leaf[j];
        if (frame == null) {
          unloaded++;
        } else if (w[j] != null) {
          priv++;
        } else if (frame == ZERO) {
          zero++;
        }
      }
    }
    return new PageCounts(zero, pages - zero - priv - unloaded, priv, unloaded);
  }

  /**
   * Bytes of page table this memory holds alone: its two directories and the leaves it owns (copied
   * on a write or load in them), not the leaves it shares with tables and other memories. Estimated
   * from the arrays' lengths with 16-byte headers and 4-byte references (the JVM's compressed
   * references, below 32 GiB of heap).
   */
  public long tableBytes() {
    long bytes = Pages.arrayBytes(frames.length) + Pages.arrayBytes(writable.length);
    for (byte[][] w : writable) {
      if (w != NO_FRAMES) {
        bytes += 2 * Pages.arrayBytes(LEAF);
      }
    }
    return bytes;
  }

  /** Page {@code page}'s current frame, for identity tests. */
  byte[] frame(int page) {
    return frames[page >>> LEAF_SHIFT][page & LEAF_MASK];
  }

  // ---------------------------------------------------------------- page resolution

  // The hot paths index the frame arrays directly and let the JVM's array check catch an index
  // past them (only an out-of-bounds access gets there). With an explicit range test first,
  // PagedMemoryBench measured sequential i32 reads at 1.15-2.4x ByteArrayMemory's; with the
  // catch, 1.0x. A null frame (not loaded, or not private) is tested explicitly: it is the
  // copy-on-write path, taken once per page.

  /** The frame to read {@code size} bytes at {@code addr} from (all in one page). */
  private byte[] readFrame(int addr, int size) {
    try {
      byte[] frame = frames[addr >>> DIR_SHIFT][(addr >>> SHIFT) & LEAF_MASK];
      if (frame != null) {
        return frame;
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      // past the largest possible memory: page() reports it
    }
    return loaded(page(addr, size));
  }

  /** The private frame to write {@code size} bytes at {@code addr} to (all in one page). */
  private byte[] writeFrame(int addr, int size) {
    try {
      byte[] frame = writable[addr >>> DIR_SHIFT][(addr >>> SHIFT) & LEAF_MASK];
      if (frame != null) {
        return frame;
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      // past the largest possible memory: page() reports it
    }
    return own(page(addr, size), true);
  }

  /** The page of {@code addr}, for an access of {@code size} bytes that fits in one page. */
  private int page(int addr, int size) {
    int index = addr >>> SHIFT;
    if (index >= pages) {
      throw Bounds.outOfBounds(addr, size, sizeInBytes());
    }
    return index;
  }

  /** Page {@code index}'s frame (below {@link #pages}), loading it from the source if needed. */
  private byte[] loaded(int index) {
    byte[] frame = frames[index >>> LEAF_SHIFT][index & LEAF_MASK];
    if (frame == null) {
      frame = Pages.checkLoaded(source.load(index), index);
      ownLeaf(index >>> LEAF_SHIFT)[index & LEAF_MASK] = frame;
    }
    return frame;
  }

  /**
   * Leaf {@code l} of {@link #frames}, made this memory's own first if it is shared (a copy of its
   * references, and a writable leaf with no private page yet).
   */
  private byte[][] ownLeaf(int l) {
    if (writable[l] == NO_FRAMES) {
      frames[l] = frames[l].clone();
      writable[l] = new byte[LEAF][];
    }
    return frames[l];
  }

  /**
   * Makes page {@code index} private and returns its frame: a copy of the current bytes, or a fresh
   * zero array when the caller will overwrite the whole page ({@code keep} false; an unloaded page
   * is then not even loaded).
   */
  private byte[] own(int index, boolean keep) {
    int l = index >>> LEAF_SHIFT;
    int j = index & LEAF_MASK;
    byte[] frame = writable[l][j];
    if (frame != null) {
      return frame;
    }
    byte[] current = frames[l][j];
    // Counted against the process's frame budget: a write past it traps this guest, not the JVM.
    frame = keep && current != ZERO ? budget.count(loaded(index).clone()) : budget.allocate();
    ownLeaf(l)[j] = frame;
    writable[l][j] = frame;
    return frame;
  }

  /**
   * Makes pages {@code [from, to)} zero pages (none private): a whole leaf becomes the shared
   * {@link Pages#ZERO_LEAF}, a part of one is set in this memory's own copy.
   */
  private void zeroPages(int from, int to) {
    while (from < to) {
      int l = from >>> LEAF_SHIFT;
      int end = Math.min(to, (l + 1) << LEAF_SHIFT);
      if ((from & LEAF_MASK) == 0 && end - from == LEAF) {
        frames[l] = ZERO_LEAF;
        writable[l] = NO_FRAMES;
      } else if (!alreadyZero(l, from & LEAF_MASK, ((end - 1) & LEAF_MASK) + 1)) {
        Arrays.fill(ownLeaf(l), from & LEAF_MASK, ((end - 1) & LEAF_MASK) + 1, ZERO);
        Arrays.fill(writable[l], from & LEAF_MASK, ((end - 1) & LEAF_MASK) + 1, null);
      }
      from = end;
    }
  }

  private int sizeInBytes() {
    return pages * SIZE;
  }

  /**
   * Whether slots {@code [from, to)} of leaf {@code l} are zero pages already, none private: then a
   * shared leaf need not be copied to say so again (instantiation's {@code zero()}).
   */
  private boolean alreadyZero(int l, int from, int to) {
    byte[][] leaf = frames[l];
    byte[][] w = writable[l];
    for (int j = from; j < to; j++) {
      if (leaf[j] != ZERO || w[j] != null) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- sizes

  @Override
  public int pages() {
    return pages;
  }

  @Override
  public int grow(int size) {
    int previous = pages;
    int next = previous + size;
    if (next > maximumPages() || next < previous) {
      return -1;
    }
    ensureCapacity(next);
    zeroPages(previous, next);
    pages = next;
    return previous;
  }

  /** Makes the directories hold the leaves of at least {@code n} pages (n within the maximum). */
  private void ensureCapacity(int n) {
    int leaves = Pages.leaves(n);
    if (leaves > frames.length) {
      int old = frames.length;
      int capacity = Math.min(Pages.leaves(maximumPages()), Math.max(leaves, 2 * old));
      frames = Arrays.copyOf(frames, capacity);
      writable = Arrays.copyOf(writable, capacity);
      Arrays.fill(frames, old, capacity, NO_FRAMES);
      Arrays.fill(writable, old, capacity, NO_FRAMES);
    }
  }

  @Override
  public int initialPages() {
    return limits.initialPages();
  }

  @Override
  public int maximumPages() {
    return Math.min(limits.maximumPages(), RUNTIME_MAX_PAGES);
  }

  @Override
  public boolean shared() {
    return limits.shared();
  }

  // ---------------------------------------------------------------- data segments

  @Override
  public void initialize(Instance instance, DataSegment[] dataSegments) {
    initialize(instance, dataSegments, 0);
  }

  @Override
  public void initialize(Instance instance, DataSegment[] dataSegments, int memoryIndex) {
    segments.initialize(
        instance, dataSegments, memoryIndex, sizeInBytes(), !restoring, this::write);
    restoring = false;
  }

  @Override
  public void initPassiveSegment(int segmentId, int dest, int offset, int size) {
    write(dest, segments.segment(segmentId).data(), offset, size);
  }

  @Override
  public void drop(int segment) {
    segments.drop(segment);
  }

  // ---------------------------------------------------------------- bytes

  @Override
  public byte read(int addr) {
    return readFrame(addr, 1)[addr & MASK];
  }

  @Override
  public void writeByte(int addr, byte data) {
    writeFrame(addr, 1)[addr & MASK] = data;
  }

  @Override
  public short readShort(int addr) {
    int off = addr & MASK;
    if (off <= SIZE - 2) {
      return (short) SHORT.get(readFrame(addr, 2), off);
    }
    return (short) readAcross(addr, 2);
  }

  @Override
  public long readU16(int addr) {
    return readShort(addr) & 0xFFFFL;
  }

  @Override
  public void writeShort(int addr, short data) {
    int off = addr & MASK;
    if (off <= SIZE - 2) {
      SHORT.set(writeFrame(addr, 2), off, data);
    } else {
      writeAcross(addr, data, 2);
    }
  }

  @Override
  public int readInt(int addr) {
    int off = addr & MASK;
    if (off <= SIZE - 4) {
      return (int) INT.get(readFrame(addr, 4), off);
    }
    return (int) readAcross(addr, 4);
  }

  @Override
  public void writeI32(int addr, int data) {
    int off = addr & MASK;
    if (off <= SIZE - 4) {
      INT.set(writeFrame(addr, 4), off, data);
    } else {
      writeAcross(addr, data, 4);
    }
  }

  @Override
  public long readLong(int addr) {
    int off = addr & MASK;
    if (off <= SIZE - 8) {
      return (long) LONG.get(readFrame(addr, 8), off);
    }
    return readAcross(addr, 8);
  }

  @Override
  public void writeLong(int addr, long data) {
    int off = addr & MASK;
    if (off <= SIZE - 8) {
      LONG.set(writeFrame(addr, 8), off, data);
    } else {
      writeAcross(addr, data, 8);
    }
  }

  // Floats travel as their raw bits, exactly as the float VarHandles store them (no NaN
  // canonicalisation either way).

  @Override
  public long readF32(int addr) {
    return readInt(addr);
  }

  @Override
  public float readFloat(int addr) {
    return Float.intBitsToFloat(readInt(addr));
  }

  @Override
  public void writeF32(int addr, float data) {
    writeI32(addr, Float.floatToRawIntBits(data));
  }

  @Override
  public long readF64(int addr) {
    return readLong(addr);
  }

  @Override
  public double readDouble(int addr) {
    return Double.longBitsToDouble(readLong(addr));
  }

  @Override
  public void writeF64(int addr, double data) {
    writeLong(addr, Double.doubleToRawLongBits(data));
  }

  /** A little-endian value of {@code size} bytes that straddles a page boundary. */
  private long readAcross(int addr, int size) {
    Bounds.check(addr, size, sizeInBytes());
    long value = 0;
    for (int i = size - 1; i >= 0; i--) {
      value = (value << 8) | (read(addr + i) & 0xFFL);
    }
    return value;
  }

  private void writeAcross(int addr, long value, int size) {
    Bounds.check(addr, size, sizeInBytes());
    for (int i = 0; i < size; i++) {
      writeByte(addr + i, (byte) (value >>> (8 * i)));
    }
  }

  // ---------------------------------------------------------------- bulk

  @Override
  public void write(int addr, byte[] data, int offset, int size) {
    Bounds.check(offset, size, data.length);
    Bounds.check(addr, size, sizeInBytes());
    while (size > 0) {
      int off = addr & MASK;
      int chunk = Math.min(size, SIZE - off);
      System.arraycopy(data, offset, own(addr >>> SHIFT, chunk < SIZE), off, chunk);
      addr += chunk;
      offset += chunk;
      size -= chunk;
    }
  }

  @Override
  public byte[] readBytes(int addr, int len) {
    Bounds.check(addr, len, sizeInBytes());
    byte[] result = new byte[len];
    int done = 0;
    while (done < len) {
      int off = (addr + done) & MASK;
      int chunk = Math.min(len - done, SIZE - off);
      System.arraycopy(loaded((addr + done) >>> SHIFT), off, result, done, chunk);
      done += chunk;
    }
    return result;
  }

  @Override
  public void zero() {
    if (restoring) {
      return;
    }
    zeroPages(0, pages);
  }

  /** Fills {@code [fromIndex, toIndex)}; whole pages filled with zero become zero pages. */
  @Override
  public void fill(byte value, int fromIndex, int toIndex) {
    int addr = fromIndex;
    int remaining = toIndex - fromIndex;
    Bounds.check(addr, remaining, sizeInBytes());
    while (remaining > 0) {
      int index = addr >>> SHIFT;
      int off = addr & MASK;
      int chunk = Math.min(remaining, SIZE - off);
      if (chunk == SIZE && value == 0) {
        zeroPages(index, index + 1);
      } else {
        Arrays.fill(own(index, chunk < SIZE), off, off + chunk, value);
      }
      addr += chunk;
      remaining -= chunk;
    }
  }

  /** Copies with {@code memmove} semantics, page chunk by page chunk. */
  @Override
  public void copy(int dest, int src, int size) {
    int limit = sizeInBytes();
    Bounds.check(dest, size, limit);
    Bounds.check(src, size, limit);
    boolean backward = dest > src && dest < src + size;
    int done = 0;
    while (done < size) {
      int left = size - done;
      int d;
      int s;
      int chunk;
      if (backward) {
        int dEnd = dest + left;
        int sEnd = src + left;
        chunk = Math.min(left, Math.min(available(dEnd), available(sEnd)));
        d = dEnd - chunk;
        s = sEnd - chunk;
      } else {
        d = dest + done;
        s = src + done;
        chunk = Math.min(left, SIZE - Math.max(d & MASK, s & MASK));
      }
      int dIndex = d >>> SHIFT;
      int sIndex = s >>> SHIFT;
      // Own the destination first: if it is the source page, the copy must read the
      // private frame it is writing.
      byte[] to = own(dIndex, chunk < SIZE || dIndex == sIndex);
      System.arraycopy(loaded(sIndex), s & MASK, to, d & MASK, chunk);
      done += chunk;
    }
  }

  /** Bytes of its page that lie before the exclusive end {@code end}. */
  private static int available(int end) {
    int inPage = end & MASK;
    return inPage == 0 ? SIZE : inPage;
  }

  // ---------------------------------------------------------------- atomics
  // Non-shared memories only (shared ones are rejected), so one thread at a time: the
  // interface's atomic defaults synchronise on lock() around plain accesses.

  @Override
  @SuppressWarnings("removal")
  public Object lock(int address) {
    return atomicLock;
  }

  @Override
  @SuppressWarnings("removal")
  public int waitOn(int address, int expected, long timeout) {
    throw waitOnUnshared();
  }

  @Override
  @SuppressWarnings("removal")
  public int waitOn(int address, long expected, long timeout) {
    throw waitOnUnshared();
  }

  /** No thread can wait on a non-shared memory, so there is none to wake. */
  @Override
  @SuppressWarnings("removal")
  public int notify(int address, int maxThreads) {
    return 0;
  }

  private static ChicoryException waitOnUnshared() {
    // The message of Chicory's own memories.
    return new ChicoryException("Attempt to wait on a non-shared memory, not supported.");
  }
}
