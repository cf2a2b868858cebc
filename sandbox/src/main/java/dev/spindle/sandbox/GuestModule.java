package dev.spindle.sandbox;

import com.dylibso.chicory.compiler.InterpreterFallback;
import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import dev.spindle.store.Hashes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * A sandbox's module parsed and, in compiled mode, compiled: made once, on first use, and shared by
 * every run and reactor of the sandbox and by the sandboxes derived from it, since compiling a
 * large guest takes seconds (~30 s for CRuby, docs/PLATFORM-FACTS.md) while instantiating is cheap.
 */
final class GuestModule {
  private final byte[] wasm;
  private final Engine engine;
  private final Path compiledCacheRoot;
  private final Prepared precompiled;
  private Prepared prepared;
  private CompiledCache compiledCache;
  private WasmModule resumeModule;
  private boolean buildTimeCompiled;

  /**
   * The parsed module and, in compiled mode, its machine factory. {@code hostFunctions}: the
   * imports beyond WASI a {@link PrecompiledModule} found by the module's hash brings.
   */
  record Prepared(
      WasmModule module, Function<Instance, Machine> machines, List<HostFunction> hostFunctions) {
    Prepared(WasmModule module, Function<Instance, Machine> machines) {
      this(module, machines, List.of());
    }
  }

  GuestModule(SandboxConfig config) {
    this.wasm = config.wasm();
    this.engine = config.engine();
    this.compiledCacheRoot = config.compiledCacheRoot();
    this.precompiled = config.precompiled();
  }

  synchronized Prepared prepared() {
    if (prepared == null && precompiled != null) {
      prepared = precompiled;
      buildTimeCompiled = true;
    }
    if (prepared == null) {
      byte[] sha256 = Hashes.sha256(wasm);
      PrecompiledModule known = PrecompiledModule.find(sha256);
      if (known != null) {
        // Compiled at build time; its bytes may hold no code to interpret or compile.
        prepared =
            new Prepared(known.module(), known.machines(), List.copyOf(known.hostFunctions()));
        buildTimeCompiled = true;
        return prepared;
      }
      boolean compiled = engine == Engine.COMPILED;
      compiledCache = compiled ? CompiledCache.ofHash(compiledCacheRoot, sha256) : null;
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
        .parse(() -> new ByteArrayInputStream(wasm));
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
  synchronized WasmModule resumeModule() {
    if (resumeModule == null) {
      Prepared p = prepared();
      resumeModule =
          buildTimeCompiled
              ? ResumeModules.withoutActiveElementInitialisers(p.module())
              : p.module();
    }
    return resumeModule;
  }

  /** The compiled-module cache entry used, or null (interpreter, cache off, not yet prepared). */
  synchronized CompiledCache compiledCache() {
    return compiledCache;
  }
}
