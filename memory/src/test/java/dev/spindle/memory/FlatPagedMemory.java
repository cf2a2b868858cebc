package dev.spindle.memory;

import static dev.spindle.memory.Pages.MASK;
import static dev.spindle.memory.Pages.SHIFT;
import static dev.spindle.memory.Pages.SIZE;
import static dev.spindle.memory.Pages.ZERO;

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
 * The flat page table's memory as it was before the two-level table (one frame reference and one
 * private-frame reference per page, copied whole by every branch and snapshot), kept unchanged as
 * the reference that {@link PageTableDifferentialTest} holds {@link PagedMemory} to: same bytes,
 * same page states, same counts. Not used outside the tests.
 */
final class FlatPagedMemory implements Memory {
  private static final VarHandle SHORT =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final MemoryLimits limits;

  /**
   * The readable frame of each page below {@link #pages}: {@link Pages#ZERO}, a shared frame, a
   * private frame, or null while unloaded. Null at and above {@link #pages}. Sized to the pages in
   * use and reallocated (doubling, up to the maximum) only by {@link #grow} and {@link #restore}:
   * sizing it to the maximum up front cost every branched child 2 × 256 KiB of table for a module
   * without a declared maximum (65,536 pages), 65-215 µs per child when 1,000 children were kept
   * (allocation and GC), against 5-20 µs for a 4,096-entry table.
   */
  private byte[][] frames;

  /** The frame of each private page (the same array as in {@link #frames}), else null. */
  private byte[][] writable;

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
  public FlatPagedMemory(MemoryLimits limits) {
    this(limits, FlatPageTable.zero(limits.initialPages()), false);
  }

  private FlatPagedMemory(MemoryLimits limits, FlatPageTable table, boolean restoring) {
    this.limits = Objects.requireNonNull(limits, "limits");
    if (limits.shared()) {
      throw new ChicoryException(
          "FlatPagedMemory does not support shared memories (threads proposal) yet");
    }
    int n = table.pages();
    checkFits(n);
    // A copy, not a fresh array filled by adopt(): the JIT skips zeroing what Arrays.copyOf
    // fills, and a new memory has no private page to forget (bench/branch: a 1 GiB child).
    this.frames = table.framesCopy(Math.min(maximumPages(), Math.max(n, limits.initialPages())));
    this.writable = new byte[frames.length][];
    this.restoring = restoring;
    this.pages = n;
    this.source = table.source();
    segments.restoreDropped(table.droppedSegments());
  }

  /**
   * A child memory that starts as {@code table} and shares all of its pages until it writes them.
   * Meant for {@code withMemoryFactory(l -> FlatPagedMemory.branch(l, table))}: Chicory's
   * instantiation then leaves the pages alone (its {@code zero()} and the active data segments are
   * skipped, as the table already holds their effect), while passive segments and the table's
   * dropped-segment state still apply. Until that {@link #initialize} call, {@link #zero()} does
   * nothing.
   *
   * @throws IllegalArgumentException if the table has more pages than {@code limits} allow
   */
  public static FlatPagedMemory branch(MemoryLimits limits, FlatPageTable table) {
    return new FlatPagedMemory(limits, table, true);
  }

  /**
   * Freezes this memory's current state into an immutable table, in O(pages), copying no page:
   * every private page becomes shared and is copied on its next write, so the table keeps exactly
   * the bytes of this instant however this memory goes on.
   */
  public FlatPageTable snapshot() {
    // Private frames were never in a table, so never hashed: telling the table spares a
    // remote fork a lookup (an object-header read, a cache miss) per page it wrote.
    BitSet neverHashed = new BitSet(pages);
    for (int i = 0; i < pages; i++) {
      if (writable[i] != null) {
        neverHashed.set(i);
      }
    }
    Arrays.fill(writable, 0, pages, null);
    return new FlatPageTable(Arrays.copyOf(frames, pages), source, segments.dropped(), neverHashed);
  }

  /**
   * Replaces this memory's whole state by {@code table} (pages, size, dropped segments); all pages
   * become shared with the table. O(pages).
   *
   * @throws IllegalArgumentException if the table has more pages than the limits allow
   */
  public void restore(FlatPageTable table) {
    adopt(table);
  }

  private void adopt(FlatPageTable table) {
    int n = table.pages();
    checkFits(n);
    ensureCapacity(n);
    Arrays.fill(writable, 0, Math.max(n, pages), null);
    Arrays.fill(frames, n, Math.max(n, pages), null);
    table.copyFramesTo(frames);
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
    byte[] frame = frames[page];
    if (frame == null) {
      return PageState.UNLOADED;
    }
    if (writable[page] != null) {
      return PageState.PRIVATE;
    }
    return frame == ZERO ? PageState.ZERO : PageState.SHARED;
  }

  /** Counts of this memory's pages by state; O(pages). */
  public PageCounts counts() {
    int[] byState = new int[PageState.values().length];
    for (int i = 0; i < pages; i++) {
      byState[state(i).ordinal()]++;
    }
    return new PageCounts(
        byState[PageState.ZERO.ordinal()],
        byState[PageState.SHARED.ordinal()],
        byState[PageState.PRIVATE.ordinal()],
        byState[PageState.UNLOADED.ordinal()]);
  }

  /** Page {@code page}'s current frame, for identity tests. */
  byte[] frame(int page) {
    return frames[page];
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
      byte[] frame = frames[addr >>> SHIFT];
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
      byte[] frame = writable[addr >>> SHIFT];
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
    byte[] frame = frames[index];
    if (frame == null) {
      frame = Pages.checkLoaded(source.load(index), index);
      frames[index] = frame;
    }
    return frame;
  }

  /**
   * Makes page {@code index} private and returns its frame: a copy of the current bytes, or a fresh
   * zero array when the caller will overwrite the whole page ({@code keep} false; an unloaded page
   * is then not even loaded).
   */
  private byte[] own(int index, boolean keep) {
    byte[] frame = writable[index];
    if (frame != null) {
      return frame;
    }
    byte[] current = frames[index];
    // Counted against the process's frame budget: a write past it traps this guest, not the JVM.
    frame =
        keep && current != ZERO
            ? FrameBudget.global().count(loaded(index).clone())
            : FrameBudget.global().allocate();
    frames[index] = frame;
    writable[index] = frame;
    return frame;
  }

  private int sizeInBytes() {
    return pages * SIZE;
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
    Arrays.fill(frames, previous, next, ZERO);
    pages = next;
    return previous;
  }

  /** Makes the frame arrays hold at least {@code n} pages (n within the maximum). */
  private void ensureCapacity(int n) {
    if (n > frames.length) {
      int capacity = (int) Math.min(maximumPages(), Math.max(n, 2L * frames.length));
      frames = Arrays.copyOf(frames, capacity);
      writable = Arrays.copyOf(writable, capacity);
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
    Arrays.fill(writable, 0, pages, null);
    Arrays.fill(frames, 0, pages, ZERO);
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
        writable[index] = null;
        frames[index] = ZERO;
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
