package dev.spindle.memory;

import static dev.spindle.memory.MemoryOps.SIZE;
import static dev.spindle.memory.MemoryOps.contents;
import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.MemoryOps.Op;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Snapshots and branches on random histories: every live memory and every snapshot is modelled by
 * its own {@link ByteArrayMemory} copy, so a memory that sees another's write, or a snapshot that
 * changes after its instant, fails the comparison.
 */
class CopyOnWriteTest {
  private static final int MAX_PAGES = 4;
  private static final MemoryLimits LIMITS = new MemoryLimits(2, MAX_PAGES);

  /** One step of a history: an operation on a memory, a snapshot of one, or a branch. */
  record Step(Kind kind, int target, Op op) {
    enum Kind {
      OP,
      SNAPSHOT,
      BRANCH
    }

    @Override
    public String toString() {
      return kind == Kind.OP ? op + " on memory " + target : kind + " " + target;
    }
  }

  private record Live(PagedMemory memory, ByteArrayMemory model) {}

  private record Frozen(PageTable table, ByteArrayMemory model) {}

  @Property(tries = 300)
  void snapshotsAndBranchesAreIsolated(@ForAll("histories") List<Step> history) {
    var live = new ArrayList<Live>();
    var frozen = new ArrayList<Frozen>();
    live.add(new Live(new PagedMemory(LIMITS), new ByteArrayMemory(LIMITS)));
    for (Step step : history) {
      switch (step.kind()) {
        case OP -> {
          Live l = live.get(step.target() % live.size());
          Object want = step.op().applyModel(l.model());
          assertThat(step.op().apply(l.memory())).as(step.toString()).isEqualTo(want);
        }
        case SNAPSHOT -> {
          Live l = live.get(step.target() % live.size());
          frozen.add(new Frozen(l.memory().snapshot(), MemoryOps.copyOf(l.model())));
        }
        case BRANCH -> {
          if (!frozen.isEmpty()) {
            Frozen f = frozen.get(step.target() % frozen.size());
            var child = PagedMemory.branch(LIMITS, f.table());
            child.initialize(null, new DataSegment[0], 0);
            live.add(new Live(child, MemoryOps.copyOf(f.model())));
          }
        }
      }
    }
    for (Live l : live) {
      assertThat(contents(l.memory())).isEqualTo(contents(l.model()));
    }
    for (Frozen f : frozen) {
      assertThat(tableContents(f.table())).isEqualTo(contents(f.model()));
    }
  }

  static ByteBuffer tableContents(PageTable table) {
    ByteBuffer all = ByteBuffer.allocate(table.pages() * SIZE).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < table.pages(); i++) {
      all.put(table.page(i));
    }
    return all.flip();
  }

  @Provide
  Arbitrary<List<Step>> histories() {
    Arbitrary<Integer> target = Arbitraries.integers().between(0, 7);
    Arbitrary<Step> op =
        Combinators.combine(target, MemoryOps.ops(MAX_PAGES))
            .as((t, o) -> new Step(Step.Kind.OP, t, o));
    Arbitrary<Step> snapshot = target.map(t -> new Step(Step.Kind.SNAPSHOT, t, null));
    Arbitrary<Step> branch = target.map(t -> new Step(Step.Kind.BRANCH, t, null));
    return MemoryOps.weighted(
            new MemoryOps.Choice<>(8, op),
            new MemoryOps.Choice<>(2, snapshot),
            new MemoryOps.Choice<>(2, branch))
        .list()
        .ofMaxSize(40);
  }
}
