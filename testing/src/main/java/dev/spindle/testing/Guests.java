package dev.spindle.testing;

import dev.spindle.store.Hashes;
import dev.spindle.store.SpindleCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * C guests compiled with clang for wasm32-wasi on first use and cached as {@code
 * $SPINDLE_CACHE/guests/<sha256 of source and flags>.wasm}, so a machine that built them once (or
 * CI with a warm cache) does not need clang. Without clang and without a cached binary the calling
 * test is skipped, naming the packages to install, or fails where the build requires clang ({@code
 * -Dspindle.require}). The sources are the module's own {@code src/test/c}, else the sandbox
 * module's.
 */
public final class Guests {
  private static final List<String> FLAGS = List.of("--target=wasm32-wasi", "-O2", "-g0");

  private Guests() {}

  /** A WASI command (has {@code _start}). */
  public static Path command(String name) {
    return build(name, List.of());
  }

  /** A WASI reactor (exports called one by one). */
  public static Path reactor(String name) {
    return build(name, List.of("-mexec-model=reactor"));
  }

  public static byte[] bytes(Path wasm) {
    try {
      return Files.readAllBytes(wasm);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static synchronized Path build(String name, List<String> extraFlags) {
    try {
      Path source = sources().resolve(name + ".c");
      List<String> flags = new ArrayList<>(FLAGS);
      flags.addAll(extraFlags);
      Path wasm = SpindleCache.root().resolve("guests").resolve(key(source, flags) + ".wasm");
      if (Files.exists(wasm)) {
        return wasm;
      }
      // Only here, not on the tests: with the guest cached, clang is not needed.
      Requirements.require(Tool.CLANG);
      List<String> clang = new ArrayList<>(List.of("clang"));
      clang.addAll(flags);
      return compile(clang, source, wasm);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The SHA-256 (hex) of {@code source}'s bytes followed by {@code words} joined by spaces: a
   * build's cache key, which changes when the source or the command does.
   */
  public static String key(Path source, List<String> words) throws IOException {
    MessageDigest sha = Hashes.sha256();
    sha.update(Files.readAllBytes(source));
    sha.update(String.join(" ", words).getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * {@code out}, built unless it exists by {@code command -o TMP source} and published atomically,
   * so a concurrent or interrupted build never leaves half a binary.
   */
  public static Path compile(List<String> command, Path source, Path out)
      throws IOException, InterruptedException {
    if (Files.exists(out)) {
      return out;
    }
    Path dir = Files.createDirectories(out.toAbsolutePath().getParent());
    Path tmp = Files.createTempFile(dir, out.getFileName().toString(), ".tmp");
    List<String> cmd = new ArrayList<>(command);
    cmd.addAll(List.of("-o", tmp.toString(), source.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      Files.deleteIfExists(tmp);
      throw new IllegalStateException(command.get(0) + " failed for " + source + ":\n" + output);
    }
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    return out;
  }

  private static Path sources() {
    Path local = Path.of("src/test/c");
    return Files.isDirectory(local) ? local : TestFiles.findUpward("sandbox/src/test/c");
  }
}
