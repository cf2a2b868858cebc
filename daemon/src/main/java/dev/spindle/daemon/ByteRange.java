package dev.spindle.daemon;

/**
 * One byte range of an HTTP {@code Range} header ({@code bytes=F-L}, {@code bytes=F-}, {@code
 * bytes=-N}), clamped to the resource. Several ranges in one request are refused: pullers ask for
 * one span at a time.
 */
record ByteRange(long first, long last) {
  long length() {
    return last - first + 1;
  }

  /** The range asked for, or null for the whole resource (no header); 416 when unsatisfiable. */
  static ByteRange parse(String header, long size) {
    if (header == null) {
      return null;
    }
    String h = header.strip();
    if (!h.startsWith("bytes=") || h.contains(",")) {
      throw unsatisfiable(header, size);
    }
    String spec = h.substring("bytes=".length()).strip();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      throw unsatisfiable(header, size);
    }
    try {
      String a = spec.substring(0, dash).strip();
      String b = spec.substring(dash + 1).strip();
      long first;
      long last;
      if (a.isEmpty()) {
        long n = Long.parseLong(b);
        first = Math.max(0, size - n);
        last = size - 1;
        if (n <= 0) {
          throw unsatisfiable(header, size);
        }
      } else {
        first = Long.parseLong(a);
        last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
      }
      if (first < 0 || first >= size || last < first) {
        throw unsatisfiable(header, size);
      }
      return new ByteRange(first, last);
    } catch (NumberFormatException e) {
      throw unsatisfiable(header, size);
    }
  }

  private static ApiError unsatisfiable(String header, long size) {
    return new ApiError(
        416,
        "bad_range",
        "cannot serve Range '"
            + header
            + "' of a "
            + size
            + "-byte file (one range, bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX)");
  }
}
