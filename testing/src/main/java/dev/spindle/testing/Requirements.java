package dev.spindle.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/**
 * Whether a test may go on without a tool. On a developer's machine a missing tool skips the test
 * with a message naming what to install; a build that must test everything (CI: scripts/test passes
 * {@code -Dspindle.require=all}) fails it instead, so that it cannot be green while testing
 * nothing. System properties:
 *
 * <ul>
 *   <li>{@code spindle.require}: {@code all}, or a comma list of tools ({@code fuse,runc}) whose
 *       absence fails; empty or unset, none.
 *   <li>{@code spindle.absent}: a comma list of tools that count as missing even where they are
 *       here, to see what a machine without them does.
 * </ul>
 *
 * Unknown tool names in either fail every check, so that a misspelt requirement is not silently no
 * requirement.
 */
public final class Requirements {
  public static final String REQUIRE = "spindle.require";
  public static final String ABSENT = "spindle.absent";

  // Probes run processes (clang --version): once per tool and JVM.
  private static final Map<Tool, Boolean> PROBED = new ConcurrentHashMap<>();

  private Requirements() {}

  /**
   * Skips the calling test, or fails it where required, unless every one of {@code tools} is here.
   */
  public static void require(Tool... tools) {
    List<Tool> missing = missing(tools);
    // A required one first: one that may be skipped must not hide it.
    Set<Tool> required = tools(REQUIRE);
    missing.stream()
        .filter(required::contains)
        .findFirst()
        .or(() -> missing.stream().findFirst())
        .ifPresent(t -> require(t, false, ""));
  }

  /**
   * As {@link #require(Tool...)} where the caller knows better than the probe whether it has {@code
   * tool}: a guest installed or built on first use is here or not whatever the machine has. {@code
   * detail}, if not empty, says what went wrong.
   */
  public static void require(Tool tool, boolean present, String detail) {
    if (present && !tools(ABSENT).contains(tool)) {
      return;
    }
    if (tools(REQUIRE).contains(tool)) {
      fail(
          missingMessage(tool, detail)
              + " The build requires it (-D"
              + REQUIRE
              + "="
              + System.getProperty(REQUIRE)
              + ").");
    }
    Assumptions.abort(skipped(tool, detail));
  }

  /**
   * Why a test that needs {@code tools} is skipped here; empty where it may run: every tool is
   * here, or one that is missing is required, so that the test must run to fail.
   */
  static Optional<String> skipReason(Tool... tools) {
    List<Tool> missing = missing(tools);
    if (missing.isEmpty() || missing.stream().anyMatch(tools(REQUIRE)::contains)) {
      return Optional.empty();
    }
    return Optional.of(skipped(missing.getFirst(), ""));
  }

  private static List<Tool> missing(Tool... tools) {
    Set<Tool> absent = tools(ABSENT);
    return Arrays.stream(tools)
        .filter(t -> absent.contains(t) || !PROBED.computeIfAbsent(t, Tool::probe))
        .toList();
  }

  private static String missingMessage(Tool tool, String detail) {
    return tool.what()
        + " is missing"
        + (detail.isEmpty() ? "" : " (" + detail + ")")
        + ". To have it: "
        + tool.install()
        + ".";
  }

  private static String skipped(Tool tool, String detail) {
    return "skipped: " + missingMessage(tool, detail) + " With -D" + REQUIRE + "=all this fails.";
  }

  static Set<Tool> tools(String property) {
    String value = System.getProperty(property, "").strip();
    if (value.equalsIgnoreCase("all")) {
      return EnumSet.allOf(Tool.class);
    }
    Set<Tool> tools = EnumSet.noneOf(Tool.class);
    for (String name : value.split(",")) {
      String n = name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
      if (n.isEmpty()) {
        continue;
      }
      try {
        tools.add(Tool.valueOf(n));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "-D"
                + property
                + "="
                + value
                + ": no tool '"
                + name.strip()
                + "'; the tools are all or "
                + EnumSet.allOf(Tool.class).toString().toLowerCase(Locale.ROOT),
            e);
      }
    }
    return tools;
  }
}
