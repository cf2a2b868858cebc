package dev.spindle.sandbox;

import com.dylibso.chicory.compiler.InterpreterFallback;
import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.wasi.Wasi;
import dev.spindle.sandbox.wasi.WasiExit;
import dev.spindle.sandbox.wasi.WasiState;
import dev.spindle.store.Hashes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
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
  private final Config config;
  private Prepared prepared;
  private CompiledCache compiledCache;
  private WasmModule resumeModule;
  private boolean buildTimeCompiled;

  private Sandbox(Config config) {
    this.config = config;
  }

  /**
   * The parsed module and, in compiled mode, its machine factory: made once per sandbox and shared
   * by all its runs and reactors, since compiling a large guest takes seconds (~30 s for CRuby,
   * docs/PLATFORM-FACTS.md) while instantiating is cheap. {@code hostFunctions}: the imports beyond
   * WASI a {@link PrecompiledModule} found by the module's hash brings.
   */
  record Prepared(
      WasmModule module, Function<Instance, Machine> machines, List<HostFunction> hostFunctions) {
    Prepared(WasmModule module, Function<Instance, Machine> machines) {
      this(module, machines, List.of());
    }
  }

  synchronized Prepared prepared() {
    if (prepared == null && config.precompiled() != null) {
      prepared = config.precompiled();
      buildTimeCompiled = true;
    }
    if (prepared == null) {
      byte[] sha256 = Hashes.sha256(config.wasm());
      PrecompiledModule known = PrecompiledModule.find(sha256);
      if (known != null) {
        // Compiled at build time; its bytes may hold no code to interpret or compile.
        prepared =
            new Prepared(known.module(), known.machines(), List.copyOf(known.hostFunctions()));
        buildTimeCompiled = true;
        return prepared;
      }
      boolean compiled = config.engine() == Engine.COMPILED;
      compiledCache = compiled ? CompiledCache.ofHash(config.compiledCacheRoot(), sha256) : null;
      WasmModule module = parse(compiledCache != null && cachedCompileOf(compiledCache));
      prepared = new Prepared(module, compiled ? compile(module) : null);
    }
    return prepared;
  }

  /**
   * Validation is skipped for bytes the cache says were validated and compiled before (their
   * SHA-256 names the entry): it is half of parsing CRuby's 30 MB module (fresh JVM, 2026-11-24:
   * 5.8-6.1 s with, 2.8-3.2 s without). Trusting the entry adds no trust: it holds bytecode the JVM
   * runs.
   */
  private WasmModule parse(boolean validatedBefore) {
    return Parser.builder()
        .withValidation(!validatedBefore)
        .build()
        .parse(() -> new ByteArrayInputStream(config.wasm()));
  }

  private static boolean cachedCompileOf(CompiledCache cache) {
    try {
      return cache.load() != null;
    } catch (IOException e) {
      return false; // unreadable cache: validate and compile as if absent
    }
  }

  /** Compiles to JVM bytecode, or loads the classes a previous compile of the same bytes left. */
  private Function<Instance, Machine> compile(WasmModule module) {
    // Functions too large for one JVM method run in Chicory's interpreter (4 of CRuby's, its
    // VM loop among them). Chicory would print a warning per function to the host's stderr,
    // which `spindle run` shares with the guest's, so the fallback is silent.
    MachineFactoryCompiler.Builder compiler =
        MachineFactoryCompiler.builder(module).withInterpreterFallback(InterpreterFallback.SILENT);
    if (compiledCache != null) {
      compiler.withCache(compiledCache);
    }
    return compiler.compile();
  }

  /**
   * The module resumed reactors are instantiated from, made once: for a module compiled at build
   * time, one without active element initialisers ({@link ResumeModules}); otherwise the module
   * itself, because the machine factory Chicory compiles at run time refuses an instance of any
   * other module object ("Instance module does not match factory module").
   */
  private synchronized WasmModule resumeModule() {
    if (resumeModule == null) {
      Prepared p = prepared();
      resumeModule =
          buildTimeCompiled
              ? ResumeModules.withoutActiveElementInitialisers(p.module())
              : p.module();
    }
    return resumeModule;
  }

  /** The compiled-module cache entry this sandbox used, or null (interpreter, cache off). */
  synchronized CompiledCache compiledCache() {
    return compiledCache;
  }

  /** A built sandbox's settings, frozen: changing the builder later does not change it. */
  private record Config(
      byte[] wasm,
      List<String> args,
      Map<String, String> env,
      Map<String, Path> preopens,
      Supplier<InputStream> stdin,
      OutputStream stdout,
      OutputStream stderr,
      int outputCap,
      Engine engine,
      Path compiledCacheRoot,
      Function<MemoryLimits, Memory> memoryFactory,
      Duration timeout,
      int maxMemoryPages,
      Long randomSeed,
      WasiState wasiState,
      Prepared precompiled,
      List<HostFunction> hostFunctions) {}

  public static Builder builder(byte[] wasm) {
    return new Builder(wasm.clone());
  }

  public static Builder builder(Path wasm) throws IOException {
    return new Builder(Files.readAllBytes(wasm));
  }

  /**
   * Runs a command module's {@code _start}.
   *
   * @return the exit code and captured output
   * @throws SandboxLimitException if the guest hit the timeout, memory or output limit
   * @throws SandboxException if the guest trapped or could not be instantiated
   */
  public RunResult run() {
    Streams streams = new Streams(config);
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
    Streams streams = new Streams(config);
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
    Streams streams = new Streams(config);
    Wasi w;
    try {
      w = Wasi.restore(wasi, config.stdin().get(), streams.out, streams.err);
    } catch (IOException e) {
      throw new SandboxException("cannot restore the WASI state: " + e.getMessage(), e);
    }
    try {
      // No guest code runs here (no start function, no _initialize), so no watchdog thread.
      WasmModule module = resumeModule();
      Instance i = instantiate(() -> newInstance(w, module).withMemoryFactory(memory).build());
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
    Config c = config;
    Builder check =
        new Builder(new byte[0])
            .timeout(timeout)
            .maxMemoryPages(maxMemoryPages)
            .outputCap(outputCap);
    Sandbox s =
        new Sandbox(
            new Config(
                c.wasm(),
                c.args(),
                c.env(),
                c.preopens(),
                c.stdin(),
                c.stdout(),
                c.stderr(),
                check.outputCap,
                c.engine(),
                c.compiledCacheRoot(),
                c.memoryFactory(),
                check.timeout,
                check.maxMemoryPages,
                c.randomSeed(),
                c.wasiState(),
                c.precompiled(),
                c.hostFunctions()));
    synchronized (this) {
      // Made here first, so that every sandbox derived from this one shares them.
      resumeModule();
      s.prepared = prepared;
      s.compiledCache = compiledCache;
      s.resumeModule = resumeModule;
      s.buildTimeCompiled = buildTimeCompiled;
    }
    return s;
  }

  /**
   * This sandbox with {@code preopens} added after its own (guest path to directory, in order),
   * sharing its parsed and compiled module as {@link #withLimits} does: how a node gives each of n
   * sandboxes of one module directories of its own.
   */
  public Sandbox withPreopens(Map<String, Path> preopens) {
    Config c = config;
    Map<String, Path> all = new LinkedHashMap<>(c.preopens());
    all.putAll(preopens);
    Sandbox s =
        new Sandbox(
            new Config(
                c.wasm(),
                c.args(),
                c.env(),
                java.util.Collections.unmodifiableMap(all),
                c.stdin(),
                c.stdout(),
                c.stderr(),
                c.outputCap(),
                c.engine(),
                c.compiledCacheRoot(),
                c.memoryFactory(),
                c.timeout(),
                c.maxMemoryPages(),
                c.randomSeed(),
                c.wasiState(),
                c.precompiled(),
                c.hostFunctions()));
    synchronized (this) {
      resumeModule();
      s.prepared = prepared;
      s.compiledCache = compiledCache;
      s.resumeModule = resumeModule;
      s.buildTimeCompiled = buildTimeCompiled;
    }
    return s;
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

  private Wasi wasi(Streams streams) {
    if (config.wasiState() != null) {
      try {
        return Wasi.restore(config.wasiState(), config.stdin().get(), streams.out, streams.err);
      } catch (IOException e) {
        throw new SandboxException("cannot restore the WASI state: " + e.getMessage(), e);
      }
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

  private Instance.Builder newInstance(Wasi wasi, WasmModule module) {
    Prepared p = prepared();
    HostFunction[] provided = wasi.hostFunctions();
    if (!p.hostFunctions().isEmpty() || !config.hostFunctions().isEmpty()) {
      List<HostFunction> all = new ArrayList<>(List.of(provided));
      all.addAll(p.hostFunctions());
      all.addAll(config.hostFunctions());
      provided = all.toArray(HostFunction[]::new);
    }
    Instance.Builder b =
        Instance.builder(module)
            .withImportValues(
                ImportValues.builder()
                    .addFunction(provided)
                    .addFunction(ImportStubs.missing(module, provided).toArray(HostFunction[]::new))
                    .build())
            .withStart(false);
    MemoryLimits limits = MemoryCheck.limits(module, config.maxMemoryPages());
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

  /** The guest's stdio: captured (capped) or the caller's streams. */
  static final class Streams {
    final OutputStream out;
    final OutputStream err;

    Streams(Config config) {
      out =
          config.stdout() != null
              ? config.stdout()
              : new CappedOutput("stdout", config.outputCap());
      err =
          config.stderr() != null
              ? config.stderr()
              : new CappedOutput("stderr", config.outputCap());
    }

    byte[] stdout() {
      return out instanceof CappedOutput c ? c.toByteArray() : new byte[0];
    }

    byte[] stderr() {
      return err instanceof CappedOutput c ? c.toByteArray() : new byte[0];
    }

    byte[] takeStdout() {
      return out instanceof CappedOutput c ? c.take() : new byte[0];
    }

    byte[] takeStderr() {
      return err instanceof CappedOutput c ? c.take() : new byte[0];
    }
  }

  /** Configuration of a sandbox; every setting has a safe default. */
  public static final class Builder {
    private final byte[] wasm;
    private final List<String> args = new ArrayList<>(List.of("guest"));
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, Path> preopens = new LinkedHashMap<>();
    private Supplier<InputStream> stdin = InputStream::nullInputStream;
    private OutputStream stdout;
    private OutputStream stderr;
    private int outputCap = 16 << 20;
    private Engine engine = Engine.COMPILED;
    private Path compiledCacheRoot = CompiledCache.defaultRoot();
    private Function<MemoryLimits, Memory> memoryFactory = PagedMemory::new;
    private Duration timeout = Duration.ofMinutes(5);
    private int maxMemoryPages = MemoryLimits.MAX_PAGES;
    private Long randomSeed;
    private WasiState wasiState;
    private Prepared precompiled;
    private final List<HostFunction> hostFunctions = new ArrayList<>();

    private Builder(byte[] wasm) {
      this.wasm = wasm;
    }

    /** argv after argv[0] (which is "guest" unless {@link #argv0} changes it). */
    public Builder args(String... args) {
      String argv0 = this.args.getFirst();
      this.args.clear();
      this.args.add(argv0);
      this.args.addAll(List.of(args));
      return this;
    }

    public Builder argv0(String name) {
      args.set(0, name);
      return this;
    }

    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    /** The guest's stdin; each run of the sandbox reads these bytes from the start. */
    public Builder stdin(byte[] bytes) {
      byte[] copy = bytes.clone();
      stdin = () -> new ByteArrayInputStream(copy);
      return this;
    }

    /** The guest's stdin, shared by every run of the sandbox. */
    public Builder stdin(InputStream in) {
      Objects.requireNonNull(in);
      stdin = () -> in;
      return this;
    }

    /** Streams stdout to {@code out} instead of capturing it. */
    public Builder stdout(OutputStream out) {
      stdout = Objects.requireNonNull(out);
      return this;
    }

    /** Streams stderr to {@code err} instead of capturing it. */
    public Builder stderr(OutputStream err) {
      stderr = Objects.requireNonNull(err);
      return this;
    }

    /** The most bytes captured per stream; more stops the guest (default 16 MiB). */
    public Builder outputCap(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("outputCap must be >= 0");
      }
      outputCap = bytes;
      return this;
    }

    /** Lets the guest reach host directory {@code host} as {@code guestPath}. */
    public Builder preopen(String guestPath, Path host) {
      preopens.put(guestPath, host);
      return this;
    }

    public Builder engine(Engine engine) {
      this.engine = Objects.requireNonNull(engine);
      return this;
    }

    /**
     * Where compiled modules are kept by the SHA-256 of their bytes, so that only the first start
     * of a module pays the compile. Default {@code $SPINDLE_CACHE/compiled}, else {@code
     * ~/.cache/spindle/compiled}.
     */
    public Builder compiledCache(Path root) {
      compiledCacheRoot = Objects.requireNonNull(root);
      return this;
    }

    /** Compiles on every start (for measuring the compile). */
    public Builder noCompiledCache() {
      compiledCacheRoot = null;
      return this;
    }

    /**
     * Where linear memory comes from. Default: Spindle's {@link PagedMemory}, which snapshot and
     * branch need and which runs within 1.3x of Chicory's {@code ByteArrayMemory}
     * (memory/DESIGN-NOTES.md); pass {@code ByteArrayMemory::new} to compare.
     */
    public Builder memoryFactory(Function<MemoryLimits, Memory> factory) {
      memoryFactory = Objects.requireNonNull(factory);
      return this;
    }

    /** Wall-clock limit of a run, of reactor initialisation and of each reactor call. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout);
      return this;
    }

    /** The most 64 KiB pages the guest's memory may grow to. */
    public Builder maxMemoryPages(int pages) {
      if (pages < 0 || pages > MemoryLimits.MAX_PAGES) {
        throw new IllegalArgumentException("maxMemoryPages must be 0.." + MemoryLimits.MAX_PAGES);
      }
      maxMemoryPages = pages;
      return this;
    }

    public Builder randomSeed(long seed) {
      randomSeed = seed;
      return this;
    }

    /**
     * Starts the guest's WASI layer from a captured state (open files at their offsets, clocks,
     * random stream) instead of from args, env, preopens and seed, which it replaces.
     */
    public Builder wasiState(WasiState state) {
      wasiState = Objects.requireNonNull(state);
      return this;
    }

    /**
     * Runs {@code module} with {@code machines}, a machine factory compiled ahead of time (e.g. by
     * Chicory's build-time compiler into classes on the class path), instead of parsing and
     * compiling this builder's bytes. The bytes still name the module (its SHA-256 keys snapshots
     * and the module store) and must be the module the machines were compiled from; the engine and
     * compiled-module cache settings do not apply.
     */
    public Builder precompiled(WasmModule module, Function<Instance, Machine> machines) {
      precompiled = new Prepared(Objects.requireNonNull(module), Objects.requireNonNull(machines));
      return this;
    }

    /**
     * Host functions the module imports beyond WASI (e.g. an embedding's error callback). A
     * function is shared by every instance of the sandbox, resumed reactors included: it tells them
     * apart by the {@code Instance} it is called with.
     */
    public Builder hostFunctions(HostFunction... functions) {
      hostFunctions.addAll(List.of(functions));
      return this;
    }

    /** An unmodifiable copy that keeps insertion order (the guest sees env in this order). */
    private static <V> Map<String, V> ordered(Map<String, V> map) {
      return Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    public Sandbox build() {
      return new Sandbox(
          new Config(
              wasm,
              List.copyOf(args),
              ordered(env),
              ordered(preopens),
              stdin,
              stdout,
              stderr,
              outputCap,
              engine,
              compiledCacheRoot,
              memoryFactory,
              timeout,
              maxMemoryPages,
              randomSeed,
              wasiState,
              precompiled,
              List.copyOf(hostFunctions)));
    }
  }
}
