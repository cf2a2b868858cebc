package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.sandbox.wasi.Wasi;
import dev.spindle.sandbox.wasi.WasiExit;
import dev.spindle.sandbox.wasi.WasiState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A WebAssembly/WASI guest with its files, streams and limits. Build one with {@link
 * #builder(byte[])}, then either {@link #run()} it as a command ({@code _start}) or {@link
 * #startReactor()} it and call its exports. A trap, an exit or a limit ends the guest with a result
 * or a {@link SandboxException}, never the host JVM.
 */
public final class Sandbox {
  private final SandboxConfig config;
  private final GuestModule module;

  Sandbox(SandboxConfig config) {
    this(config, new GuestModule(config));
  }

  private Sandbox(SandboxConfig config, GuestModule module) {
    this.config = config;
    this.module = module;
  }

  /** The parsed (and compiled) module, made on first use. */
  GuestModule.Prepared prepared() {
    return module.prepared();
  }

  /** The compiled-module cache entry this sandbox used, or null (interpreter, cache off). */
  CompiledCache compiledCache() {
    return module.compiledCache();
  }

  public static SandboxBuilder builder(byte[] wasm) {
    return new SandboxBuilder(wasm.clone());
  }

  public static SandboxBuilder builder(Path wasm) throws IOException {
    return new SandboxBuilder(Files.readAllBytes(wasm));
  }

  /**
   * Runs a command module's {@code _start}.
   *
   * @return the exit code and captured output
   * @throws SandboxLimitException if the guest hit the timeout, memory or output limit
   * @throws SandboxException if the guest trapped or could not be instantiated
   */
  public RunResult run() {
    GuestStreams streams = new GuestStreams(config);
    try (Wasi wasi = wasi(streams)) {
      int code =
          Watchdog.run(
              "spindle-guest",
              config.timeout(),
              () -> {
                Instance instance = instantiate(wasi);
                try {
                  instance.export("_start").apply();
                  return 0;
                } catch (WasiExit exit) {
                  return exit.code();
                } catch (RuntimeException | StackOverflowError e) {
                  throw MemoryCheck.explain(e, instance, config.maxMemoryPages());
                }
              });
      return new RunResult(code, streams.stdout(), streams.stderr());
    }
  }

  /**
   * Instantiates a reactor module and runs its {@code _initialize} (when exported) under the
   * timeout. Close the reactor to release its files.
   */
  public Reactor startReactor() {
    GuestStreams streams = new GuestStreams(config);
    Wasi wasi = wasi(streams);
    try {
      Instance instance =
          Watchdog.run(
              "spindle-guest-init",
              config.timeout(),
              () -> {
                Instance i = instantiate(wasi);
                try {
                  if (exports(i.module(), "_initialize")) {
                    i.export("_initialize").apply();
                  }
                  return i;
                } catch (RuntimeException | StackOverflowError e) {
                  throw MemoryCheck.explain(e, i, config.maxMemoryPages());
                }
              });
      return new Reactor(instance, wasi, streams, config.timeout(), config.maxMemoryPages());
    } catch (RuntimeException e) {
      wasi.close();
      throw e;
    }
  }

  /**
   * Resumes a reactor from captured state instead of starting it: a new instance of this sandbox's
   * module (parsed and compiled once, shared by every resumed reactor) whose linear memory comes
   * from {@code memory} (e.g. a {@code PagedMemory} branched from a snapshot's page table), whose
   * globals and tables are set from {@code instance}, and whose WASI layer starts from {@code wasi}
   * (replacing this sandbox's args, env, preopens and seed). Neither the module's start function
   * nor {@code _initialize} runs: their effects are in the state.
   *
   * @throws SandboxException if the module has a start function (instantiation would run it again)
   *     or the state does not fit the module
   */
  public Reactor resumeReactor(
      InstanceState instance, WasiState wasi, Function<MemoryLimits, Memory> memory) {
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(memory, "memory");
    if (prepared().module().startSection().isPresent()) {
      throw new SandboxException(
          "cannot resume this module: it has a start function, which "
              + "instantiation would run again over the captured memory",
          null);
    }
    GuestStreams streams = new GuestStreams(config);
    Wasi w = restore(wasi, streams);
    try {
      // No guest code runs here (no start function, no _initialize), so no watchdog thread.
      WasmModule resumed = module.resumeModule();
      Instance i = instantiate(() -> newInstance(w, resumed).withMemoryFactory(memory).build());
      InstanceStates.apply(instance, i);
      return new Reactor(i, w, streams, config.timeout(), config.maxMemoryPages());
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
  }

  /**
   * This sandbox with other limits: a per-call (reactor) or per-run timeout, a memory cap in 64 KiB
   * pages and an output cap per stream. It shares this one's parsed and compiled module (and its
   * bytes), so it costs no parse or compile: a node holds one sandbox per module and derives one
   * per request's limits.
   */
  public Sandbox withLimits(Duration timeout, int maxMemoryPages, int outputCap) {
    return derived(config.withLimits(timeout, maxMemoryPages, outputCap));
  }

  /**
   * This sandbox with {@code preopens} added after its own (guest path to directory, in order),
   * sharing its parsed and compiled module as {@link #withLimits} does: how a node gives each of n
   * sandboxes of one module directories of its own.
   */
  public Sandbox withPreopens(Map<String, Path> preopens) {
    return derived(config.withPreopens(preopens));
  }

  /** A sandbox of {@code changed} that shares this one's module, made here first. */
  private Sandbox derived(SandboxConfig changed) {
    module.resumeModule();
    return new Sandbox(changed, module);
  }

  /** The module's bytes (a copy). */
  public byte[] wasm() {
    return config.wasm().clone();
  }

  private static boolean exports(WasmModule module, String name) {
    for (int i = 0; i < module.exportSection().exportCount(); i++) {
      if (module.exportSection().getExport(i).name().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private Wasi wasi(GuestStreams streams) {
    if (config.wasiState() != null) {
      return restore(config.wasiState(), streams);
    }
    Wasi.Builder w =
        Wasi.builder()
            .args(config.args())
            .stdin(config.stdin().get())
            .stdout(streams.out)
            .stderr(streams.err);
    config.env().forEach(w::env);
    config.preopens().forEach(w::preopen);
    if (config.randomSeed() != null) {
      w.randomSeed(config.randomSeed());
    }
    return w.build();
  }

  /** A WASI layer that starts from {@code state}, over this sandbox's stdin and {@code streams}. */
  private Wasi restore(WasiState state, GuestStreams streams) {
    try {
      return Wasi.restore(state, config.stdin().get(), streams.out, streams.err);
    } catch (IOException e) {
      throw new SandboxException("cannot restore the WASI state: " + e.getMessage(), e);
    }
  }

  /**
   * Parses, links and (in compiled mode) compiles the module, running its start function and data
   * initialisation. Failures here are the module's, not a trap of running code, and say so.
   */
  private Instance instantiate(Wasi wasi) {
    return instantiate(() -> newInstance(wasi).build());
  }

  private static Instance instantiate(Supplier<Instance> instantiation) {
    try {
      return instantiation.get();
    } catch (SandboxException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      SandboxException own = Failures.find(e, SandboxException.class);
      throw own != null
          ? own
          : new SandboxException("cannot instantiate the module: " + e.getMessage(), e);
    }
  }

  private Instance.Builder newInstance(Wasi wasi) {
    return newInstance(wasi, prepared().module());
  }

  private Instance.Builder newInstance(Wasi wasi, WasmModule wasm) {
    GuestModule.Prepared p = prepared();
    HostFunction[] provided = wasi.hostFunctions();
    if (!p.hostFunctions().isEmpty() || !config.hostFunctions().isEmpty()) {
      List<HostFunction> all = new ArrayList<>(List.of(provided));
      all.addAll(p.hostFunctions());
      all.addAll(config.hostFunctions());
      provided = all.toArray(HostFunction[]::new);
    }
    Instance.Builder b =
        Instance.builder(wasm)
            .withImportValues(
                ImportValues.builder()
                    .addFunction(provided)
                    .addFunction(ImportStubs.missing(wasm, provided).toArray(HostFunction[]::new))
                    .build())
            .withStart(false);
    MemoryLimits limits = MemoryCheck.limits(wasm, config.maxMemoryPages());
    if (limits != null) {
      b.withMemoryLimits(limits);
    }
    if (config.memoryFactory() != null) {
      b.withMemoryFactory(config.memoryFactory());
    }
    if (p.machines() != null) {
      b.withMachineFactory(p.machines());
    }
    return b;
  }
}
