package dev.spindle.sandbox;

import com.dylibso.chicory.wasm.ChicoryException;
import dev.spindle.sandbox.wasi.WasiExit;

/** What a guest thread threw, as the exception the sandbox's caller sees. */
final class Failures {
  private Failures() {}

  /** The first {@code type} in {@code t}'s cause chain, or null. */
  static <T extends Throwable> T find(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    return null;
  }

  static RuntimeException translate(Throwable t) {
    SandboxException own = find(t, SandboxException.class);
    if (own != null) {
      return own;
    }
    if (find(t, WasiExit.class) instanceof WasiExit exit) {
      return exit;
    }
    if (t instanceof StackOverflowError) {
      return new SandboxException("guest trapped: call stack exhausted", t);
    }
    if (t instanceof ChicoryException) {
      return new SandboxException("guest trapped: " + t.getMessage(), t);
    }
    return new SandboxException("guest failed: " + t, t);
  }
}
