package dev.spindle.memory;

import static dev.spindle.memory.MemoryOps.SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a child costs and how it is counted with the two-level table: the table bytes it holds
 * alone, its page counts (the node's metrics) and its frames in a {@link FrameBudget}.
 */
class PageTableAccountingTest {
  /** 1 GiB, and no declared maximum: clang's default, so the directory may grow to 4 GiB. */
  private static final int GIB_PAGES = 16_384;

  private static final MemoryLimits LIMITS = new MemoryLimits(GIB_PAGES);

  /** Pages the parent writes: the first page of each of its first 64 leaves (all of 1 GiB's). */
  private static final int WRITTEN = Math.min(64, Pages.leaves(GIB_PAGES));

  private static PagedMemory child(PageTable table) {
    return child(table, FrameBudget.global());
  }

  private static PagedMemory child(PageTable table, FrameBudget budget) {
    var m = PagedMemory.branch(LIMITS, table, budget);
    m.initialize(null, new DataSegment[0], 0);
    return m;
  }

  /** A 1 GiB parent that wrote the first page of each of {@link #WRITTEN} leaves, snapshotted. */
  private static PageTable gibParent(FrameBudget budget) {
    var parent = PagedMemory.branch(LIMITS, PageTable.zero(GIB_PAGES), budget);
    parent.initialize(null, new DataSegment[0], 0);
    for (int i = 0; i < WRITTEN; i++) {
      parent.writeI32(i * Pages.LEAF * SIZE, i * Pages.LEAF + 1);
    }
    return parent.snapshot();
  }

  @Test
  void aChildOfAGibibyteHoldsAtMostFourKibibytesOfTableBeforeItWrites() {
    assumeTrue(Pages.LEAF_SHIFT == 8, "production leaves (256 pages)");
    PageTable table = gibParent(FrameBudget.global());
    PagedMemory child = child(table);
    assertThat(child.tableBytes()).isLessThanOrEqualTo(4096);
    child.writeI32(12_345, 1);
    // One leaf copied and one writable leaf: 2 x 1 KiB more.
    assertThat(child.tableBytes()).isLessThanOrEqualTo(4096 + 2 * (16 + 4 * 256));
  }

  @Test
  void aChildSharesEveryLeafUntilItWritesInOne() {
    PageTable table = gibParent(FrameBudget.global());
    PagedMemory child = child(table);
    long directories = child.tableBytes();
    assertThat(directories).isEqualTo(2 * Pages.arrayBytes(Pages.leaves(GIB_PAGES)));

    child.readInt(5 * Pages.LEAF * SIZE); // a read copies nothing
    assertThat(child.tableBytes()).isEqualTo(directories);

    child.writeI32(5 * Pages.LEAF * SIZE + 8, 7); // the first write in leaf 5 copies that leaf
    assertThat(child.tableBytes()).isEqualTo(directories + 2 * Pages.arrayBytes(Pages.LEAF));
    child.writeI32(5 * Pages.LEAF * SIZE + SIZE * (Pages.LEAF - 1), 7); // same leaf: no copy
    assertThat(child.tableBytes()).isEqualTo(directories + 2 * Pages.arrayBytes(Pages.LEAF));

    // The table and a sibling still see the parent's page; the child sees its own write.
    PagedMemory sibling = child(table);
    assertThat(sibling.readInt(5 * Pages.LEAF * SIZE)).isEqualTo(5 * Pages.LEAF + 1);
    assertThat(sibling.readInt(5 * Pages.LEAF * SIZE + 8)).isZero();
    assertThat(child.readInt(5 * Pages.LEAF * SIZE + 8)).isEqualTo(7);
    assertThat(table.page(5 * Pages.LEAF).getInt(8)).isZero();
    assertThat(sibling.frame(5 * Pages.LEAF)).isSameAs(table.storedFrame(5 * Pages.LEAF));
  }

  @Test
  void countsAreExactForParentChildrenAndGrandchildren() {
    int written = WRITTEN;
    PageTable table = gibParent(FrameBudget.global());
    assertThat(table.counts()).isEqualTo(new PageCounts(GIB_PAGES - written, written, 0, 0));

    PagedMemory child = child(table);
    assertThat(child.counts()).isEqualTo(new PageCounts(GIB_PAGES - written, written, 0, 0));
    child.writeI32(0, 9); // a shared page becomes private
    child.writeI32(SIZE, 9); // a zero page becomes private
    child.fill((byte) 0, 2 * Pages.LEAF * SIZE, 2 * Pages.LEAF * SIZE + SIZE); // shared -> zero
    assertThat(child.counts())
        .isEqualTo(new PageCounts(GIB_PAGES - written - 1 + 1, written - 1 - 1, 2, 0));

    PageTable childTable = child.snapshot();
    assertThat(child.counts()).isEqualTo(new PageCounts(GIB_PAGES - written, written, 0, 0));
    assertThat(childTable.counts()).isEqualTo(child.counts());
    PagedMemory grandchild = child(childTable);
    grandchild.grow(Pages.LEAF + 1); // a whole new leaf and a part of one: zero pages
    grandchild.writeI32((GIB_PAGES + Pages.LEAF) * SIZE, 1);
    assertThat(grandchild.counts())
        .isEqualTo(new PageCounts(GIB_PAGES - written + Pages.LEAF, written, 1, 0));
  }

  @Test
  void budgetCountsPrivateFramesOnlyNeverLeavesOrBranches() {
    var budget = new FrameBudget();
    int leaves = WRITTEN;
    budget.limitBytes((long) (leaves + 100 + 2) * SIZE);
    PageTable table = gibParent(budget);
    assertThat(budget.usedBytes()).isEqualTo((long) leaves * SIZE);

    List<PagedMemory> children = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        children.add(child(table, budget));
      }
      assertThat(budget.usedBytes()).as("branching costs no frame").isEqualTo((long) leaves * SIZE);

      for (int i = 0; i < 100; i++) {
        // Each copies a shared page (and its leaf); a second write to it costs nothing more.
        children.get(i).writeI32(i % leaves * Pages.LEAF * SIZE + 4, i);
        children.get(i).writeI32(i % leaves * Pages.LEAF * SIZE + 8, i);
      }
      assertThat(budget.usedBytes()).isEqualTo((long) (leaves + 100) * SIZE);

      PagedMemory last = children.get(99);
      last.write(3 * SIZE, new byte[SIZE], 0, SIZE); // a whole page: allocated, not copied
      last.writeI32(4 * SIZE, 1);
      assertThat(budget.usedBytes()).isEqualTo((long) (leaves + 102) * SIZE);

      // The budget is used up: the next page traps this guest and changes nothing.
      PageCounts before = last.counts();
      assertThatThrownBy(() -> last.writeI32(5 * SIZE, 1))
          .isInstanceOf(ChicoryException.class)
          .hasMessageContaining("memory budget is used up");
      assertThat(last.counts()).isEqualTo(before);
      assertThat(last.state(5)).isEqualTo(PageState.ZERO);
      assertThat(budget.usedBytes()).isEqualTo((long) (leaves + 102) * SIZE);
    } finally {
      // Frames are counted until their memory is collected: keep every child alive to the end.
      java.lang.ref.Reference.reachabilityFence(children);
    }
  }
}
