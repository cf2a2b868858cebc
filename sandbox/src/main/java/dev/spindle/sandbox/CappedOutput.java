package dev.spindle.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;

/**
 * Captures a guest stream in memory up to a cap. Going over throws {@link SandboxLimitException},
 * which no WASI call catches, so the guest stops at once rather than filling the host's heap.
 */
final class CappedOutput extends OutputStream {
  private final String name;
  private final int cap;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  CappedOutput(String name, int cap) {
    this.name = name;
    this.cap = cap;
  }

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    if (bytes.size() + (long) len > cap) {
      throw new SandboxLimitException(
          SandboxLimitException.Limit.OUTPUT,
          name + " exceeded the capture cap of " + cap + " bytes",
          null);
    }
    bytes.write(b, off, len);
  }

  synchronized byte[] toByteArray() {
    return bytes.toByteArray();
  }

  /**
   * What was written since the last take, removed: a reader streaming a guest's output while it
   * runs (another thread) takes it piece by piece, and the cap then bounds what is held between
   * takes rather than all the guest ever wrote.
   */
  synchronized byte[] take() {
    byte[] b = bytes.toByteArray();
    bytes.reset();
    return b;
  }
}
