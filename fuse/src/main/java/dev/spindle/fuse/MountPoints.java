package dev.spindle.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The mount table of this process, and unmounting by mount point. */
public final class MountPoints {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  private MountPoints() {}

  /** The mount points of this mount namespace, decoded ({@code \040} is a space). */
  public static List<Path> list() throws IOException {
    List<Path> out = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
      String[] f = line.split(" ");
      if (f.length > 4) {
        out.add(Path.of(decode(f[4])));
      }
    }
    return out;
  }

  /**
   * Spindle's own FUSE mounts in this namespace (file system type {@code fuse.spindle}, from the
   * {@code subtype=spindle} mount option), alive or not.
   */
  public static List<Path> spindleMounts() throws IOException {
    List<Path> out = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
      int sep = line.indexOf(" - ");
      String[] f = line.split(" ");
      if (sep > 0 && f.length > 4 && line.substring(sep + 3).startsWith("fuse.spindle ")) {
        out.add(Path.of(decode(f[4])));
      }
    }
    return out;
  }

  /**
   * Whether the process serving a FUSE mount is gone: the kernel then answers every access with
   * ENOTCONN ("Transport endpoint is not connected") until the mount is removed.
   */
  public static boolean isStale(Path dir) {
    // Not stat: a mount's attributes are cached by the kernel for a day (kernel_cache, long
    // attr_timeout), so stat can succeed on a dead mount. Opening the directory always asks the
    // server.
    try (var entries = Files.newDirectoryStream(dir)) {
      var _ = entries.iterator().hasNext();
      return false;
    } catch (IOException | java.io.UncheckedIOException e) {
      return String.valueOf(e.getMessage()).contains("Transport endpoint is not connected")
          || String.valueOf(e.getCause()).contains("Transport endpoint is not connected");
    }
  }

  public static boolean isMounted(Path dir) throws IOException {
    return list().contains(dir.toAbsolutePath().normalize());
  }

  /** Unmounts a FUSE mount the way an unprivileged user can: {@code fusermount3 -u DIR}. */
  public static void unmountFuse(Path dir) throws IOException {
    SystemCommand.run(
        List.of("fusermount3", "-u", dir.toString()),
        "fusermount3 failed to unmount " + dir,
        "fusermount3 not found: apt-get install fuse3");
  }

  /** Unmounts any mount ({@code umount DIR}); root only. */
  public static void unmount(Path dir) throws IOException {
    SystemCommand.run(
        List.of("umount", dir.toString()),
        "umount failed to unmount " + dir,
        "umount not found: apt-get install mount");
  }

  private static String decode(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
