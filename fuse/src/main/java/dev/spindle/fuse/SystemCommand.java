package dev.spindle.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the short system tools mounts and containers need (fusermount3, mount, runc). */
public final class SystemCommand {
  private static final long TIMEOUT_SECONDS = 60;

  private SystemCommand() {}

  /**
   * Runs {@code command} to its end and returns its output (stdout and stderr merged: both are
   * short for these tools). Throws {@code failure + ": " + output} when it exits non-zero and
   * {@code missing} (what to install) when it cannot be started.
   */
  public static String run(List<String> command, String failure, String missing)
      throws IOException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException(missing, e);
    }
    try {
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(
            failure + ": " + command.getFirst() + " did not finish in " + TIMEOUT_SECONDS + " s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(
            failure + ": " + (out.isEmpty() ? "exit code " + p.exitValue() : out));
      }
      return out;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(failure + ": interrupted", e);
    }
  }

  /** Runs {@code command}; true when it exits 0 (for probes such as {@code runc state ID}). */
  public static boolean succeeds(List<String> command) throws IOException {
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      p.getOutputStream().close();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", command) + ": interrupted", e);
    }
  }
}
