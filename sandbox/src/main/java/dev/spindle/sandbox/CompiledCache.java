package dev.spindle.sandbox;

import com.dylibso.chicory.compiler.Cache;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Hashes;
import dev.spindle.store.SpindleCache;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Properties;

/**
 * Chicory's compiled classes for one module, kept on disk so that a second start skips the
 * Wasm-to-bytecode compile (~30 s for CRuby, docs/PLATFORM-FACTS.md). Chicory 1.7.5 has the seam:
 * {@code MachineFactoryCompiler.builder(module).withCache(Cache)} hands over the generated classes
 * as one jar blob after compiling and, on a hit, loads them with its own class loader instead of
 * compiling. Spindle owns where the blob lives and checks it:
 *
 * <pre>
 * &lt;root&gt;/&lt;sha256 of the module bytes&gt;/chicory-&lt;version&gt;.bin   = sha256(jar) ‖ jar
 * </pre>
 *
 * The Chicory version is in the name because the generated code calls Chicory's internals; the hash
 * prefix catches a torn or damaged file, which is then deleted and recompiled (never loaded). Files
 * are written to a temporary file, fsynced and renamed, so concurrent starts at worst compile
 * twice.
 */
final class CompiledCache implements Cache {
  private static final int HASH = 32;
  private static final String CHICORY_VERSION = chicoryVersion();

  private final Path file;
  private boolean hit;
  private boolean loaded;
  private byte[] jar;
  private IOException writeFailure;

  private CompiledCache(Path file) {
    this.file = file;
  }

  /** The cache entry for module {@code wasm} under {@code root}, or null when caching is off. */
  static CompiledCache of(Path root, byte[] wasm) {
    return ofHash(root, Hashes.sha256(wasm));
  }

  /** As {@link #of(Path, byte[])} for a module whose SHA-256 is known. */
  static CompiledCache ofHash(Path root, byte[] sha256) {
    if (root == null || CHICORY_VERSION == null) {
      return null;
    }
    return new CompiledCache(
        root.resolve(HexFormat.of().formatHex(sha256))
            .resolve("chicory-" + CHICORY_VERSION + ".bin"));
  }

  /** {@code $SPINDLE_CACHE/compiled}, else {@code ~/.cache/spindle/compiled}. */
  static Path defaultRoot() {
    return SpindleCache.root().resolve("compiled");
  }

  Path file() {
    return file;
  }

  /** The cached jar, or null when absent or damaged (a damaged file is removed). */
  @Override
  public byte[] get(String chicoryDigest) {
    try {
      byte[] jar = load();
      hit = jar != null;
      return jar;
    } catch (IOException e) {
      return null; // an unreadable entry costs a compile, never the guest
    }
  }

  /**
   * Reads and checks the entry once (later calls return the same answer). A sound entry means these
   * exact module bytes were parsed, validated and compiled before.
   */
  byte[] load() throws IOException {
    if (!loaded) {
      loaded = true;
      jar = read();
    }
    return jar;
  }

  private byte[] read() throws IOException {
    byte[] stored;
    try {
      stored = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    }
    if (stored.length > HASH) {
      byte[] body = Arrays.copyOfRange(stored, HASH, stored.length);
      if (Arrays.equals(Hashes.sha256(body), Arrays.copyOf(stored, HASH))) {
        return body;
      }
    }
    Files.deleteIfExists(file);
    return null;
  }

  /**
   * Stores the jar. A cache that cannot be written (read-only or full disk) must not fail the
   * guest, whose classes are already loaded: the next start simply compiles again.
   */
  @Override
  public void putIfAbsent(String chicoryDigest, byte[] jar) {
    try {
      if (Files.exists(file)) {
        return;
      }
      Files.createDirectories(file.getParent());
      byte[] stored = new byte[HASH + jar.length];
      System.arraycopy(Hashes.sha256(jar), 0, stored, 0, HASH);
      System.arraycopy(jar, 0, stored, HASH, jar.length);
      AtomicFiles.write(file, stored);
    } catch (IOException e) {
      writeFailure = e;
    }
  }

  /** Whether the last {@link #get} found a sound entry (the compile was skipped). */
  boolean hit() {
    return hit;
  }

  /** Why the last store failed, or null. */
  IOException writeFailure() {
    return writeFailure;
  }

  /** Chicory's compiler version from its Maven metadata (kept in a shaded jar), or null. */
  private static String chicoryVersion() {
    try (InputStream in =
        Cache.class.getResourceAsStream(
            "/META-INF/maven/com.dylibso.chicory/compiler/pom.properties")) {
      if (in == null) {
        return null;
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version");
      return v != null && v.matches("[0-9A-Za-z.+-]{1,40}") ? v : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
