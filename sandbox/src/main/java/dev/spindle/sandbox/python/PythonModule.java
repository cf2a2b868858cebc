package dev.spindle.sandbox.python;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.WasmModule;
import dev.spindle.sandbox.PrecompiledModule;
import io.trino.wasm.python.PythonMachine;
import java.util.List;
import java.util.function.Function;

/**
 * trino-wasm-python's module as a {@link PrecompiledModule}: a sandbox built from its bytes alone
 * (a persisted snapshot's stored module, resumed after a restart) runs the generated machine and
 * gets the host's error callback, as one built by {@link PythonRuntime#sandbox()} does.
 */
public final class PythonModule implements PrecompiledModule {
  /** SHA-256 of {@code io/trino/wasm/python/Python.meta} in {@value PythonRuntime#ARTIFACT}. */
  public static final String SHA256 =
      "3c3735a55ed9e5f878a982a818a08032bce0edf5a5ea4c38b9bfceb0153972a2";

  /** For {@link java.util.ServiceLoader}. */
  public PythonModule() {}

  @Override
  public String sha256() {
    return SHA256;
  }

  @Override
  public WasmModule module() {
    return PythonRuntime.parsedModule();
  }

  @Override
  public Function<Instance, Machine> machines() {
    return PythonMachine::new;
  }

  @Override
  public List<HostFunction> hostFunctions() {
    return List.of(PythonRuntime.returnError());
  }
}
