package dev.spindle.sandbox.wasi;

/**
 * A WASI call failed with a specific errno. Thrown inside the calls so that helpers can fail from
 * any depth; the host-function boundary turns it into the call's return value.
 */
final class WasiError extends RuntimeException {
  private final int errno;

  WasiError(int errno) {
    super("errno " + errno, null, false, false);
    this.errno = errno;
  }

  int errno() {
    return errno;
  }
}
