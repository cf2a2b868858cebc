package dev.spindle.daemon;

import dev.spindle.client.Api.Dir;
import dev.spindle.fork.Forks;
import dev.spindle.sandbox.Sandbox;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code dirs} of a sandbox request: checked (a client names guest paths, images and kinds,
 * never a host path), then made per sandbox through the fork module, which owns how each kind
 * snapshots and branches: an image read-only (shared), an image under a private writable layer, an
 * empty private directory, or a volume the node's operator lends by name ({@link Volumes}: shared,
 * never copied).
 */
final class SandboxDirs {
  static final int MAX_DIRS = 16;
  private static final int MAX_GUEST_PATH = 256;

  private SandboxDirs() {}

  /**
   * One checked directory: {@code image} and {@code volume} null for scratch; {@code volume} the
   * volume's host directory.
   */
  record Spec(String guest, String image, boolean writable, Path volume) {}

  static List<Spec> parse(List<Dir> dirs, Volumes volumes) {
    if (dirs == null) {
      return List.of();
    }
    if (dirs.size() > MAX_DIRS) {
      throw ApiError.badRequest(
          "bad_field", "field 'dirs' holds " + dirs.size() + " directories; at most " + MAX_DIRS);
    }
    List<Spec> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < dirs.size(); i++) {
      String at = "dirs[" + i + "]";
      Dir d = dirs.get(i);
      if (d == null) {
        throw ApiError.badRequest("bad_field", "field '" + at + "' is null");
      }
      String guest = guestPath(at, d.guest());
      if (!seen.add(guest)) {
        throw ApiError.badRequest(
            "bad_field", "field '" + at + ".guest' names a directory given before");
      }
      boolean scratch = Boolean.TRUE.equals(d.scratch());
      int sources = (scratch ? 1 : 0) + (d.image() != null ? 1 : 0) + (d.volume() != null ? 1 : 0);
      if (sources != 1) {
        throw ApiError.badRequest(
            "bad_field",
            "field '"
                + at
                + "' needs exactly one of 'image' (a tag), 'scratch': true or 'volume' (a name)");
      }
      if (d.image() == null && d.writable() != null) {
        throw ApiError.badRequest(
            "bad_field",
            "field '" + at + ".writable' goes with 'image' (scratch and volumes are writable)");
      }
      if (d.volume() != null) {
        out.add(new Spec(guest, null, true, volumes.require(d.volume(), at + ".volume")));
        continue;
      }
      if (!scratch) {
        Catalog.tag(d.image(), at + ".image");
      }
      out.add(
          new Spec(
              guest,
              scratch ? null : d.image(),
              scratch || Boolean.TRUE.equals(d.writable()),
              null));
    }
    return out;
  }

  private static String guestPath(String at, String guest) {
    if (guest == null || !guest.startsWith("/") || guest.length() > MAX_GUEST_PATH) {
      throw ApiError.badRequest(
          "bad_field",
          "field '"
              + at
              + ".guest' must be an absolute path of at most "
              + MAX_GUEST_PATH
              + " characters");
    }
    if (guest.equals("/")) {
      return guest;
    }
    for (String c : guest.substring(1).split("/", -1)) {
      if (c.isEmpty() || c.equals(".") || c.equals("..") || c.indexOf('\0') >= 0) {
        throw ApiError.badRequest(
            "bad_field",
            "field '"
                + at
                + ".guest' must be a plain absolute path "
                + "(no empty, '.' or '..' component, no trailing '/')");
      }
    }
    return guest;
  }

  /**
   * The root tree id of each named image, now: every sandbox of the request gets the same files,
   * and its snapshots record them by this id.
   */
  static Map<String, String> roots(List<Spec> dirs, ImageDirOpener images) throws IOException {
    Map<String, String> roots = new HashMap<>();
    for (Spec d : dirs) {
      if (d.image() != null && !roots.containsKey(d.image())) {
        roots.put(d.image(), images.root(d.image()));
      }
    }
    return roots;
  }

  /** Starts one sandbox of {@code sandbox} with its own directories (closed again if it fails). */
  static dev.spindle.fork.Guest start(
      Forks forks, Sandbox sandbox, List<Spec> dirs, Map<String, String> roots) throws IOException {
    if (dirs.isEmpty()) {
      return forks.start(sandbox);
    }
    Map<String, Path> preopens = new LinkedHashMap<>();
    try {
      for (Spec d : dirs) {
        Path p;
        if (d.volume() != null) {
          p = d.volume(); // shared: nothing made, nothing released
        } else if (d.image() == null) {
          p = forks.privateRoot(List.of());
        } else if (d.writable()) {
          p = forks.writableImageDir(d.image(), roots.get(d.image()));
        } else {
          p = forks.imageDir(d.image(), roots.get(d.image()));
        }
        preopens.put(d.guest(), p);
      }
    } catch (IOException | RuntimeException e) {
      forks.releaseDirs(preopens.values());
      throw e;
    }
    return forks.startWithDirs(sandbox.withPreopens(preopens), preopens);
  }
}
