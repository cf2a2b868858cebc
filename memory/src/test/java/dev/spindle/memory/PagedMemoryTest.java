package dev.spindle.memory;

import static dev.spindle.memory.MemoryOps.SIZE;
import static dev.spindle.memory.MemoryOps.contents;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.runtime.WasmRuntimeException;
import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.dylibso.chicory.wasm.types.PassiveDataSegment;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Page states, page identity, accounting, sources and restore, example by example. */
class PagedMemoryTest {
  private static final MemoryLimits LIMITS = new MemoryLimits(4, 8);

  @Test
  void snapshotKeepsTheBytesOfItsInstantWhileTheParentWrites() {
    var parent = new PagedMemory(LIMITS);
    parent.writeLong(SIZE - 4, 0x1122334455667788L); // straddles pages 0 and 1
    PageTable table = parent.snapshot();
    ByteBuffer before = CopyOnWriteTest.tableContents(table);

    parent.writeLong(SIZE - 4, -1L);
    parent.fill((byte) 7, 0, 3 * SIZE);
    parent.copy(SIZE, 0, SIZE);

    assertThat(CopyOnWriteTest.tableContents(table)).isEqualTo(before);
    assertThat(table.page(0).getInt(SIZE - 4)).isEqualTo(0x55667788);
  }

  /** A whole-page copy onto a shared page must read the page it copies, not a fresh frame. */
  @Test
  void copyingASharedPageOntoItselfKeepsItsBytes() {
    var memory = new PagedMemory(LIMITS);
    memory.write(0, MemoryOps.randomBytes(2 * SIZE, 3));
    memory.snapshot();
    memory.copy(0, 0, 2 * SIZE);
    memory.snapshot();
    memory.copy(SIZE, SIZE, SIZE);
    assertThat(memory.readBytes(0, 2 * SIZE)).isEqualTo(MemoryOps.randomBytes(2 * SIZE, 3));
  }

  @Test
  void unwrittenPagesAreTheSameObjectInParentSnapshotAndChildren() {
    var parent = new PagedMemory(LIMITS);
    parent.writeI32(0, 1); // page 0 private
    parent.writeI32(2 * SIZE, 2); // page 2 private
    byte[] page0 = parent.frame(0);
    PageTable table = parent.snapshot();
    var child1 = branch(table);
    var child2 = branch(table);

    child1.writeI32(SIZE, 3); // page 1: zero -> private in child1 only
    parent.writeI32(0, 4); // page 0: shared -> private copy in the parent only

    assertThat(table.storedFrame(0)).isSameAs(page0);
    assertThat(child1.frame(0)).isSameAs(page0);
    assertThat(child2.frame(0)).isSameAs(page0);
    assertThat(parent.frame(0)).isNotSameAs(page0);
    for (PagedMemory m : new PagedMemory[] {parent, child1, child2}) {
      assertThat(m.frame(2)).isSameAs(table.storedFrame(2));
      assertThat(m.frame(3)).isSameAs(Pages.ZERO);
    }
    assertThat(child2.frame(1)).isSameAs(Pages.ZERO);
    assertThat(child1.frame(1)).isNotSameAs(Pages.ZERO);
    assertThat(child2.readInt(0)).isEqualTo(1);
    assertThat(child2.readInt(SIZE)).isZero();
    assertThat(child1.readInt(SIZE)).isEqualTo(3);
    assertThat(Pages.ZERO).containsOnly(0);
  }

  @Test
  void countsPagesByState() {
    var memory = new PagedMemory(LIMITS);
    assertThat(memory.counts()).isEqualTo(new PageCounts(4, 0, 0, 0));

    memory.writeByte(SIZE + 5, (byte) 1);
    memory.writeByte(3 * SIZE, (byte) 1);
    assertThat(memory.counts()).isEqualTo(new PageCounts(2, 0, 2, 0));
    assertThat(memory.counts().privateBytes()).isEqualTo(2L * SIZE);
    assertThat(memory.state(1)).isEqualTo(PageState.PRIVATE);

    PageTable table = memory.snapshot();
    assertThat(memory.counts()).isEqualTo(new PageCounts(2, 2, 0, 0));
    assertThat(table.counts()).isEqualTo(new PageCounts(2, 2, 0, 0));
    assertThat(table.state(1)).isEqualTo(PageState.SHARED);
    assertThat(memory.counts().privateBytes()).isZero();

    memory.writeByte(SIZE, (byte) 2);
    memory.fill((byte) 0, 3 * SIZE, 4 * SIZE); // a whole page of zeros is a zero page again
    assertThat(memory.grow(2)).isEqualTo(4);
    assertThat(memory.counts()).isEqualTo(new PageCounts(5, 0, 1, 0));
    assertThat(memory.state(3)).isEqualTo(PageState.ZERO);
    assertThat(table.counts()).isEqualTo(new PageCounts(2, 2, 0, 0));

    memory.zero();
    assertThat(memory.counts()).isEqualTo(new PageCounts(6, 0, 0, 0));
  }

  @Test
  void growRespectsTheMaximumAndReturnsTheOldSize() {
    var memory = new PagedMemory(LIMITS);
    assertThat(memory.grow(0)).isEqualTo(4);
    assertThat(memory.grow(5)).isEqualTo(-1);
    assertThat(memory.grow(-1)).isEqualTo(-1);
    assertThat(memory.grow(4)).isEqualTo(4);
    assertThat(memory.pages()).isEqualTo(8);
    assertThat(memory.grow(1)).isEqualTo(-1);
    assertThatThrownBy(() -> memory.read(8 * SIZE))
        .isInstanceOf(WasmRuntimeException.class)
        .hasMessageStartingWith("out of bounds memory access");
  }

  @Test
  void unloadedPagesAreLoadedOnceOnFirstTouchAndNotForWholePageWrites() {
    var loads = new ConcurrentHashMap<Integer, AtomicInteger>();
    PageSource source =
        index -> {
          loads.computeIfAbsent(index, k -> new AtomicInteger()).incrementAndGet();
          return MemoryOps.randomBytes(SIZE, index);
        };
    var memory = branch(PageTable.unloaded(4, source));
    assertThat(memory.counts()).isEqualTo(new PageCounts(0, 0, 0, 4));

    byte first = memory.read(SIZE + 1);
    memory.readInt(SIZE + 8);
    memory.writeI32(2 * SIZE, 5); // a partial write loads, then copies
    memory.write(3 * SIZE, new byte[SIZE]); // a whole-page write needs no load

    assertThat(first).isEqualTo(MemoryOps.randomBytes(SIZE, 1)[1]);
    assertThat(loads).containsOnlyKeys(1, 2);
    assertThat(loads.get(1).get()).isEqualTo(1);
    assertThat(memory.counts()).isEqualTo(new PageCounts(0, 1, 2, 1));
    assertThat(memory.state(0)).isEqualTo(PageState.UNLOADED);
    assertThatThrownBy(() -> memory.read(4 * SIZE)).isInstanceOf(WasmRuntimeException.class);
    assertThat(loads).containsOnlyKeys(1, 2);
  }

  @Test
  void aSourceReturningAWrongSizeIsRejectedNamingThePage() {
    var memory = branch(PageTable.unloaded(2, index -> new byte[100]));
    assertThatThrownBy(() -> memory.read(SIZE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("100 bytes for page 1");
  }

  @Test
  void restoreSwapsTheTableInsideTheSameMemory() {
    var memory = new PagedMemory(LIMITS);
    memory.writeLong(8, 42);
    PageTable small = memory.snapshot();
    memory.grow(3);
    memory.writeLong(6 * SIZE, 7);
    memory.writeLong(8, 43);
    PageTable large = memory.snapshot();

    memory.restore(small);
    assertThat(memory.pages()).isEqualTo(4);
    assertThat(memory.readLong(8)).isEqualTo(42);
    assertThatThrownBy(() -> memory.readLong(6 * SIZE)).isInstanceOf(WasmRuntimeException.class);
    memory.writeLong(8, 44);

    memory.restore(large);
    assertThat(memory.readLong(6 * SIZE)).isEqualTo(7);
    assertThat(memory.readLong(8)).isEqualTo(43);
    assertThat(CopyOnWriteTest.tableContents(small).getLong(8)).isEqualTo(42);
    assertThatThrownBy(() -> memory.restore(PageTable.zero(9)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void snapshotsCarryDroppedSegments() {
    var segments = new DataSegment[] {new PassiveDataSegment(new byte[] {1, 2, 3})};
    var memory = new PagedMemory(LIMITS);
    memory.initialize(null, segments, 0);
    PageTable beforeDrop = memory.snapshot();
    memory.drop(0);
    PageTable afterDrop = memory.snapshot();

    var child = PagedMemory.branch(LIMITS, afterDrop);
    child.initialize(null, segments, 0);
    assertThatThrownBy(() -> child.initPassiveSegment(0, 0, 0, 3))
        .isInstanceOf(WasmRuntimeException.class);

    memory.restore(beforeDrop); // "undrops": the module's segment is untouched
    memory.initPassiveSegment(0, 10, 0, 3);
    assertThat(memory.readBytes(10, 3)).containsExactly(1, 2, 3);
  }

  @Test
  void aBranchIgnoresInstantiationsZeroUntilInitialized() {
    var parent = new PagedMemory(LIMITS);
    parent.writeI32(100, 9);
    var child = PagedMemory.branch(LIMITS, parent.snapshot());
    child.zero(); // Chicory's Instance calls zero() then initialize()
    child.initialize(null, new DataSegment[0], 0);
    assertThat(child.readInt(100)).isEqualTo(9);
    child.zero();
    assertThat(child.readInt(100)).isZero();
  }

  @Test
  void sharedMemoriesAreRejected() {
    assertThatThrownBy(() -> new PagedMemory(new MemoryLimits(1, 2, true)))
        .isInstanceOf(ChicoryException.class)
        .hasMessageContaining("shared memories");
  }

  @Test
  void waitOnANonSharedMemoryFailsAsInChicory() {
    var memory = new PagedMemory(LIMITS);
    assertThatThrownBy(() -> memory.atomicWait(0, 0, 1)).isInstanceOf(ChicoryException.class);
    assertThat(memory.atomicNotify(0, 1)).isZero();
  }

  /**
   * A reader thread checks a snapshot's bytes while the owner keeps writing every page; the reader
   * must see exactly the snapshot's bytes on every pass.
   */
  @Test
  void otherThreadsReadASnapshotWhileItsMemoryKeepsWriting() throws Exception {
    var memory = new PagedMemory(LIMITS);
    memory.write(0, MemoryOps.randomBytes(4 * SIZE, 1));
    PageTable table = memory.snapshot();
    ByteBuffer expected = ByteBuffer.wrap(MemoryOps.randomBytes(4 * SIZE, 1));
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> mismatches =
          reader.submit(
              () -> {
                int bad = 0;
                for (int pass = 0; pass < 50; pass++) {
                  if (!CopyOnWriteTest.tableContents(table).equals(expected)) {
                    bad++;
                  }
                }
                return bad;
              });
      for (int round = 0; round < 50; round++) {
        memory.fill((byte) round, 0, 4 * SIZE - 1);
        memory.snapshot(); // every page becomes shared again: the next round copies
      }
      assertThat(mismatches.get()).isZero();
    } finally {
      reader.shutdownNow();
    }
    assertThat(contents(memory).get(0)).isEqualTo((byte) 49);
  }

  private static PagedMemory branch(PageTable table) {
    var memory = PagedMemory.branch(LIMITS, table);
    memory.initialize(null, new DataSegment[0], 0);
    return memory;
  }
}
