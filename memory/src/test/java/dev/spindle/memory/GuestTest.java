package dev.spindle.memory;

import static dev.spindle.memory.MemoryOps.contents;
import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A real guest (src/test/c/guest.c, built to src/test/resources/guest/guest.wasm) on {@link
 * PagedMemory}, in Chicory's interpreter and in its compiled mode, against the same guest on
 * Chicory's {@link ByteArrayMemory}; and a branch made from a snapshot of a running guest.
 */
class GuestTest {
  private static final WasmModule MODULE = parse("/guest/guest.wasm");

  /** Compiled once to JVM bytecode, shared by every compiled-mode instance. */
  private static final Function<Instance, Machine> COMPILED_MACHINE =
      MachineFactoryCompiler.compile(MODULE);

  /** One test body, several harnesses: the engine is the parameter. */
  enum Engine {
    INTERPRETER {
      @Override
      Instance.Builder builder() {
        return Instance.builder(MODULE);
      }
    },
    COMPILED {
      @Override
      Instance.Builder builder() {
        return Instance.builder(MODULE).withMachineFactory(COMPILED_MACHINE);
      }
    };

    abstract Instance.Builder builder();

    Instance instantiate(Function<MemoryLimits, Memory> memory) {
      return builder().withMemoryFactory(memory).build();
    }
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void guestComputesTheSameAsOnByteArrayMemory(Engine engine) {
    Instance reference = engine.instantiate(ByteArrayMemory::new);
    Instance paged = engine.instantiate(PagedMemory::new);

    long expected = workload(reference);

    assertThat(paged.memory()).isInstanceOf(PagedMemory.class);
    assertThat(workload(paged)).isEqualTo(expected).isNotZero();
    assertThat(contents(paged.memory())).isEqualTo(contents(reference.memory()));
    // The same guest, the same answer in the other engine (a fixed value would hide drift).
    Engine other = engine == Engine.COMPILED ? Engine.INTERPRETER : Engine.COMPILED;
    assertThat(workload(other.instantiate(ByteArrayMemory::new))).isEqualTo(expected);
  }

  private static long workload(Instance instance) {
    long a = call(instance, "work", 3, 12345);
    long b = call(instance, "work", 2, 99);
    return a * 31 + b;
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void branchesOfARunningGuestKeepItsMemoryAndStayIsolated(Engine engine) {
    Instance parent = engine.instantiate(PagedMemory::new);
    assertThat(call(parent, "bump")).isEqualTo(8);
    assertThat(call(parent, "bump")).isEqualTo(9);
    call(parent, "work", 2, 1);
    var parentMemory = (PagedMemory) parent.memory();
    PageTable table = parentMemory.snapshot();

    Instance child = engine.instantiate(limits -> PagedMemory.branch(limits, table));
    var childMemory = (PagedMemory) child.memory();
    assertThat(childMemory.counts().privatePages()).isZero();
    assertThat(childMemory.counts().sharedPages()).isPositive();

    // 10, not 8: instantiating the child did not re-apply the data segment.
    assertThat(call(child, "bump")).isEqualTo(10);
    assertThat(call(child, "bump")).isEqualTo(11);
    assertThat(call(parent, "bump")).isEqualTo(10);
    Instance sibling = engine.instantiate(limits -> PagedMemory.branch(limits, table));
    assertThat(call(sibling, "bump")).isEqualTo(10);

    // From equal states, the same work gives the same answer and the same bytes.
    call(parent, "bump");
    assertThat(call(child, "work", 1, 5)).isEqualTo(call(parent, "work", 1, 5));
    assertThat(contents(child.memory())).isEqualTo(contents(parent.memory()));
    assertThat(CopyOnWriteTest.tableContents(table))
        .isNotEqualTo(contents(parent.memory()).limit(table.pages() * MemoryOps.SIZE));
    assertThat(child.memory()).isSameAs(childMemory);
  }

  /**
   * A child whose pages all start unloaded, served one by one by a {@link PageSource} (as a remote
   * parent will): it loads only what the guest touches, then computes what its parent computes.
   */
  @ParameterizedTest
  @EnumSource(Engine.class)
  void aBranchServedByAPageSourceLoadsOnlyWhatTheGuestTouches(Engine engine) {
    Instance parent = engine.instantiate(PagedMemory::new);
    call(parent, "bump");
    call(parent, "work", 3, 1);
    PageTable table = ((PagedMemory) parent.memory()).snapshot();
    var loaded = new ConcurrentSkipListSet<Integer>();
    PageSource remote =
        index -> {
          loaded.add(index);
          byte[] copy = new byte[MemoryOps.SIZE];
          table.page(index).get(copy);
          return copy;
        };

    Instance child =
        engine.instantiate(
            limits -> PagedMemory.branch(limits, PageTable.unloaded(table.pages(), remote)));

    assertThat(call(child, "bump")).isEqualTo(9);
    assertThat(table.pages()).isEqualTo(5);
    assertThat(loaded).isNotEmpty().allMatch(page -> page < 2);
    assertThat(((PagedMemory) child.memory()).counts().unloadedPages()).isGreaterThanOrEqualTo(3);

    call(parent, "bump");
    assertThat(call(child, "work", 1, 5)).isEqualTo(call(parent, "work", 1, 5));
    assertThat(contents(child.memory())).isEqualTo(contents(parent.memory()));
  }

  private static long call(Instance instance, String name, long... args) {
    return instance.export(name).apply(args)[0];
  }

  private static WasmModule parse(String resource) {
    try (InputStream in = GuestTest.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      return Parser.parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
