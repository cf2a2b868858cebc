package dev.spindle.sandbox;

import dev.spindle.store.SpindleCache;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The C guests under {@code src/test/c}, compiled with clang for wasm32-wasi on first use and
 * cached as {@code ~/.cache/spindle/guests/<sha256 of source and flags>.wasm}, so a machine that
 * built them once (or CI with a warm cache) does not need clang. Without clang and without a cached
 * binary the calling test is skipped, naming the packages to install ({@code
 * sandbox/APT-PACKAGES}), or fails where the build requires clang ({@code -Dspindle.require}).
 * Public, in the module's test jar, for other modules' tests (cli).
 */
public final class Guests {
  private static final List<String> FLAGS = List.of("--target=wasm32-wasi", "-O2", "-g0");

  private Guests() {}

  public static Path command(String name) {
    return build(name, List.of());
  }

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
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(Files.readAllBytes(source));
      sha.update(String.join(" ", flags).getBytes(StandardCharsets.UTF_8));
      Path cache = SpindleCache.root().resolve("guests");
      Path wasm = cache.resolve(HexFormat.of().formatHex(sha.digest()) + ".wasm");
      if (Files.exists(wasm)) {
        return wasm;
      }
      // Only here, not on the tests: with the guest cached, clang is not needed.
      Requirements.require(Tool.CLANG);
      Files.createDirectories(cache);
      Path tmp = Files.createTempFile(cache, name, ".wasm.tmp");
      List<String> cmd = new ArrayList<>(List.of("clang"));
      cmd.addAll(flags);
      cmd.addAll(List.of("-o", tmp.toString(), source.toString()));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        Files.deleteIfExists(tmp);
        throw new IllegalStateException("clang failed for " + source + ":\n" + out);
      }
      // Publish atomically: a concurrent or interrupted build never leaves half a module.
      Files.move(tmp, wasm, StandardCopyOption.ATOMIC_MOVE);
      return wasm;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Path sources() {
    Path local = Path.of("src/test/c");
    return Files.isDirectory(local) ? local : TestFiles.findUpward("sandbox/src/test/c");
  }
}
