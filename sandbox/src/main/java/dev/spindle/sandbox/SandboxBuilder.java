package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.wasi.WasiState;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
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
 * Configuration of a {@link Sandbox} ({@link Sandbox#builder(byte[])}); every setting has a safe
 * default. {@link #build()} freezes a copy, so changing the builder later changes no sandbox.
 */
public final class SandboxBuilder {
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
  private GuestModule.Prepared precompiled;
  private final List<HostFunction> hostFunctions = new ArrayList<>();

  SandboxBuilder(byte[] wasm) {
    this.wasm = wasm;
  }

  /** argv after argv[0] (which is "guest" unless {@link #argv0} changes it). */
  public SandboxBuilder args(String... args) {
    String argv0 = this.args.getFirst();
    this.args.clear();
    this.args.add(argv0);
    this.args.addAll(List.of(args));
    return this;
  }

  public SandboxBuilder argv0(String name) {
    args.set(0, name);
    return this;
  }

  public SandboxBuilder env(String key, String value) {
    env.put(key, value);
    return this;
  }

  /** The guest's stdin; each run of the sandbox reads these bytes from the start. */
  public SandboxBuilder stdin(byte[] bytes) {
    byte[] copy = bytes.clone();
    stdin = () -> new ByteArrayInputStream(copy);
    return this;
  }

  /** The guest's stdin, shared by every run of the sandbox. */
  public SandboxBuilder stdin(InputStream in) {
    Objects.requireNonNull(in);
    stdin = () -> in;
    return this;
  }

  /** Streams stdout to {@code out} instead of capturing it. */
  public SandboxBuilder stdout(OutputStream out) {
    stdout = Objects.requireNonNull(out);
    return this;
  }

  /** Streams stderr to {@code err} instead of capturing it. */
  public SandboxBuilder stderr(OutputStream err) {
    stderr = Objects.requireNonNull(err);
    return this;
  }

  /** The most bytes captured per stream; more stops the guest (default 16 MiB). */
  public SandboxBuilder outputCap(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("outputCap must be >= 0");
    }
    outputCap = bytes;
    return this;
  }

  /** Lets the guest reach host directory {@code host} as {@code guestPath}. */
  public SandboxBuilder preopen(String guestPath, Path host) {
    preopens.put(guestPath, host);
    return this;
  }

  public SandboxBuilder engine(Engine engine) {
    this.engine = Objects.requireNonNull(engine);
    return this;
  }

  /**
   * Where compiled modules are kept by the SHA-256 of their bytes, so that only the first start of
   * a module pays the compile. Default {@code $SPINDLE_CACHE/compiled}, else {@code
   * ~/.cache/spindle/compiled}.
   */
  public SandboxBuilder compiledCache(Path root) {
    compiledCacheRoot = Objects.requireNonNull(root);
    return this;
  }

  /** Compiles on every start (for measuring the compile). */
  public SandboxBuilder noCompiledCache() {
    compiledCacheRoot = null;
    return this;
  }

  /**
   * Where linear memory comes from. Default: Spindle's {@link PagedMemory}, which snapshot and
   * branch need and which runs within 1.3x of Chicory's {@code ByteArrayMemory}
   * (memory/DESIGN-NOTES.md); pass {@code ByteArrayMemory::new} to compare.
   */
  public SandboxBuilder memoryFactory(Function<MemoryLimits, Memory> factory) {
    memoryFactory = Objects.requireNonNull(factory);
    return this;
  }

  /** Wall-clock limit of a run, of reactor initialisation and of each reactor call. */
  public SandboxBuilder timeout(Duration timeout) {
    this.timeout = Objects.requireNonNull(timeout);
    return this;
  }

  /** The most 64 KiB pages the guest's memory may grow to. */
  public SandboxBuilder maxMemoryPages(int pages) {
    if (pages < 0 || pages > MemoryLimits.MAX_PAGES) {
      throw new IllegalArgumentException("maxMemoryPages must be 0.." + MemoryLimits.MAX_PAGES);
    }
    maxMemoryPages = pages;
    return this;
  }

  public SandboxBuilder randomSeed(long seed) {
    randomSeed = seed;
    return this;
  }

  /**
   * Starts the guest's WASI layer from a captured state (open files at their offsets, clocks,
   * random stream) instead of from args, env, preopens and seed, which it replaces.
   */
  public SandboxBuilder wasiState(WasiState state) {
    wasiState = Objects.requireNonNull(state);
    return this;
  }

  /**
   * Runs {@code module} with {@code machines}, a machine factory compiled ahead of time (e.g. by
   * Chicory's build-time compiler into classes on the class path), instead of parsing and compiling
   * this builder's bytes. The bytes still name the module (its SHA-256 keys snapshots and the
   * module store) and must be the module the machines were compiled from; the engine and
   * compiled-module cache settings do not apply.
   */
  public SandboxBuilder precompiled(WasmModule module, Function<Instance, Machine> machines) {
    precompiled =
        new GuestModule.Prepared(Objects.requireNonNull(module), Objects.requireNonNull(machines));
    return this;
  }

  /**
   * Host functions the module imports beyond WASI (e.g. an embedding's error callback). A function
   * is shared by every instance of the sandbox, resumed reactors included: it tells them apart by
   * the {@code Instance} it is called with.
   */
  public SandboxBuilder hostFunctions(HostFunction... functions) {
    hostFunctions.addAll(List.of(functions));
    return this;
  }

  /** An unmodifiable copy that keeps insertion order (the guest sees env in this order). */
  private static <V> Map<String, V> ordered(Map<String, V> map) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }

  public Sandbox build() {
    return new Sandbox(
        new SandboxConfig(
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
