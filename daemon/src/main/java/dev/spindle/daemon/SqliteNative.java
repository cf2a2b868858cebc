package dev.spindle.daemon;

import dev.spindle.store.AtomicFiles;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.sqlite.util.OSInfo;

/**
 * sqlite-jdbc's native library, copied out of the jar once into the cache directory and loaded from
 * there. Left to itself the driver copies it into {@code /tmp} on every start under a new name,
 * re-opening the 50 MB jar twice to compare the copy byte by byte, after listing all of {@code
 * /tmp} for older copies to delete: a third of a node's start on this machine (1.3 s of 2.6 s under
 * load, with the AOT cache). Here: one read of the library from the already open jar, one of the
 * copy, compared in bulk; a copy that differs is written again.
 */
final class SqliteNative {
  private static final String PATH = "org.sqlite.lib.path";
  private static final String NAME = "org.sqlite.lib.name";
  private static final String TMPDIR = "org.sqlite.tmpdir";

  private SqliteNative() {}

  /**
   * Points the driver at the copy under {@code cacheRoot} (made when missing or different), unless
   * the operator named a library already. Any failure leaves the driver to its own extraction: only
   * slower.
   */
  static synchronized void prepare(Path cacheRoot) {
    if (System.getProperty(PATH) != null || System.getProperty(NAME) != null) {
      return;
    }
    try {
      Optional<Path> lib = extract(cacheRoot);
      if (lib.isEmpty()) {
        return;
      }
      Path dir = lib.get().getParent();
      System.setProperty(PATH, dir.toString());
      System.setProperty(NAME, lib.get().getFileName().toString());
      // The driver still lists this directory for stale copies of its own ("sqlite-<version>-…"):
      // ours, with a handful of entries, instead of /tmp.
      if (System.getProperty(TMPDIR) == null) {
        System.setProperty(TMPDIR, dir.toString());
      }
    } catch (IOException | RuntimeException e) {
      // the driver extracts it itself
    }
  }

  /**
   * The library for this platform under {@code cacheRoot/native/sqlite-<sha256 prefix>/}, written
   * there if missing or not the jar's bytes; empty when the jar has none for this platform.
   */
  static Optional<Path> extract(Path cacheRoot) throws IOException {
    String name = System.mapLibraryName("sqlitejdbc");
    String resource =
        "/org/sqlite/native/" + OSInfo.getNativeLibFolderPathForCurrentOS() + "/" + name;
    byte[] lib;
    try (InputStream in = org.sqlite.JDBC.class.getResourceAsStream(resource)) {
      if (in == null) {
        return Optional.empty();
      }
      lib = in.readAllBytes();
    }
    Path file =
        cacheRoot
            .resolve("native")
            .resolve("sqlite-" + Hashes.sha256Hex(lib).substring(0, 16))
            .resolve(name);
    if (!sameBytes(file, lib)) {
      AtomicFiles.write(file, lib);
    }
    return Optional.of(file);
  }

  private static boolean sameBytes(Path file, byte[] expected) throws IOException {
    if (!Files.isRegularFile(file) || Files.size(file) != expected.length) {
      return false;
    }
    return Arrays.equals(Files.readAllBytes(file), expected);
  }
}
