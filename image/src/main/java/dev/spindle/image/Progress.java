package dev.spindle.image;

/**
 * Progress of long work (make, verify, extract). Implementations draw a bar on a terminal; the
 * default does nothing, so library callers pay nothing.
 */
public interface Progress {
  Progress NONE = new Progress() {};

  /** A new phase with {@code total} units of work ({@code 0} when unknown). */
  default void begin(String phase, long total) {}

  default void advance(long units) {}

  default void end() {}
}
