package dev.spindle.fork;

import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Hashes;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Wasm modules by SHA-256 under {@code $SPINDLE_HOME/modules/<sha256>.wasm}, so a snapshot names
 * its module by hash (in {@code state.json}) and every snapshot of one module, chains included,
 * shares one copy. Written atomically; checked against its name when read.
 */
final class ModuleStore {
  private final Path root;

  ModuleStore(SpindleHome home) {
    this.root = home.modules();
  }

  static String sha256(byte[] wasm) {
    return Hashes.sha256Hex(wasm);
  }

  private Path path(String sha256) {
    return root.resolve(sha256 + ".wasm");
  }

  /** Whether a module with this hash is stored (not checked: {@link #get} checks). */
  boolean has(String sha256) {
    return Files.isRegularFile(path(sha256));
  }

  /** Stores the module unless a module with this hash is already stored. */
  void put(String sha256, byte[] wasm) throws IOException {
    Path p = path(sha256);
    if (Files.isRegularFile(p)) {
      return;
    }
    Files.createDirectories(root);
    AtomicFiles.write(p, wasm);
  }

  /** The module with this hash; a file that does not hash to its name is refused. */
  byte[] get(String sha256) throws IOException {
    Path p = path(sha256);
    if (!Files.isRegularFile(p)) {
      throw new NoSuchFileException(
          p.toString(), null, "the snapshot's module is not in the store");
    }
    byte[] wasm = Files.readAllBytes(p);
    String actual = sha256(wasm);
    if (!actual.equals(sha256)) {
      throw new SnapshotDamagedException(p + ": content hashes to " + actual + ", not its name");
    }
    return wasm;
  }
}
