package dev.spindle.memory;

import com.dylibso.chicory.runtime.WasmRuntimeException;
import com.dylibso.chicory.wasm.ChicoryException;
import java.util.function.Function;

/**
 * Bounds checks with the exceptions Chicory's own memories throw: spec tests and guests' trap
 * handlers match the message prefix {@value #PREFIX}.
 */
final class Bounds {
  static final String PREFIX = "out of bounds memory access";

  private Bounds() {}

  /**
   * Throws a {@link WasmRuntimeException} unless {@code [addr, addr + size)} lies in {@code [0,
   * limit)}.
   */
  static void check(int addr, int size, int limit) {
    check(addr, size, limit, WasmRuntimeException::new);
  }

  static void check(
      int addr, int size, int limit, Function<String, ? extends ChicoryException> error) {
    // addr + size is computed in long: an int sum may overflow past a negative value.
    if (addr < 0 || size < 0 || (long) addr + size > limit) {
      throw error.apply(message(addr, size, limit));
    }
  }

  static WasmRuntimeException outOfBounds(int addr, int size, int limit) {
    return new WasmRuntimeException(message(addr, size, limit));
  }

  private static String message(int addr, int size, int limit) {
    return PREFIX
        + ": attempted to access address: "
        + addr
        + " but limit is: "
        + limit
        + " and size: "
        + size;
  }
}
