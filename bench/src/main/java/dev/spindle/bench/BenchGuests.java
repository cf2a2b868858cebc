package dev.spindle.bench;

import dev.spindle.store.SpindleCache;
import dev.spindle.testing.Guests;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The benchmark's C programs ({@code bench/src/main/c}), built twice from one source: for
 * wasm32-wasi with clang (the guest) and natively with {@code cc -O2} (the physical reference).
 * Builds are cached by the hash of source and command under {@code $SPINDLE_CACHE/guests/bench}, by
 * the tests' builder ({@link Guests}).
 */
final class BenchGuests {
  private final Path sources;
  private final Path cache = SpindleCache.root().resolve("guests/bench");

  BenchGuests(Path repo) {
    this.sources = repo.resolve("bench/src/main/c");
  }

  Path wasm(String name) throws IOException, InterruptedException {
    return build(name, ".wasm", List.of("clang", "--target=wasm32-wasi", "-O2", "-g0"));
  }

  /** A reactor ({@code -mexec-model=reactor}): the host calls its exports. */
  Path reactorWasm(String name) throws IOException, InterruptedException {
    return build(
        name,
        ".wasm",
        List.of("clang", "--target=wasm32-wasi", "-O2", "-g0", "-mexec-model=reactor"));
  }

  Path nativeBinary(String name) throws IOException, InterruptedException {
    return build(name, ".bin", List.of("cc", "-O2"));
  }

  private Path build(String name, String suffix, List<String> compiler)
      throws IOException, InterruptedException {
    Path source = sources.resolve(name + ".c");
    String key = Guests.key(source, compiler).substring(0, 16);
    return Guests.compile(compiler, source, cache.resolve(name + "-" + key + suffix));
  }
}
