package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which image of a multi-platform index to take: {@code OS/ARCH[/VARIANT]}, linux/amd64 by default.
 */
record Platform(String os, String architecture, String variant) {
  static final Platform DEFAULT = new Platform("linux", "amd64", null);

  static Platform parse(String s) {
    String[] p = s.split("/", -1);
    if (p.length < 2
        || p.length > 3
        || java.util.Arrays.stream(p).anyMatch(x -> !x.matches("[a-z0-9_.-]+"))) {
      throw new IllegalArgumentException(
          "a platform is OS/ARCH[/VARIANT] (e.g. linux/arm64/v8), got: " + s);
    }
    return new Platform(p[0], p[1], p.length == 3 ? p[2] : null);
  }

  /** A descriptor's platform matches when OS and architecture do and, if asked for, the variant. */
  boolean matches(JsonNode platform) {
    return platform.path("os").asText().equals(os)
        && platform.path("architecture").asText().equals(architecture)
        && (variant == null || platform.path("variant").asText().equals(variant));
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant == null ? "" : "/" + variant);
  }
}
