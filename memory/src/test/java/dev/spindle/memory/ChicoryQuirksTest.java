package dev.spindle.memory;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.WasmRuntimeException;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import org.junit.jupiter.api.Test;

/**
 * Facts about Chicory 1.7.5 that this module's tests rely on. When one of these fails after an
 * upgrade, the workaround it documents can go.
 */
class ChicoryQuirksTest {

  /** Why {@code MemoryOps} models atomics itself instead of asking {@code ByteArrayMemory}. */
  @Test
  void byteArrayMemoryAtomicsFailOnNonSharedMemoryOnThisJdk() {
    var memory = new ByteArrayMemory(new MemoryLimits(1, 1));
    assertThatThrownBy(() -> memory.atomicReadInt(0))
        .isInstanceOf(WasmRuntimeException.class)
        .hasMessageStartingWith(Bounds.PREFIX);
  }
}
