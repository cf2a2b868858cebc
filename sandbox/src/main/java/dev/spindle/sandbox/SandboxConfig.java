package dev.spindle.sandbox;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import dev.spindle.sandbox.wasi.WasiState;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A built sandbox's settings, frozen: changing the builder later does not change it. A derived
 * sandbox ({@link Sandbox#withLimits}, {@link Sandbox#withPreopens}) is a copy with some changed.
 */
record SandboxConfig(
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
    GuestModule.Prepared precompiled,
    List<HostFunction> hostFunctions) {

  /** This config with other limits, checked as the builder checks them. */
  SandboxConfig withLimits(Duration timeout, int maxMemoryPages, int outputCap) {
    Objects.requireNonNull(timeout);
    checkMaxMemoryPages(maxMemoryPages);
    checkOutputCap(outputCap);
    return new SandboxConfig(
        wasm,
        args,
        env,
        preopens,
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
        hostFunctions);
  }

  /** This config with {@code more} preopens after its own, in order. */
  SandboxConfig withPreopens(Map<String, Path> more) {
    Map<String, Path> all = new LinkedHashMap<>(preopens);
    all.putAll(more);
    return new SandboxConfig(
        wasm,
        args,
        env,
        Collections.unmodifiableMap(all),
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
        hostFunctions);
  }

  static int checkOutputCap(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("outputCap must be >= 0");
    }
    return bytes;
  }

  static int checkMaxMemoryPages(int pages) {
    if (pages < 0 || pages > MemoryLimits.MAX_PAGES) {
      throw new IllegalArgumentException("maxMemoryPages must be 0.." + MemoryLimits.MAX_PAGES);
    }
    return pages;
  }
}
