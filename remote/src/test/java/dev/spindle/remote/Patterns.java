package dev.spindle.remote;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;

/** A memory filled with a known pattern that a child can check byte by byte. */
final class Patterns {
  static final int PAGE = PageTable.PAGE_SIZE;

  private Patterns() {}

  /**
   * Every 4-byte word at address a holds {@code a * 2654435761 + seed}; every 7th page stays zero.
   */
  static PagedMemory filled(int pages, int seed) {
    PagedMemory m = new PagedMemory(new MemoryLimits(pages, pages));
    for (int p = 0; p < pages; p++) {
      if (p % 7 == 3) {
        continue;
      }
      for (int a = p * PAGE; a < (p + 1) * PAGE; a += 4) {
        m.writeI32(a, word(a, seed));
      }
    }
    return m;
  }

  static int word(int address, int seed) {
    return (int) (address * 2654435761L) + seed;
  }

  static int expected(int address, int seed) {
    return (address / PAGE) % 7 == 3 ? 0 : word(address, seed);
  }

  static PagedMemory child(PageTable t) {
    return PagedMemory.branch(new MemoryLimits(t.pages(), t.pages()), t);
  }
}
