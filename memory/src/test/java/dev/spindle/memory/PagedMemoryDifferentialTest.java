package dev.spindle.memory;

import static dev.spindle.memory.MemoryOps.SIZE;
import static dev.spindle.memory.MemoryOps.contents;
import static dev.spindle.memory.MemoryOps.op;
import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.ActiveDataSegment;
import com.dylibso.chicory.wasm.types.DataSegment;
import com.dylibso.chicory.wasm.types.Instruction;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.dylibso.chicory.wasm.types.OpCode;
import com.dylibso.chicory.wasm.types.PassiveDataSegment;
import dev.spindle.memory.MemoryOps.Op;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link PagedMemory} against Chicory's {@link ByteArrayMemory} on random operation sequences:
 * every outcome (value, or exception type and bounds-message prefix), the page count after each
 * step, and all bytes at the end must match.
 */
class PagedMemoryDifferentialTest {
  private static final int MAX_PAGES = 5;

  @Property(tries = 1000)
  void behavesLikeByteArrayMemory(
      @ForAll("limits") MemoryLimits limits,
      @ForAll("ops") List<Op> ops,
      @ForAll("snapshotEvery") int snapshotEvery) {
    var expected = new ByteArrayMemory(limits);
    var actual = new PagedMemory(limits);
    runAndCompare(expected, actual, ops, snapshotEvery);
  }

  /** The same, on a memory whose pages all start unloaded and come from a {@link PageSource}. */
  @Property(tries = 300)
  void behavesLikeByteArrayMemoryWhenPagesAreLoadedLazily(
      @ForAll("limits") MemoryLimits limits, @ForAll("ops") List<Op> ops, @ForAll long seed) {
    int pages = limits.initialPages();
    PageSource source = index -> MemoryOps.randomBytes(SIZE, seed + index);
    var expected = new ByteArrayMemory(limits);
    for (int i = 0; i < pages; i++) {
      expected.write(i * SIZE, source.load(i));
    }
    var actual = PagedMemory.branch(limits, PageTable.unloaded(pages, source));
    actual.initialize(null, new DataSegment[0], 0);
    runAndCompare(expected, actual, ops, 0);
  }

  @Property(tries = 400)
  void dataSegmentsBehaveLikeByteArrayMemory(
      @ForAll("limits") MemoryLimits limits,
      @ForAll("segments") List<DataSegment> segments,
      @ForAll("segmentOps") List<Op> ops) {
    var expected = new ByteArrayMemory(limits);
    var actual = new PagedMemory(limits);
    DataSegment[] module = segments.toArray(DataSegment[]::new);
    // Each memory gets its own array: ByteArrayMemory.drop writes into the one it is given.
    Op init =
        op(
            "initialize",
            m -> {
              m.initialize(null, module.clone(), 0);
              return "ok";
            });
    assertThat(init.apply(actual)).isEqualTo(init.applyModel(expected));
    runAndCompare(expected, actual, ops, 0);
  }

  private static void runAndCompare(
      Memory expected, PagedMemory actual, List<Op> ops, int snapshotEvery) {
    int step = 0;
    for (Op op : ops) {
      Object want = op.applyModel(expected);
      assertThat(op.apply(actual)).as(op.toString()).isEqualTo(want);
      assertThat(actual.pages()).as("pages after " + op).isEqualTo(expected.pages());
      if (want instanceof MemoryOps.Thrown) {
        assertThat(contents(actual)).as("bytes after failed " + op).isEqualTo(contents(expected));
      }
      if (snapshotEvery > 0 && ++step % snapshotEvery == 0) {
        actual.snapshot(); // must not change anything the guest sees
      }
    }
    assertThat(contents(actual)).isEqualTo(contents(expected));
  }

  @Provide
  Arbitrary<MemoryLimits> limits() {
    return Arbitraries.integers()
        .between(0, 3)
        .flatMap(
            initial ->
                Arbitraries.integers()
                    .between(initial, MAX_PAGES)
                    .map(max -> new MemoryLimits(initial, max)));
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    return MemoryOps.ops(MAX_PAGES).list().ofMaxSize(40);
  }

  @Provide
  Arbitrary<Integer> snapshotEvery() {
    return Arbitraries.integers().between(0, 4);
  }

  @Provide
  Arbitrary<List<DataSegment>> segments() {
    Arbitrary<byte[]> data =
        Combinators.combine(MemoryOps.lengths(), Arbitraries.longs())
            .as((n, seed) -> MemoryOps.randomBytes(Math.max(0, n), seed));
    Arbitrary<DataSegment> active =
        Combinators.combine(MemoryOps.addresses(3), data)
            .as(
                (offset, bytes) ->
                    new ActiveDataSegment(
                        0,
                        List.of(new Instruction(-1, OpCode.I32_CONST, new long[] {offset})),
                        bytes));
    Arbitrary<DataSegment> otherMemory =
        data.map(
            bytes ->
                new ActiveDataSegment(
                    1, List.of(new Instruction(-1, OpCode.I32_CONST, new long[] {0})), bytes));
    Arbitrary<DataSegment> passive = data.map(PassiveDataSegment::new);
    return MemoryOps.weighted(
            new MemoryOps.Choice<>(1, active),
            new MemoryOps.Choice<>(1, otherMemory),
            new MemoryOps.Choice<>(3, passive))
        .list()
        .ofMaxSize(4);
  }

  @Provide
  Arbitrary<List<Op>> segmentOps() {
    Arbitrary<Integer> segment = Arbitraries.integers().between(0, 4);
    Arbitrary<Integer> addr = MemoryOps.addresses(MAX_PAGES);
    Arbitrary<Integer> small = Arbitraries.integers().between(-1, 50);
    Arbitrary<Op> init =
        Combinators.combine(segment, addr, small, MemoryOps.lengths())
            .as(
                (s, dest, offset, size) ->
                    op(
                        "initPassiveSegment(" + s + ", " + dest + ", " + offset + ", " + size + ")",
                        m -> {
                          m.initPassiveSegment(s, dest, offset, size);
                          return "ok";
                        }));
    Arbitrary<Op> drop =
        segment.map(
            s ->
                op(
                    "drop(" + s + ")",
                    m -> {
                      m.drop(s);
                      return "ok";
                    }));
    return MemoryOps.weighted(
            new MemoryOps.Choice<>(3, init),
            new MemoryOps.Choice<>(1, drop),
            new MemoryOps.Choice<>(2, MemoryOps.ops(MAX_PAGES)))
        .list()
        .ofMaxSize(25);
  }
}
