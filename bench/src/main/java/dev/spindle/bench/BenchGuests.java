package dev.spindle.bench;

import dev.spindle.store.Hashes;
import dev.spindle.store.SpindleCache;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The benchmark's C programs ({@code bench/src/main/c}), built twice from one source: for
 * wasm32-wasi with clang (the guest) and natively with {@code cc -O2} (the physical reference).
 * Builds are cached by the hash of source and command under {@code ~/.cache/spindle/guests/bench}.
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
    Path out =
        cache.resolve(
            name + "-" + hash(Files.readAllBytes(source), String.join(" ", compiler)) + suffix);
    if (Files.exists(out)) {
      return out;
    }
    Files.createDirectories(cache);
    Path tmp = Files.createTempFile(cache, name, ".tmp");
    List<String> cmd = new ArrayList<>(compiler);
    cmd.addAll(List.of("-o", tmp.toString(), source.toString()));
    Cmd.run(sources, cmd);
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    return out;
  }

  private static String hash(byte[] source, String command) {
    MessageDigest sha = Hashes.sha256();
    sha.update(source);
    sha.update(command.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
  }
}
