package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import dev.spindle.sandbox.wasi.Wasi;
import dev.spindle.sandbox.wasi.WasiExit;
import dev.spindle.sandbox.wasi.WasiState;
import java.time.Duration;

/**
 * An initialised reactor module: call its exports by name. Each call runs under the sandbox's
 * timeout; after a trap, exit or limit the reactor is dead, because the guest's memory may be
 * half-updated.
 */
public final class Reactor implements AutoCloseable {
  private final Instance instance;
  private final Wasi wasi;
  private final GuestStreams streams;
  private final Duration timeout;
  private final int maxMemoryPages;
  private RuntimeException death;

  Reactor(
      Instance instance, Wasi wasi, GuestStreams streams, Duration timeout, int maxMemoryPages) {
    this.instance = instance;
    this.wasi = wasi;
    this.streams = streams;
    this.timeout = timeout;
    this.maxMemoryPages = maxMemoryPages;
  }

  /**
   * Calls export {@code name} with i32/i64 arguments (an i32 in the low 32 bits of a long).
   *
   * @return the export's results, one long per result
   */
  public long[] call(String name, long... args) {
    if (death != null) {
      throw new SandboxException("reactor is dead after an earlier failure", death);
    }
    try {
      long[] out =
          Watchdog.run(
              "spindle-guest-call",
              timeout,
              () -> {
                try {
                  return instance.export(name).apply(args);
                } catch (RuntimeException | StackOverflowError e) {
                  throw MemoryCheck.explain(e, instance, maxMemoryPages);
                }
              });
      return out == null ? new long[0] : out;
    } catch (RuntimeException e) {
      death = e;
      if (e instanceof WasiExit exit) {
        throw new SandboxException("reactor called proc_exit(" + exit.code() + ")", exit);
      }
      throw e;
    }
  }

  /**
   * The guest's linear memory, for passing data that does not fit in i32/i64 arguments (strings
   * through the guest's own allocator, as the canonical ABI does). The same object for the
   * reactor's whole life (docs/PLATFORM-FACTS.md: compiled code captures it).
   */
  public Memory memory() {
    return instance.memory();
  }

  /** The guest's WASI state between calls (what a snapshot stores). */
  public WasiState wasiState() {
    return wasi.capture();
  }

  /**
   * The instance's globals, tables and dropped element segments between calls (with {@link
   * #memory()} and {@link #wasiState()}, what a snapshot stores).
   */
  public InstanceState instanceState() {
    return InstanceStates.capture(instance);
  }

  public byte[] stdout() {
    return streams.stdout();
  }

  public byte[] stderr() {
    return streams.stderr();
  }

  /**
   * The captured stdout written since the last take, removed from the capture; safe to call from
   * another thread while a call runs (how a guest's output is streamed as it is written). Empty
   * when stdout goes to the caller's own stream.
   */
  public byte[] takeStdout() {
    return streams.takeStdout();
  }

  /** As {@link #takeStdout()}, for stderr. */
  public byte[] takeStderr() {
    return streams.takeStderr();
  }

  @Override
  public void close() {
    wasi.close();
  }
}
