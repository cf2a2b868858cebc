package dev.spindle.store;

/**
 * The whiteout names of OCI image layers (image-spec, "Whiteouts"), which Spindle's overlay upper
 * layers use too: {@code .wh.NAME} deletes NAME of the layers below; {@code .wh..wh..opq} in a
 * directory hides everything they put there. In this module because both users (the container
 * module's layer applier, the sandbox's overlay) depend on it.
 */
public final class Whiteouts {
  /** What every whiteout name starts with; no other entry may. */
  public static final String PREFIX = ".wh.";

  /** The opaque-directory marker. */
  public static final String OPAQUE = ".wh..wh..opq";

  private Whiteouts() {}

  /** The whiteout that deletes {@code name}. */
  public static String of(String name) {
    return PREFIX + name;
  }

  /** Whether {@code name} is a whiteout (the opaque marker included). */
  public static boolean is(String name) {
    return name.startsWith(PREFIX);
  }

  /** The name a whiteout (not the opaque marker) deletes. */
  public static String hidden(String whiteout) {
    return whiteout.substring(PREFIX.length());
  }
}
