package dev.spindle.daemon;

import dev.spindle.store.SpindleHome;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * How a node runs: its home, where it listens (loopback by default: the API drives code execution,
 * so exposing it is a decision to make explicitly), and its caps.
 *
 * @param port 0 picks a free port
 * @param maxConcurrent requests handled at once before answering 503
 * @param maxSandboxes sandboxes held at once before {@code POST /v1/sandboxes} answers 503
 * @param limits the ceilings on each sandbox's limits and the memory budget of them all
 * @param warm the runtimes whose warm snapshot is made (or opened) in the background as soon as the
 *     node listens ({@code --warm python}), so no request waits for the boot; empty: on first need
 */
public record DaemonConfig(
    SpindleHome home,
    String host,
    int port,
    int maxConcurrent,
    int maxSandboxes,
    NodeLimits limits,
    List<String> warm) {
  public static final int DEFAULT_PORT = 8889;

  /** The runtimes {@code --warm} takes. */
  public static final List<String> WARM_RUNTIMES = List.of("python");

  public DaemonConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (maxConcurrent < 1 || maxSandboxes < 1) {
      throw new IllegalArgumentException("caps must be at least 1");
    }
    java.util.Objects.requireNonNull(limits, "limits");
    warm = List.copyOf(new LinkedHashSet<>(warm));
    for (String r : warm) {
      if (!WARM_RUNTIMES.contains(r)) {
        throw new IllegalArgumentException(
            "--warm takes " + String.join(", ", WARM_RUNTIMES) + ", got '" + r + "'");
      }
    }
  }

  public DaemonConfig(
      SpindleHome home,
      String host,
      int port,
      int maxConcurrent,
      int maxSandboxes,
      NodeLimits limits) {
    this(home, host, port, maxConcurrent, maxSandboxes, limits, List.of());
  }

  public DaemonConfig(
      SpindleHome home, String host, int port, int maxConcurrent, int maxSandboxes) {
    this(home, host, port, maxConcurrent, maxSandboxes, NodeLimits.defaults());
  }

  public static DaemonConfig defaults(SpindleHome home) {
    return new DaemonConfig(home, "127.0.0.1", DEFAULT_PORT, 64, 10_000);
  }

  /** {@code host:port}, {@code :port} or {@code port}. */
  public DaemonConfig listen(String hostPort) {
    String h = host;
    String p = hostPort;
    int colon = hostPort.lastIndexOf(':');
    if (colon >= 0) {
      h = colon == 0 ? host : hostPort.substring(0, colon);
      p = hostPort.substring(colon + 1);
    }
    try {
      return new DaemonConfig(
          home, h, Integer.parseInt(p), maxConcurrent, maxSandboxes, limits, warm);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--listen wants HOST:PORT, e.g. 127.0.0.1:8889, got '" + hostPort + "'");
    }
  }

  public DaemonConfig withCaps(int concurrent, int sandboxes) {
    return new DaemonConfig(home, host, port, concurrent, sandboxes, limits, warm);
  }

  public DaemonConfig withLimits(NodeLimits l) {
    return new DaemonConfig(home, host, port, maxConcurrent, maxSandboxes, l, warm);
  }

  /** {@code runtimes}: each one of {@link #WARM_RUNTIMES} (repeats are dropped). */
  public DaemonConfig withWarm(List<String> runtimes) {
    return new DaemonConfig(home, host, port, maxConcurrent, maxSandboxes, limits, runtimes);
  }
}
