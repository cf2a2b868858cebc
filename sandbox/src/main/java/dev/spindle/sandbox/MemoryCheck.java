package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;

/**
 * The memory limit. The cap becomes the memory's maximum, so {@code memory.grow} past it returns -1
 * as the Wasm spec says, and the guest decides what to do (C's {@code malloc} returns NULL).
 * Chicory's {@code Memory} reports no refused growth, so when a guest fails with its memory within
 * one growth step ({@value #GROWTH_STEP_PAGES} pages, 2 MiB) of the cap, the failure is reported as
 * the memory limit: that is the common way a refused grow shows up.
 */
final class MemoryCheck {
  static final int GROWTH_STEP_PAGES = 32;

  private MemoryCheck() {}

  /** The module's own limits with the maximum lowered to the cap, or null if it has no memory. */
  static MemoryLimits limits(WasmModule module, int maxPages) {
    if (module.memorySection().isEmpty() || module.memorySection().get().memoryCount() == 0) {
      return null;
    }
    MemoryLimits declared = module.memorySection().get().getMemory(0).limits();
    if (declared.initialPages() > maxPages) {
      throw new SandboxLimitException(
          SandboxLimitException.Limit.MEMORY,
          "module needs " + declared.initialPages() + " pages at start, the cap is " + maxPages,
          null);
    }
    return new MemoryLimits(
        declared.initialPages(), Math.min(declared.maximumPages(), maxPages), declared.shared());
  }

  /** The exception to report for a guest that failed with {@code failure}. */
  static RuntimeException explain(Throwable failure, Instance instance, int maxPages) {
    RuntimeException translated = Failures.translate(failure);
    if (translated instanceof SandboxLimitException
        || instance == null
        || maxPages == MemoryLimits.MAX_PAGES) {
      return translated;
    }
    int pages;
    try {
      pages = instance.memory().pages();
    } catch (RuntimeException e) {
      return translated;
    }
    if (pages + GROWTH_STEP_PAGES > maxPages) {
      return new SandboxLimitException(
          SandboxLimitException.Limit.MEMORY,
          "guest failed at "
              + pages
              + " of at most "
              + maxPages
              + " pages ("
              + failure.getMessage()
              + ")",
          failure);
    }
    return translated;
  }
}
