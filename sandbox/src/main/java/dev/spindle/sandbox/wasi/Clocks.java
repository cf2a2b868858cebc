package dev.spindle.sandbox.wasi;

/**
 * A sandbox's own clocks. Realtime is the host's wall clock plus an offset; monotonic is kept
 * relative to a base so that a restored sandbox (perhaps on another host, whose {@link
 * System#nanoTime()} means something else) continues from the value it had at capture.
 */
final class Clocks {
  private final long realtimeOffsetNanos;
  private final long monotonicBase;

  /**
   * @param monotonicNanos the monotonic reading the guest sees now
   */
  Clocks(long realtimeOffsetNanos, long monotonicNanos) {
    this.realtimeOffsetNanos = realtimeOffsetNanos;
    this.monotonicBase = System.nanoTime() - monotonicNanos;
  }

  long realtime() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano() + realtimeOffsetNanos;
  }

  long monotonic() {
    return System.nanoTime() - monotonicBase;
  }

  long realtimeOffsetNanos() {
    return realtimeOffsetNanos;
  }
}
