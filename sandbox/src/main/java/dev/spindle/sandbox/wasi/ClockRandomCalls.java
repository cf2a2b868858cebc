package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;

/** {@code clock_*} and {@code random_get}, served by the sandbox's own clocks and generator. */
final class ClockRandomCalls {
  private final Clocks clocks;
  private final GuestRandom random;

  ClockRandomCalls(Clocks clocks, GuestRandom random) {
    this.clocks = clocks;
    this.random = random;
  }

  int clockResGet(Memory m, int clockId, int resultPtr) {
    long resolution =
        switch (clockId) {
          case Abi.CLOCK_REALTIME -> 1_000L; // Instant.now() is microsecond-precise on Linux
          case Abi.CLOCK_MONOTONIC -> 1L;
          case Abi.CLOCK_PROCESS_CPUTIME, Abi.CLOCK_THREAD_CPUTIME ->
              throw new WasiError(Errno.NOTSUP);
          default -> throw new WasiError(Errno.INVAL);
        };
    m.writeLong(resultPtr, resolution);
    return Errno.SUCCESS;
  }

  int clockTimeGet(Memory m, int clockId, long precision, int resultPtr) {
    m.writeLong(resultPtr, now(clockId));
    return Errno.SUCCESS;
  }

  /** The guest's reading of {@code clockId}, in nanoseconds. */
  long now(int clockId) {
    return switch (clockId) {
      case Abi.CLOCK_REALTIME -> clocks.realtime();
      case Abi.CLOCK_MONOTONIC -> clocks.monotonic();
      case Abi.CLOCK_PROCESS_CPUTIME, Abi.CLOCK_THREAD_CPUTIME -> throw new WasiError(Errno.NOTSUP);
      default -> throw new WasiError(Errno.INVAL);
    };
  }

  int randomGet(Memory m, int buf, int len) {
    if (len < 0) {
      throw new WasiError(Errno.INVAL);
    }
    byte[] bytes = new byte[len];
    random.fill(bytes);
    m.write(buf, bytes, 0, len);
    return Errno.SUCCESS;
  }
}
