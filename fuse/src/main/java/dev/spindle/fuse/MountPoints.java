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

  public static boolean isMounted(Path dir) throws IOException {
    return list().contains(dir.toAbsolutePath().normalize());
  }

  /** Unmounts a FUSE mount the way an unprivileged user can: {@code fusermount3 -u DIR}. */
  public static void unmountFuse(Path dir) throws IOException {
    SystemCommand.run(List.of("fusermount3", "-u", dir.toString()), "fusermount3 failed to unmount " + dir,
        "fusermount3 not found: apt-get install fuse3");
  }

  /** Unmounts any mount ({@code umount DIR}); root only. */
  public static void unmount(Path dir) throws IOException {
    SystemCommand.run(List.of("umount", dir.toString()), "umount failed to unmount " + dir,
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
