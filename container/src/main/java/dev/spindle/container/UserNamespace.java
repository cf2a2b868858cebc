package dev.spindle.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The user namespace a container runs in: container ids 0..65535 are host ids {@code
 * hostUid..hostUid+65535} (gids likewise), so the container's root is an unprivileged host user.
 * Its capabilities act on its own ids only, and what it leaves in a kept upper directory (a setuid
 * binary, say) belongs to that user, not to host root.
 *
 * <p>The range: root's first range of at least 65536 ids in {@code /etc/subuid} and {@code
 * /etc/subgid} (entries for {@code root} or {@code 0}), as an administrator who set one aside for
 * root's containers means it; else 100000, the first range {@code useradd} hands out, which
 * Docker's userns-remap and Podman use too. Every container shares the range: they cannot reach
 * each other's processes (a pid namespace each) nor files (a root file system each).
 */
record UserNamespace(int hostUid, int hostGid) {
  /** Container ids 0..65535: covers {@code nobody} (65534) and every id a distribution uses. */
  static final int SIZE = 65536;

  static final int DEFAULT_HOST_ID = 100_000;

  UserNamespace {
    if (hostUid <= 0 || hostGid <= 0) {
      throw new IllegalArgumentException(
          "a user namespace must map root to an unprivileged host id");
    }
  }

  /** From {@code /etc/subuid} and {@code /etc/subgid}, or the default range. */
  static UserNamespace forRoot() throws IOException {
    return new UserNamespace(
        firstRange(Path.of("/etc/subuid")), firstRange(Path.of("/etc/subgid")));
  }

  /**
   * The start of the first {@code root:START:COUNT} (or {@code 0:...}) line of {@code file} with a
   * COUNT of at least {@link #SIZE} and a START above 0; {@link #DEFAULT_HOST_ID} without one.
   */
  static int firstRange(Path file) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (NoSuchFileException e) {
      return DEFAULT_HOST_ID;
    }
    for (String line : lines) {
      String[] f = line.strip().split(":");
      if (f.length != 3 || !(f[0].equals("root") || f[0].equals("0"))) {
        continue;
      }
      try {
        long start = Long.parseLong(f[1]);
        long count = Long.parseLong(f[2]);
        if (start > 0 && count >= SIZE && start + SIZE <= Integer.MAX_VALUE) {
          return (int) start;
        }
      } catch (NumberFormatException garbled) {
        // not a range; the next line may be
      }
    }
    return DEFAULT_HOST_ID;
  }
}
