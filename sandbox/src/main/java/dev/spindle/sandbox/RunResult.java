package dev.spindle.sandbox;

/**
 * How a command module ended.
 *
 * @param exitCode the code given to {@code proc_exit}, or 0 when {@code _start} returned
 * @param stdout captured standard output (empty when it was streamed elsewhere)
 * @param stderr captured standard error (empty when it was streamed elsewhere)
 */
public record RunResult(int exitCode, byte[] stdout, byte[] stderr) {
  public String stdoutText() {
    return new String(stdout, java.nio.charset.StandardCharsets.UTF_8);
  }

  public String stderrText() {
    return new String(stderr, java.nio.charset.StandardCharsets.UTF_8);
  }
}
