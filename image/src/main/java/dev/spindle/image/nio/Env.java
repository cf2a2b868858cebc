package dev.spindle.image.nio;

import dev.spindle.image.AccessMode;
import java.util.Map;
import java.util.Set;

/**
 * The {@code env} map of {@code newFileSystem}, checked once: an unknown key or a bad value is an
 * {@link IllegalArgumentException} naming it, so a typo is not silently ignored. Keys are listed in
 * {@link SpindleFileSystemProvider}'s javadoc.
 */
record Env(AccessMode mode, long bufferLimit) {
  static final String MODE = "mode";
  static final String BUFFER_LIMIT = "bufferLimit";

  /** Blobs up to this size are read whole into memory when opened (see {@link BlobChannel}). */
  static final long DEFAULT_BUFFER_LIMIT = 8L << 20;

  /** A buffered blob is one Java array, so no more than an array can hold. */
  static final long MAX_BUFFER_LIMIT = Integer.MAX_VALUE - 8;

  private static final Set<String> KEYS = Set.of(MODE, BUFFER_LIMIT);

  static Env parse(Map<String, ?> env) {
    for (String k : env.keySet()) {
      if (!KEYS.contains(k)) {
        throw new IllegalArgumentException(
            "unknown Spindle file system option '"
                + k
                + "' (known: "
                + MODE
                + ", "
                + BUFFER_LIMIT
                + ")");
      }
    }
    Object m = env.get(MODE);
    AccessMode mode =
        switch (m) {
          case null -> AccessMode.INDEXED;
          case AccessMode a -> a;
          case String s -> AccessMode.parse(s);
          default ->
              throw new IllegalArgumentException(MODE + " must be 'indexed' or 'lazy', got: " + m);
        };
    Object b = env.get(BUFFER_LIMIT);
    long limit =
        switch (b) {
          case null -> DEFAULT_BUFFER_LIMIT;
          case Number n -> n.longValue();
          case String s -> parseLong(s);
          default ->
              throw new IllegalArgumentException(
                  BUFFER_LIMIT + " must be a number of bytes, got: " + b);
        };
    if (limit < 0 || limit > MAX_BUFFER_LIMIT) {
      throw new IllegalArgumentException(
          BUFFER_LIMIT + " must be 0.." + MAX_BUFFER_LIMIT + " bytes, got: " + limit);
    }
    return new Env(mode, limit);
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(BUFFER_LIMIT + " must be a number of bytes, got: " + s, e);
    }
  }
}
