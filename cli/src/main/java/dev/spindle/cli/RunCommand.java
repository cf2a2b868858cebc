package dev.spindle.cli;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.sandbox.SandboxException;
import dev.spindle.sandbox.SandboxLimitException;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code spindle run}: a WASI module with files from host directories and an image. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run a WebAssembly (WASI) module in a sandbox.",
    footer = {
      "",
      "Image directories (--dir GUEST=image:PATH) are writable: writes go to an upper layer",
      "(--upper DIR, else a temporary directory removed afterwards); the image never changes.",
      "Exit code: the guest's; "
          + ExitCodes.TIMEOUT
          + " timeout, "
          + ExitCodes.MEMORY
          + " memory limit, "
          + ExitCodes.OUTPUT
          + " output limit, "
          + ExitCodes.TRAP
          + " trap or module error."
    })
final class RunCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(
      names = "--image",
      paramLabel = "TAG|FILE",
      description = "Image for --wasm and --dir GUEST=image:PATH.")
  String image;

  @Option(
      names = "--wasm",
      required = true,
      paramLabel = "PATH",
      description = "The module: a host file, else (with --image) a path inside the image.")
  String wasm;

  @Mixin EnvOptions env;

  @Option(
      names = "--dir",
      paramLabel = "GUEST=HOSTDIR|GUEST=image:PATH",
      description =
          "Preopened directory (repeatable): a host directory, or an image directory under a writable layer.")
  List<String> dirs = new ArrayList<>();

  @Option(
      names = "--upper",
      paramLabel = "DIR",
      description =
          "Keep the writable layers of image directories here (one subdirectory per GUEST).")
  Path upper;

  @Mixin EngineOption engine;

  /** Which linear memory a guest gets (--memory is a size in 'container run'; this is not one). */
  enum MemoryModel {
    PAGED,
    BUILTIN
  }

  @Option(
      names = "--memory-model",
      defaultValue = "paged",
      paramLabel = "MODEL",
      description =
          "Linear memory: ${COMPLETION-CANDIDATES}: Spindle's paged copy-on-write memory, or Chicory's "
              + "ByteArrayMemory (for comparison). Default: ${DEFAULT-VALUE}.")
  MemoryModel memoryModel;

  @Mixin LimitOptions limits;

  /**
   * Exports to call after _initialize; each one's results are printed on a line, space-separated.
   */
  @Mixin CallOptions calls;

  @Option(
      names = "--snapshot",
      paramLabel = "TAG",
      description =
          "After the calls, snapshot the reactor under TAG (branch it with 'spindle branch TAG -n N').")
  String snapshot;

  @Mixin SnapshotModeOption snapshotMode;

  @Parameters(paramLabel = "ARGS", description = "Arguments for the guest (after --).")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    try (FileSystem imageFs =
            image == null
                ? null
                : FileSystems.newFileSystem(
                    common.images().usable(image), Map.of("mode", "indexed"));
        RunDirs preopens = new RunDirs(imageFs, upper)) {
      SandboxBuilder b =
          Sandbox.builder(readModule(imageFs))
              .argv0(Path.of(wasm).getFileName().toString())
              .args(args.toArray(String[]::new))
              .stdout(System.out)
              .stderr(System.err)
              .engine(engine.engine)
              .memoryFactory(memoryFactory());
      env.map().forEach(b::env);
      for (String d : dirs) {
        preopens.add(b, d);
      }
      limits.apply(b);
      return execute(b.build());
    } finally {
      System.out.flush();
    }
  }

  private int execute(Sandbox sandbox) throws Exception {
    try {
      if (calls.calls.isEmpty()) {
        return sandbox.run().exitCode();
      }
      if (snapshot != null) {
        return executeAndSnapshot(sandbox);
      }
      try (Reactor reactor = sandbox.startReactor()) {
        for (CallOptions.Call c : calls.calls) {
          printResults(reactor.call(c.export(), c.args()));
        }
      }
      return 0;
    } catch (SandboxLimitException e) {
      return fail(e.getMessage(), ExitCodes.of(e.limit()));
    } catch (SandboxException e) {
      return fail(e.getMessage(), ExitCodes.TRAP);
    }
  }

  /** Runs the calls in a snapshot-capable guest, then snapshots it (the fork module). */
  private int executeAndSnapshot(Sandbox sandbox) throws Exception {
    Tag tag = Tag.of(snapshot);
    SnapshotMode m = snapshotMode.mode;
    try (Forks forks = new Forks(common.home());
        Guest guest = forks.start(sandbox)) {
      for (CallOptions.Call c : calls.calls) {
        printResults(guest.call(c.export(), c.args()));
      }
      long t0 = System.nanoTime();
      SandboxSnapshot s = forks.snapshot(guest, tag, m);
      double pauseMs = (System.nanoTime() - t0) / 1e6;
      s.persisted().get();
      System.err.printf(
          "snapshot %s (%s): %d pages, paused the sandbox %.2f ms, ready in %.1f ms%n",
          tag, m.json(), s.table().pages(), pauseMs, (System.nanoTime() - t0) / 1e6);
      return 0;
    }
  }

  private static void printResults(long[] out) {
    StringBuilder line = new StringBuilder();
    for (long v : out) {
      line.append(line.isEmpty() ? "" : " ").append(v);
    }
    System.out.println(line);
  }

  private static int fail(String message, int code) {
    System.out.flush();
    System.err.println("spindle: " + message);
    return code;
  }

  private byte[] readModule(FileSystem imageFs) throws IOException {
    Path host = Path.of(wasm);
    if (Files.isRegularFile(host)) {
      return Files.readAllBytes(host);
    }
    if (imageFs != null) {
      Path inImage = imageFs.getPath("/").resolve(wasm);
      if (Files.isRegularFile(inImage)) {
        return Files.readAllBytes(inImage);
      }
      throw new IllegalArgumentException(
          "--wasm: no such file on the host or in image " + image + ": " + wasm);
    }
    throw new IllegalArgumentException("--wasm: no such file: " + wasm);
  }

  private Function<MemoryLimits, Memory> memoryFactory() {
    return switch (memoryModel) {
      case PAGED -> PagedMemory::new;
      case BUILTIN -> ByteArrayMemory::new;
    };
  }
}
