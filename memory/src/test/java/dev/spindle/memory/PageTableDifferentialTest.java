package dev.spindle.memory;

import static dev.spindle.memory.MemoryOps.SIZE;
import static dev.spindle.memory.MemoryOps.contents;
import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.MemoryOps.Op;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The two-level page table against the flat one it replaced ({@link FlatPagedMemory}) and a
 * byte-array model, on random histories of a family of memories: operations on parents, children
 * and grandchildren, snapshots of any of them (branches too), branches of any snapshot, restores.
 * After every step the memory it touched must report the same page states and {@link PageCounts} as
 * the flat one (the accounting the node's metrics show); at the end every memory and every snapshot
 * must hold the model's bytes, and the tables the same states, counts and hashes.
 *
 * <p>The build runs this class twice: with the production leaves (256 pages, so these memories sit
 * in one leaf) and with 2-page leaves ({@code -Dspindle.memory.leafShift=1}), where every history
 * crosses leaves, grows into new ones and shares partial ones.
 */
class PageTableDifferentialTest {
  private static final int MAX_PAGES = 7;

  /** One step of a history. */
  record Step(Kind kind, int target, int other, Op op) {
    enum Kind {
      OP,
      SNAPSHOT,
      BRANCH,
      RESTORE
    }

    @Override
    public String toString() {
      return switch (kind) {
        case OP -> op + " on memory " + target;
        case SNAPSHOT -> "snapshot of memory " + target;
        case BRANCH -> "branch of snapshot " + target;
        case RESTORE -> "restore of memory " + target + " to snapshot " + other;
      };
    }
  }

  /** How the first memory starts. */
  enum Root {
    /** A fresh memory of zero pages. */
    FRESH,
    /** A restored snapshot: some pages zero, the others unloaded from a source. */
    RESTORED
  }

  private record Live(PagedMemory memory, FlatPagedMemory flat, ByteArrayMemory model) {}

  private record Frozen(PageTable table, FlatPageTable flat, ByteArrayMemory model) {}

  @Property(tries = 600)
  void twoLevelTableMatchesTheFlatOneAndTheBytes(
      @ForAll("limits") MemoryLimits limits,
      @ForAll Root root,
      @ForAll long seed,
      @ForAll("histories") List<Step> history) {
    var live = new ArrayList<Live>();
    var frozen = new ArrayList<Frozen>();
    live.add(root(limits, root, seed));
    for (Step step : history) {
      switch (step.kind()) {
        case OP -> {
          Live l = live.get(step.target() % live.size());
          Object want = step.op().applyModel(l.model());
          assertThat(step.op().apply(l.memory())).as(step.toString()).isEqualTo(want);
          assertThat(step.op().apply(l.flat())).as(step + " (flat)").isEqualTo(want);
          assertSameAccounting(l, step);
        }
        case SNAPSHOT -> {
          Live l = live.get(step.target() % live.size());
          frozen.add(
              new Frozen(l.memory().snapshot(), l.flat().snapshot(), MemoryOps.copyOf(l.model())));
          assertSameAccounting(l, step);
        }
        case BRANCH -> {
          if (!frozen.isEmpty()) {
            Frozen f = frozen.get(step.target() % frozen.size());
            var child = PagedMemory.branch(limits, f.table());
            child.initialize(null, new DataSegment[0], 0);
            var flat = FlatPagedMemory.branch(limits, f.flat());
            flat.initialize(null, new DataSegment[0], 0);
            Live l = new Live(child, flat, MemoryOps.copyOf(f.model()));
            live.add(l);
            assertSameAccounting(l, step);
          }
        }
        case RESTORE -> {
          if (!frozen.isEmpty()) {
            int at = step.target() % live.size();
            Live l = live.get(at);
            Frozen f = frozen.get(step.other() % frozen.size());
            l.memory().restore(f.table());
            l.flat().restore(f.flat());
            // The model takes the snapshot's size too, which may be smaller.
            l = new Live(l.memory(), l.flat(), MemoryOps.copyOf(f.model()));
            live.set(at, l);
            assertSameAccounting(l, step);
          }
        }
      }
    }
    for (Live l : live) {
      assertThat(contents(l.memory())).isEqualTo(contents(l.model()));
      assertThat(contents(l.flat())).isEqualTo(contents(l.model()));
    }
    for (Frozen f : frozen) {
      assertSameTables(f);
    }
  }

  private static Live root(MemoryLimits limits, Root root, long seed) {
    if (root == Root.FRESH) {
      return new Live(
          new PagedMemory(limits), new FlatPagedMemory(limits), new ByteArrayMemory(limits));
    }
    int pages = limits.initialPages();
    BitSet zero = new BitSet();
    for (int i = 0; i < pages; i++) {
      if (((seed >>> i) & 1) == 0) {
        zero.set(i);
      }
    }
    PageSource source = index -> MemoryOps.randomBytes(SIZE, seed + index);
    var model = new ByteArrayMemory(limits);
    for (int i = 0; i < pages; i++) {
      if (!zero.get(i)) {
        model.write(i * SIZE, source.load(i));
      }
    }
    var memory = PagedMemory.branch(limits, PageTable.restored(pages, zero, new BitSet(), source));
    memory.initialize(null, new DataSegment[0], 0);
    var flat =
        FlatPagedMemory.branch(limits, FlatPageTable.restored(pages, zero, new BitSet(), source));
    flat.initialize(null, new DataSegment[0], 0);
    return new Live(memory, flat, model);
  }

  private static void assertSameAccounting(Live l, Step step) {
    PagedMemory m = l.memory();
    assertThat(m.pages()).as("pages after " + step).isEqualTo(l.flat().pages());
    PageState[] states = new PageState[m.pages()];
    PageState[] flatStates = new PageState[m.pages()];
    for (int i = 0; i < states.length; i++) {
      states[i] = m.state(i);
      flatStates[i] = l.flat().state(i);
    }
    assertThat(states).as("page states after " + step).isEqualTo(flatStates);
    assertThat(m.counts()).as("counts after " + step).isEqualTo(l.flat().counts());
  }

  private static void assertSameTables(Frozen f) {
    PageTable t = f.table();
    assertThat(t.pages()).isEqualTo(f.flat().pages());
    assertThat(t.counts()).isEqualTo(f.flat().counts());
    assertThat(t.droppedSegments()).isEqualTo(f.flat().droppedSegments());
    byte[] known = new byte[t.pages() * 32];
    byte[] flatKnown = new byte[t.pages() * 32];
    assertThat(t.knownSha256s(known)).isEqualTo(f.flat().knownSha256s(flatKnown));
    assertThat(known).isEqualTo(flatKnown);
    ByteBuffer bytes = CopyOnWriteTest.tableContents(t);
    assertThat(bytes).isEqualTo(ByteBuffer.wrap(f.model().readBytes(0, t.pages() * SIZE)));
    for (int i = 0; i < t.pages(); i++) {
      assertThat(t.state(i)).isEqualTo(f.flat().state(i));
      byte[] page = f.model().readBytes(i * SIZE, SIZE);
      byte[] want = t.state(i) == PageState.ZERO ? new byte[32] : sha256(page);
      assertThat(t.sha256(i)).as("sha256 of page " + i).isEqualTo(want);
      // Hashed in both, so that later tables sharing these frames know the same hashes.
      assertThat(f.flat().sha256(i)).as("flat sha256 of page " + i).isEqualTo(want);
    }
    // Now every loaded frame is hashed: the first call looks frames up and keeps each whole
    // leaf's hashes, the second copies those blocks; both must say what the flat table says.
    for (int round = 0; round < 2; round++) {
      byte[] again = new byte[t.pages() * 32];
      byte[] flatAgain = new byte[t.pages() * 32];
      assertThat(t.knownSha256s(again))
          .as("unknown hashes, round " + round)
          .isEqualTo(f.flat().knownSha256s(flatAgain));
      assertThat(again).as("known hashes, round " + round).isEqualTo(flatAgain);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Provide
  Arbitrary<MemoryLimits> limits() {
    return Arbitraries.integers()
        .between(0, 5)
        .flatMap(
            initial ->
                Arbitraries.integers()
                    .between(Math.max(initial, 1), MAX_PAGES)
                    .map(max -> new MemoryLimits(initial, max)));
  }

  @Provide
  Arbitrary<List<Step>> histories() {
    Arbitrary<Integer> target = Arbitraries.integers().between(0, 9);
    Arbitrary<Step> op =
        Combinators.combine(target, MemoryOps.ops(MAX_PAGES))
            .as((t, o) -> new Step(Step.Kind.OP, t, 0, o));
    Arbitrary<Step> snapshot = target.map(t -> new Step(Step.Kind.SNAPSHOT, t, 0, null));
    Arbitrary<Step> branch = target.map(t -> new Step(Step.Kind.BRANCH, t, 0, null));
    Arbitrary<Step> restore =
        Combinators.combine(target, target).as((t, o) -> new Step(Step.Kind.RESTORE, t, o, null));
    return MemoryOps.weighted(
            new MemoryOps.Choice<>(10, op),
            new MemoryOps.Choice<>(3, snapshot),
            new MemoryOps.Choice<>(3, branch),
            new MemoryOps.Choice<>(1, restore))
        .list()
        .ofMaxSize(50);
  }
}
