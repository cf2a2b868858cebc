package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.HostFunction;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spindle's own {@code wasi_snapshot_preview1}: one instance per sandbox. Unlike Chicory's {@code
 * WasiPreview1}, all of its state can be {@linkplain #capture() captured} as a {@link WasiState}
 * and {@linkplain #restore restored} into a fresh instance, which is what snapshots and branches
 * need. Files are served through {@code java.nio.file} only, so a preopen may live on any file
 * system provider, read-only ones included.
 */
public final class Wasi implements AutoCloseable {
  private final List<String> args;
  private final List<String> env;
  private final FdTable fds;
  private final Clocks clocks;
  private final GuestRandom random;
  private final HostFunction[] functions;
  final FdCalls fdCalls;
  final PathCalls pathCalls;
  final ClockRandomCalls clockRandomCalls;
  final ArgsEnvCalls argsEnvCalls;

  private Wasi(WasiState state, FdTable fds) {
    this.args = state.args();
    this.env = state.env();
    this.fds = fds;
    this.clocks = new Clocks(state.realtimeOffsetNanos(), state.monotonicNanos());
    this.random = new GuestRandom(state.randomState());
    this.fdCalls = new FdCalls(fds);
    this.pathCalls = new PathCalls(fds);
    this.clockRandomCalls = new ClockRandomCalls(clocks, random);
    this.argsEnvCalls = new ArgsEnvCalls(args, env);
    this.functions =
        HostModule.functions(
            fdCalls,
            pathCalls,
            clockRandomCalls,
            argsEnvCalls,
            new ProcessCalls(fds, clockRandomCalls));
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A WASI instance in the state {@code state} describes, its open files reopened on the host at
   * their captured offsets and its stdio bound to the given streams (null: none).
   */
  public static Wasi restore(
      WasiState state, InputStream stdin, OutputStream stdout, OutputStream stderr)
      throws IOException {
    return new Wasi(state, FdTable.restore(state, stdin, stdout, stderr));
  }

  /** All state as plain values; call it while the guest is paused (not inside a call). */
  public WasiState capture() {
    // Preopens the guest closed (with all below them) are left out: see FdTable.captureInUse.
    FdTable.Captured c = fds.captureInUse();
    return new WasiState(
        args,
        env,
        c.preopens(),
        c.fds(),
        clocks.realtimeOffsetNanos(),
        clocks.monotonic(),
        random.state());
  }

  /** The import functions to give Chicory's {@code ImportValues}. */
  public HostFunction[] hostFunctions() {
    return functions.clone();
  }

  /** Closes every file the guest left open. */
  @Override
  public void close() {
    fds.closeAll();
  }

  /** The initial WASI state of a new sandbox. */
  public static final class Builder {
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<WasiState.Preopen> preopens = new ArrayList<>();
    private InputStream stdin = InputStream.nullInputStream();
    private OutputStream stdout = OutputStream.nullOutputStream();
    private OutputStream stderr = OutputStream.nullOutputStream();
    private Long randomSeed;
    private long realtimeOffsetNanos;

    private Builder() {}

    /** argv, including argv[0]. */
    public Builder args(List<String> args) {
      this.args.clear();
      this.args.addAll(args);
      return this;
    }

    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    /** Lets the guest reach {@code host} as {@code guestPath} (fds 3, 4, … in call order). */
    public Builder preopen(String guestPath, Path host) {
      preopens.add(new WasiState.Preopen(guestPath, host));
      return this;
    }

    public Builder stdin(InputStream in) {
      this.stdin = in;
      return this;
    }

    public Builder stdout(OutputStream out) {
      this.stdout = out;
      return this;
    }

    public Builder stderr(OutputStream err) {
      this.stderr = err;
      return this;
    }

    /** Makes {@code random_get} reproducible; without it the seed is drawn from SecureRandom. */
    public Builder randomSeed(long seed) {
      this.randomSeed = seed;
      return this;
    }

    /** Shifts the guest's wall clock, e.g. to replay a recorded run. */
    public Builder realtimeOffsetNanos(long offset) {
      this.realtimeOffsetNanos = offset;
      return this;
    }

    /** The state a fresh sandbox starts in: stdio on fds 0-2, then the preopens. */
    public WasiState state() {
      List<WasiState.Fd> fds = new ArrayList<>();
      fds.add(new WasiState.Fd(0, WasiState.Kind.STDIN, -1, "", false, Abi.RIGHTS_STDIO, 0, 0, 0));
      fds.add(new WasiState.Fd(1, WasiState.Kind.STDOUT, -1, "", false, Abi.RIGHTS_STDIO, 0, 0, 0));
      fds.add(new WasiState.Fd(2, WasiState.Kind.STDERR, -1, "", false, Abi.RIGHTS_STDIO, 0, 0, 0));
      for (int i = 0; i < preopens.size(); i++) {
        fds.add(
            new WasiState.Fd(
                3 + i,
                WasiState.Kind.DIRECTORY,
                i,
                "",
                true,
                Abi.RIGHTS_ALL & ~Abi.RIGHTS_FILE_ONLY,
                Abi.RIGHTS_ALL,
                0,
                0));
      }
      List<String> envList = new ArrayList<>();
      env.forEach((k, v) -> envList.add(k + "=" + v));
      long seed = randomSeed != null ? randomSeed : new SecureRandom().nextLong();
      return new WasiState(args, envList, preopens, fds, realtimeOffsetNanos, 0, seed);
    }

    public Wasi build() {
      try {
        return restore(state(), stdin, stdout, stderr);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open the initial WASI state", e);
      }
    }
  }
}
