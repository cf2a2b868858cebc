package dev.spindle.daemon;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
 * The C guests under {@code src/test/c}, built by clang for wasm32-wasi and cached by the hash of
 * source and flags in {@code ~/.cache/spindle/guests/} (the sandbox module's scheme, so the cache
 * is shared). Without clang or a cached binary the calling test is skipped.
 */
final class TestGuests {
  private TestGuests() {}

  static byte[] reactor(String name) throws Exception {
    return Files.readAllBytes(build(name, List.of("-mexec-model=reactor")));
  }

  static byte[] command(String name) throws Exception {
    return Files.readAllBytes(build(name, List.of()));
  }

  static synchronized Path build(String name, List<String> extra) throws Exception {
    Path source = Path.of("src/test/c", name + ".c");
    List<String> flags = new ArrayList<>(List.of("--target=wasm32-wasi", "-O2", "-g0"));
    flags.addAll(extra);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(Files.readAllBytes(source));
    sha.update(String.join(" ", flags).getBytes(StandardCharsets.UTF_8));
    Path cache = Path.of(System.getProperty("user.home"), ".cache", "spindle", "guests");
    Path wasm = cache.resolve(HexFormat.of().formatHex(sha.digest()) + ".wasm");
    if (Files.exists(wasm)) {
      return wasm;
    }
    assumeTrue(clang(), "clang not found: apt-get install -y $(cat sandbox/APT-PACKAGES) to build the test guests");
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
    Files.move(tmp, wasm, StandardCopyOption.ATOMIC_MOVE);
    return wasm;
  }

  private static boolean clang() {
    try {
      Process p = new ProcessBuilder("clang", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
