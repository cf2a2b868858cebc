package dev.spindle.sandbox.wasi;

/** The guest called {@code proc_exit}: unwinds the guest's stack up to whoever started it. */
public final class WasiExit extends RuntimeException {
  private final int code;

  WasiExit(int code) {
    super("guest exited with code " + code, null, false, false);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
