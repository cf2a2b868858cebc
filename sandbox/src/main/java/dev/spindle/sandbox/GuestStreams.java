package dev.spindle.sandbox;

import java.io.OutputStream;

/** The guest's stdio: captured (capped) or the caller's streams. */
final class GuestStreams {
  final OutputStream out;
  final OutputStream err;

  GuestStreams(SandboxConfig config) {
    out =
        config.stdout() != null ? config.stdout() : new CappedOutput("stdout", config.outputCap());
    err =
        config.stderr() != null ? config.stderr() : new CappedOutput("stderr", config.outputCap());
  }

  byte[] stdout() {
    return out instanceof CappedOutput c ? c.toByteArray() : new byte[0];
  }

  byte[] stderr() {
    return err instanceof CappedOutput c ? c.toByteArray() : new byte[0];
  }

  byte[] takeStdout() {
    return out instanceof CappedOutput c ? c.take() : new byte[0];
  }

  byte[] takeStderr() {
    return err instanceof CappedOutput c ? c.take() : new byte[0];
  }
}
