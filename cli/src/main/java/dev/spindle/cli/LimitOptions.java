package dev.spindle.cli;

import dev.spindle.client.Api.Limits;
import dev.spindle.sandbox.SandboxBuilder;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * A sandbox's limits, the same options in every command that starts one ({@code run}, {@code
 * python}, {@code sandbox create}): durations and sizes, never milliseconds or pages.
 */
final class LimitOptions {
  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "Wall-clock limit (per call for a reactor), e.g. 500ms, 30s, 2m.")
  String timeout;

  @Option(
      names = "--max-memory",
      paramLabel = "SIZE",
      description = "Linear-memory limit, e.g. 64MiB, 1g.")
  String maxMemory;

  @Option(
      names = "--max-output",
      paramLabel = "SIZE",
      description = "Cap on stdout and on stderr, e.g. 1MiB.")
  String maxOutput;

  Duration timeout() {
    return timeout == null ? null : RunLimits.duration(timeout);
  }

  Integer maxMemoryPages() {
    return maxMemory == null ? null : RunLimits.pages(maxMemory);
  }

  Integer maxOutputBytes() {
    return maxOutput == null ? null : RunLimits.bytes("--max-output", maxOutput);
  }

  /** Applies the limits given to a sandbox built here. */
  SandboxBuilder apply(SandboxBuilder b) {
    if (timeout != null) {
      b.timeout(timeout());
    }
    if (maxMemory != null) {
      b.maxMemoryPages(maxMemoryPages());
    }
    if (maxOutput != null) {
      b.outputCap(maxOutputBytes());
    }
    return b;
  }

  /** The limits given, as a node's API takes them; null when none was given. */
  Limits api() {
    if (timeout == null && maxMemory == null && maxOutput == null) {
      return null;
    }
    return new Limits(
        timeout == null ? null : timeout().toMillis(), maxMemoryPages(), maxOutputBytes());
  }
}
