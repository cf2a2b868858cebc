package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.WasmModule;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A module compiled to JVM classes at build time (on the class path), found by the SHA-256 of its
 * bytes. A sandbox built from bytes alone, as the fork module builds one from a stored module to
 * resume a persisted snapshot, runs the provider's machine instead of compiling the bytes: those of
 * a build-time-compiled module may carry no code at all (trino-wasm-python's {@code Python.meta}
 * has empty function bodies). Providers are listed in {@code
 * META-INF/services/dev.spindle.sandbox.PrecompiledModule}.
 */
public interface PrecompiledModule {
  /**
   * The SHA-256 (lowercase hex) of the module bytes the classes were compiled from: a constant, so
   * that looking a module up never loads another.
   */
  String sha256();

  /** The parsed module. */
  WasmModule module();

  /** Its machine factory (the generated {@code …Machine::new}). */
  Function<Instance, Machine> machines();

  /** Imports beyond WASI the module needs (see {@link SandboxBuilder#hostFunctions}). */
  default List<HostFunction> hostFunctions() {
    return List.of();
  }

  /** The provider for module {@code wasm}, or null. */
  static PrecompiledModule find(byte[] sha256) {
    return Registry.PROVIDERS.get(HexFormat.of().formatHex(sha256));
  }

  /** The providers on the class path, loaded once. */
  final class Registry {
    static final Map<String, PrecompiledModule> PROVIDERS = load();

    private Registry() {}

    private static Map<String, PrecompiledModule> load() {
      Map<String, PrecompiledModule> m = new ConcurrentHashMap<>();
      for (PrecompiledModule p :
          ServiceLoader.load(PrecompiledModule.class, PrecompiledModule.class.getClassLoader())) {
        m.put(p.sha256(), p);
      }
      return m;
    }
  }
}
