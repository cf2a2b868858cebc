package dev.spindle.daemon;

import dev.spindle.store.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;
import org.sqlite.util.OSInfo;

/**
 * sqlite-jdbc's native library, copied out of the jar once into the cache directory and loaded from
 * there. Left to itself the driver copies it into {@code /tmp} on every start under a new name,
 * re-opening the 50 MB jar twice to compare the copy byte by byte, after listing all of {@code
 * /tmp} for older copies to delete: a third of a node's start on this machine (1.3 s of 2.6 s under
 * load, with the AOT cache). Here: one read of the copy, checked against the CRC-32 the jar's
 * directory records; a copy that differs is written again.
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
   * The library for this platform under {@code cacheRoot/native/sqlite-<crc32>-<size>/}, written
   * there if missing or not the jar's bytes; empty when the jar has none for this platform.
   *
   * <p>The jar's directory names the entry's CRC-32 and size, so a start that finds its copy reads
   * that copy once (a CRC-32 of ~1 MB) and inflates nothing. A CRC-32 finds a damaged or truncated
   * copy, which is what can happen to a file in a cache; whoever can write the cache on purpose can
   * write the jar beside it too.
   */
  static Optional<Path> extract(Path cacheRoot) throws IOException {
    String name = System.mapLibraryName("sqlitejdbc");
    String resource = "/org/sqlite/native/" + folder() + "/" + name;
    URL url = org.sqlite.JDBC.class.getResource(resource);
    if (url == null) {
      return Optional.empty();
    }
    long crc = -1;
    long size = -1;
    URLConnection c = url.openConnection();
    if (c instanceof JarURLConnection jar) {
      JarEntry e = jar.getJarEntry();
      crc = e.getCrc();
      size = e.getSize();
    }
    byte[] lib = null;
    if (crc < 0 || size < 0) {
      lib = read(url);
      crc = crc32(lib);
      size = lib.length;
    }
    Path file =
        cacheRoot
            .resolve("native")
            .resolve("sqlite-" + Long.toHexString(crc) + "-" + size)
            .resolve(name);
    if (!matches(file, crc, size)) {
      if (lib == null) {
        lib = read(url);
      }
      if (lib.length != size || crc32(lib) != crc) {
        throw new IOException(resource + ": the jar's bytes do not match its directory's CRC-32");
      }
      AtomicFiles.write(file, lib);
    }
    return Optional.of(file);
  }

  /**
   * The driver's folder for this platform. The driver's own {@code OSInfo} costs ~45 ms (it lists
   * the process's mappings to tell musl from glibc), a sixth of a node's start; the platforms the
   * node runs on are named here and anything else asks it.
   */
  static String folder() {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "");
    String a =
        switch (arch) {
          case "amd64", "x86_64" -> "x86_64";
          case "aarch64" -> "aarch64";
          default -> null;
        };
    if (os.equals("Linux") && a != null) {
      // musl's dynamic loader sits at this path on every musl system (Alpine among them).
      boolean musl = Files.exists(Path.of("/lib/ld-musl-" + a + ".so.1"));
      return (musl ? "Linux-Musl/" : "Linux/") + a;
    }
    return OSInfo.getNativeLibFolderPathForCurrentOS();
  }

  private static byte[] read(URL url) throws IOException {
    try (InputStream in = url.openStream()) {
      return in.readAllBytes();
    }
  }

  private static long crc32(byte[] b) {
    CRC32 c = new CRC32();
    c.update(b);
    return c.getValue();
  }

  private static boolean matches(Path file, long crc, long size) throws IOException {
    if (!Files.isRegularFile(file) || Files.size(file) != size) {
      return false;
    }
    return crc32(Files.readAllBytes(file)) == crc;
  }
}
