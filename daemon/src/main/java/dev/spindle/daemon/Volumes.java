package dev.spindle.daemon;

import dev.spindle.fork.VolumeDirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The host directories this node's operator lends sandboxes ({@code --volume NAME=DIR}), which API
 * clients name and never path: {@code "dirs": [{"guest": "/shared", "volume": "NAME"}]}. A volume
 * is shared, never copied: every sandbox naming it, its branches included, reads and writes the one
 * directory; a snapshot records it by name (a branch opens the directory the node names so then,
 * and is refused by a node without it); a remote fork refuses a sandbox holding one. Each directory
 * is resolved once, at start ({@code toRealPath}); below it the WASI layer follows no link ({@code
 * openat2} with {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}), so nothing a guest or anyone writes
 * there leads out of it.
 */
final class Volumes implements VolumeDirs {
  static final int MAX_VOLUMES = 64;
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");

  /** By name, each a real directory. */
  private final Map<String, Path> dirs;

  private Volumes(Map<String, Path> dirs) {
    this.dirs = Map.copyOf(dirs);
  }

  static Volumes none() {
    return new Volumes(Map.of());
  }

  /**
   * The operator's {@code --volume} values, {@code NAME=DIR}, in order: names unique and plain (a
   * to z, digits, {@code _.-}), each directory absolute and existing.
   */
  static Map<String, Path> parse(List<String> specs) {
    Map<String, Path> out = new LinkedHashMap<>();
    if (specs.size() > MAX_VOLUMES) {
      throw new IllegalArgumentException("--volume: at most " + MAX_VOLUMES + " volumes");
    }
    for (String s : specs) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--volume " + s + ": expected NAME=DIR");
      }
      String name = s.substring(0, eq);
      String dir = s.substring(eq + 1);
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "--volume "
                + s
                + ": a name is 1-64 of a-z, 0-9, '_', '.', '-' (starting with a letter or digit)");
      }
      if (dir.endsWith(":ro")) {
        throw new IllegalArgumentException(
            "--volume "
                + s
                + ": read-only volumes are not supported yet (the guest would write through)");
      }
      Path p = Path.of(dir);
      if (!p.isAbsolute()) {
        throw new IllegalArgumentException("--volume " + s + ": DIR must be an absolute path");
      }
      if (out.put(name, p) != null) {
        throw new IllegalArgumentException("--volume " + name + " is given twice");
      }
    }
    return out;
  }

  /**
   * The volumes {@code given}, each resolved to its real directory, none inside the node's home or
   * holding it (a guest must not reach the node's token, keys or other sandboxes' files).
   */
  static Volumes of(Map<String, Path> given, Path home) {
    Path realHome;
    try {
      realHome = home.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException("the node's home " + home + " is not a directory", e);
    }
    Map<String, Path> out = new LinkedHashMap<>();
    for (Map.Entry<String, Path> e : given.entrySet()) {
      String at = "--volume " + e.getKey() + "=" + e.getValue();
      Path real;
      try {
        real = e.getValue().toRealPath();
      } catch (IOException x) {
        throw new IllegalArgumentException(at + ": not a directory on this host", x);
      }
      if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalArgumentException(at + ": not a directory");
      }
      if (real.startsWith(realHome) || realHome.startsWith(real)) {
        throw new IllegalArgumentException(
            at + ": overlaps the node's home " + realHome + " (its keys, token and sandboxes)");
      }
      for (Map.Entry<String, Path> o : out.entrySet()) {
        if (real.startsWith(o.getValue()) || o.getValue().startsWith(real)) {
          throw new IllegalArgumentException(at + ": overlaps volume " + o.getKey());
        }
      }
      out.put(e.getKey(), real);
    }
    return new Volumes(out);
  }

  @Override
  public Path path(String name) {
    return dirs.get(name);
  }

  @Override
  public String nameOf(Path host) {
    if (host.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return null;
    }
    for (Map.Entry<String, Path> e : dirs.entrySet()) {
      if (e.getValue().equals(host)) {
        return e.getKey();
      }
    }
    return null;
  }

  /** Volume {@code name}'s directory, or a 400 naming {@code field}. */
  Path require(String name, String field) {
    Path p = name == null ? null : dirs.get(name);
    if (p == null) {
      throw ApiError.badRequest(
          "unknown_volume",
          "field '"
              + field
              + "' names no volume of this node"
              + (dirs.isEmpty()
                  ? " (it has none: its operator names them with --volume NAME=DIR)"
                  : " (it has: "
                      + String.join(", ", new java.util.TreeSet<>(dirs.keySet()))
                      + ")"));
    }
    return p;
  }
}
