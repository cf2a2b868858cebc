package dev.spindle.daemon;

import dev.spindle.store.SpindleHome;

/**
 * How a node runs: its home, where it listens (loopback by default: the API drives code
 * execution, so exposing it is a decision to make explicitly), and its caps.
 *
 * @param port 0 picks a free port
 * @param maxConcurrent requests handled at once before answering 503
 * @param maxSandboxes sandboxes held at once before {@code POST /v1/sandboxes} answers 503
 * @param limits the ceilings on each sandbox's limits and the memory budget of them all
 */
public record DaemonConfig(SpindleHome home, String host, int port, int maxConcurrent, int maxSandboxes,
    NodeLimits limits) {
  public static final int DEFAULT_PORT = 8889;

  public DaemonConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (maxConcurrent < 1 || maxSandboxes < 1) {
      throw new IllegalArgumentException("caps must be at least 1");
    }
    java.util.Objects.requireNonNull(limits, "limits");
  }

  public DaemonConfig(SpindleHome home, String host, int port, int maxConcurrent, int maxSandboxes) {
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
      return new DaemonConfig(home, h, Integer.parseInt(p), maxConcurrent, maxSandboxes, limits);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--listen wants HOST:PORT, e.g. 127.0.0.1:8889, got '" + hostPort + "'");
    }
  }

  public DaemonConfig withCaps(int concurrent, int sandboxes) {
    return new DaemonConfig(home, host, port, concurrent, sandboxes, limits);
  }

  public DaemonConfig withLimits(NodeLimits l) {
    return new DaemonConfig(home, host, port, maxConcurrent, maxSandboxes, l);
  }
}
