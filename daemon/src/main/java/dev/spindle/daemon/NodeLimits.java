package dev.spindle.daemon;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the sandboxes of one node may take: ceilings on each request's {@code limits} (a request
 * over one is a 400, so no client can ask for more than the operator allows), and a memory budget
 * for all sandboxes together (a create that would pass it is a 503); and how long a client may hold
 * a request thread without sending.
 *
 * @param maxTimeout the largest {@code limits.timeout_ms}
 * @param maxMemoryPages the largest {@code limits.max_memory_pages} (64 KiB Wasm pages)
 * @param maxOutput the largest {@code limits.output_cap}, in bytes
 * @param memoryBudget bytes of guest memory all sandboxes together may reach: the sum of each one's
 *     memory maximum
 * @param idleTimeout how long a connection may send nothing, in the middle of a body too
 */
public record NodeLimits(
    Duration maxTimeout,
    int maxMemoryPages,
    int maxOutput,
    long memoryBudget,
    Duration idleTimeout) {
  /** A Wasm page. */
  public static final long PAGE = 64 * 1024;

  /** The most a 32-bit memory can have: 4 GiB. */
  static final int MAX_PAGES = 65536;

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
  private static final Pattern SIZE = Pattern.compile("(\\d+)([kmgt]i?b?|b)?");

  public NodeLimits {
    if (maxTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          "the timeout ceiling must be at least 1ms, got " + maxTimeout);
    }
    if (maxMemoryPages < 1 || maxMemoryPages > MAX_PAGES) {
      throw new IllegalArgumentException(
          "the memory ceiling must be 64KiB..4GiB, got " + maxMemoryPages + " pages");
    }
    if (maxOutput < 1) {
      throw new IllegalArgumentException(
          "the output ceiling must be at least 1 byte, got " + maxOutput);
    }
    if (memoryBudget < PAGE) {
      throw new IllegalArgumentException(
          "the memory budget must be at least 64KiB, got " + memoryBudget);
    }
    if (idleTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          "the idle timeout must be at least 1ms, got " + idleTimeout);
    }
  }

  /**
   * Ten minutes, 4 GiB and 64 MiB a sandbox; a budget of three quarters of this JVM's largest heap.
   * NodeSandbox memory is pages of {@code byte[]} on the Java heap (PagedMemory), so the heap, not
   * the machine's RAM, is what sandboxes exhaust: past it any thread of the node, the HTTP server's
   * included, fails with OutOfMemoryError. The quarter left is for the node itself (request bodies
   * up to 64 MiB, snapshots being written, page caches). Thirty seconds idle.
   */
  public static NodeLimits defaults() {
    return new NodeLimits(
        Duration.ofMinutes(10),
        MAX_PAGES,
        64 << 20,
        Math.max(PAGE, Runtime.getRuntime().maxMemory() / 4 * 3),
        Duration.ofSeconds(30));
  }

  public NodeLimits withMaxTimeout(Duration d) {
    return new NodeLimits(d, maxMemoryPages, maxOutput, memoryBudget, idleTimeout);
  }

  public NodeLimits withMaxMemoryPages(int pages) {
    return new NodeLimits(maxTimeout, pages, maxOutput, memoryBudget, idleTimeout);
  }

  public NodeLimits withMaxOutput(int bytes) {
    return new NodeLimits(maxTimeout, maxMemoryPages, bytes, memoryBudget, idleTimeout);
  }

  public NodeLimits withMemoryBudget(long bytes) {
    return new NodeLimits(maxTimeout, maxMemoryPages, maxOutput, bytes, idleTimeout);
  }

  public NodeLimits withIdleTimeout(Duration d) {
    return new NodeLimits(maxTimeout, maxMemoryPages, maxOutput, memoryBudget, d);
  }

  /** Applies one command-line option ({@code --max-timeout} and the like) given as text. */
  public NodeLimits withOption(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return switch (option) {
      case "--max-timeout" -> withMaxTimeout(duration(option, value));
      case "--idle-timeout" -> withIdleTimeout(duration(option, value));
      case "--max-memory" -> {
        long bytes = size(option, value);
        if (bytes < PAGE || bytes > MAX_PAGES * PAGE) {
          throw new IllegalArgumentException(option + ": must be between 64KiB and 4GiB: " + value);
        }
        yield withMaxMemoryPages((int) (bytes / PAGE));
      }
      case "--max-output" -> {
        long bytes = size(option, value);
        if (bytes < 1 || bytes > Integer.MAX_VALUE) {
          throw new IllegalArgumentException(
              option + ": must be between 1 byte and 2GiB: " + value);
        }
        yield withMaxOutput((int) bytes);
      }
      case "--memory-budget" -> {
        long bytes = size(option, value);
        if (bytes < PAGE) {
          throw new IllegalArgumentException(option + ": must be at least 64KiB: " + value);
        }
        yield withMemoryBudget(bytes);
      }
      default -> throw new IllegalArgumentException("not a node limit: " + option);
    };
  }

  /**
   * "500ms", "30s" (the default unit), "10m", "1h", as {@code spindle run --timeout} takes them.
   */
  static Duration duration(String option, String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          option + ": not a duration (e.g. 500ms, 30s, 10m): " + text);
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + ": too large: " + text);
    }
    Duration d =
        switch (m.group(2) == null ? "s" : m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "m" -> Duration.ofMinutes(Math.min(n, Long.MAX_VALUE / 60 / 1000));
          case "h" -> Duration.ofHours(Math.min(n, Long.MAX_VALUE / 3600 / 1000));
          default -> Duration.ofSeconds(Math.min(n, Long.MAX_VALUE / 1000));
        };
    if (d.isZero()) {
      throw new IllegalArgumentException(option + ": must be positive: " + text);
    }
    return d;
  }

  /**
   * "64MiB", "512k", "4g", bytes without a unit; k/m/g/t are binary, as {@code spindle run
   * --max-memory}.
   */
  static long size(String option, String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(option + ": not a size (e.g. 64MiB, 4g): " + text);
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + ": too large: " + text);
    }
    int shift =
        switch (m.group(2) == null ? 'b' : m.group(2).charAt(0)) {
          case 'k' -> 10;
          case 'm' -> 20;
          case 'g' -> 30;
          case 't' -> 40;
          default -> 0;
        };
    if (n > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException(option + ": too large: " + text);
    }
    return n << shift;
  }
}
