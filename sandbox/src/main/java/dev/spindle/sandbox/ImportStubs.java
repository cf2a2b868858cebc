package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.WasmFunctionHandle;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.FunctionImport;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.Import;
import java.util.ArrayList;
import java.util.List;

/**
 * Host functions for the imports Spindle does not provide, so that a guest built for a richer host
 * still instantiates. CRuby from npm ({@code @ruby/3.4-wasm-wasi}) imports 24 functions of its
 * JavaScript bridge ({@code rb-js-abi-host.*}, {@code canonical_abi.*}) beyond WASI. Measured with
 * every stub trapping: {@code canonical_abi.resource_new_rb-abi-value} is the one reached while
 * booting and evaluating plain Ruby ({@code rb-eval-string-protect} returns its result as a host
 * handle). So a canonical-ABI {@code resource_new_*} returns handle 0 and {@code resource_drop_*}
 * does nothing (the host keeps no guest values: Spindle reads only the status word), and every
 * other stub traps with a message naming the import.
 */
final class ImportStubs {
  private ImportStubs() {}

  /** A trapping stub for every function import of {@code module} not among {@code provided}. */
  static List<HostFunction> missing(WasmModule module, HostFunction[] provided) {
    List<HostFunction> stubs = new ArrayList<>();
    for (int i = 0; i < module.importSection().importCount(); i++) {
      Import imp = module.importSection().getImport(i);
      if (imp.importType() != ExternalType.FUNCTION || isProvided(imp, provided)) {
        continue;
      }
      FunctionType type = module.typeSection().getType(((FunctionImport) imp).typeIndex());
      stubs.add(new HostFunction(imp.module(), imp.name(), type, handle(imp, type)));
    }
    return stubs;
  }

  private static WasmFunctionHandle handle(Import imp, FunctionType type) {
    boolean handleTable =
        imp.module().equals("canonical_abi")
            && (imp.name().startsWith("resource_new_") || imp.name().startsWith("resource_drop_"));
    if (handleTable) {
      long[] zeros = new long[type.returns().size()];
      return (instance, args) -> zeros.clone();
    }
    String name = imp.module() + "." + imp.name();
    return (instance, args) -> {
      throw new SandboxException(
          "the guest called import "
              + name
              + ", which Spindle does not provide (only wasi_snapshot_preview1)",
          null);
    };
  }

  private static boolean isProvided(Import imp, HostFunction[] provided) {
    for (HostFunction f : provided) {
      if (f.module().equals(imp.module()) && f.name().equals(imp.name())) {
        return true;
      }
    }
    return false;
  }
}
