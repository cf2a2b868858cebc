package dev.spindle.cli;

import dev.spindle.container.ContainerSpec;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsing the limit options of {@code spindle run}: durations and memory sizes. */
final class RunLimits {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
  private static final long WASM_PAGE = 64 * 1024;
  private static final int MAX_PAGES = 65536;

  private RunLimits() {}

  /** "500ms", "30s" (the default unit), "2m", "1h", or ISO-8601 such as "PT1M30S". */
  static Duration duration(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("pt")) {
      try {
        return positive(Duration.parse(t.toUpperCase(Locale.ROOT)), text);
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException("--timeout: not a duration: " + text);
      }
    }
    Matcher m = DURATION.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "--timeout: not a duration (e.g. 500ms, 30s, 2m): " + text);
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return positive(
        switch (unit) {
          case "ms" -> Duration.ofMillis(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofSeconds(n);
        },
        text);
  }

  private static Duration positive(Duration d, String text) {
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("--timeout: must be positive: " + text);
    }
    return d;
  }

  /** A size in bytes ("1MiB", "512k", bytes without a unit; k/m/g are binary), 1 B to 2 GiB - 1. */
  static int bytes(String option, String text) {
    long bytes = size(option, text, "1MiB, 512k");
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(option + ": must be between 1 byte and 2GiB: " + text);
    }
    return (int) bytes;
  }

  /**
   * A memory size ("64MiB", "512k", "1g", bytes without a unit; k/m/g are binary) as 64 KiB Wasm
   * pages, rounded down; at least one page and at most the 4 GiB a 32-bit memory can hold.
   */
  static int pages(String text) {
    long pages = size("--max-memory", text, "64MiB, 1g") / WASM_PAGE;
    if (pages < 1 || pages > MAX_PAGES) {
      throw new IllegalArgumentException("--max-memory: must be between 64KiB and 4GiB: " + text);
    }
    return (int) pages;
  }

  /** The one size syntax of the CLI ({@link ContainerSpec#parseSize}), errors naming the option. */
  private static long size(String option, String text, String examples) {
    try {
      return ContainerSpec.parseSize(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          option + ": not a size (e.g. " + examples + "): " + text, e);
    }
  }
}
