package dev.spindle.sandbox.wasi;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything a WASI instance knows, as plain values: what a snapshot stores and what a child
 * sandbox is restored from. Open files are named by preopen and relative path and reopened on
 * restore, so the state holds no channel or stream.
 *
 * @param args the guest's argv
 * @param env the guest's environment, each entry {@code KEY=VALUE}
 * @param preopens host directories the guest may reach, by index
 * @param fds the descriptor table, ordered by fd
 * @param realtimeOffsetNanos added to the host's wall clock for {@code CLOCK_REALTIME}
 * @param monotonicNanos the guest's {@code CLOCK_MONOTONIC} at capture; a restored instance
 *     continues from it, so the guest never sees its monotonic clock go back
 * @param randomState the state of the guest's random generator
 */
public record WasiState(
    List<String> args,
    List<String> env,
    List<Preopen> preopens,
    List<Fd> fds,
    long realtimeOffsetNanos,
    long monotonicNanos,
    long randomState) {

  public WasiState {
    args = List.copyOf(args);
    env = List.copyOf(env);
    preopens = List.copyOf(preopens);
    fds = List.copyOf(fds);
  }

  /** This state with other preopens (a snapshot's copies, a child's own directories). */
  public WasiState withPreopens(List<Preopen> preopens) {
    return new WasiState(
        args, env, preopens, fds, realtimeOffsetNanos, monotonicNanos, randomState);
  }

  /** This state with another random generator state (each child draws its own numbers). */
  public WasiState withRandomState(long randomState) {
    return new WasiState(
        args, env, preopens, fds, realtimeOffsetNanos, monotonicNanos, randomState);
  }

  /** A host directory the guest sees under {@code guestPath}. */
  public record Preopen(String guestPath, Path hostPath) {
    public Preopen {
      Objects.requireNonNull(guestPath, "guestPath");
      Objects.requireNonNull(hostPath, "hostPath");
    }
  }

  /** What kind of object an fd names. */
  public enum Kind {
    STDIN,
    STDOUT,
    STDERR,
    FILE,
    DIRECTORY
  }

  /**
   * One open descriptor.
   *
   * @param preopen index into {@link #preopens()}, or -1 for stdio
   * @param path path below that preopen, {@code /}-separated, empty for the preopen itself
   * @param preopened whether this fd is the preopen itself (it answers {@code fd_prestat_get})
   * @param offset the file position (files only)
   */
  public record Fd(
      int fd,
      Kind kind,
      int preopen,
      String path,
      boolean preopened,
      long rightsBase,
      long rightsInheriting,
      int fdFlags,
      long offset) {}
}
