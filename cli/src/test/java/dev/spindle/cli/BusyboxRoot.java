package dev.spindle.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A tiny root file system for real containers: a static busybox and symlinks to it. */
final class BusyboxRoot {
  static final Path BUSYBOX = Path.of("/bin/busybox");

  private BusyboxRoot() {}

  /** Skips the calling test where containers cannot run: no FUSE, busybox or runc. */
  static void assumeContainers() {
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "skipped: /dev/fuse is missing, FUSE cannot work here");
    assumeTrue(Files.isExecutable(BUSYBOX), "skipped: no " + BUSYBOX + " (apt-get install busybox-static)");
    assumeTrue(Files.isExecutable(Path.of("/usr/sbin/runc")) || Files.isExecutable(Path.of("/usr/bin/runc")),
        "skipped: no runc");
  }

  /** {@code root}/bin/busybox and a symlink to it per applet. */
  static Path make(Path root, String... applets) throws IOException {
    Path bin = Files.createDirectories(root.resolve("bin"));
    Files.copy(BUSYBOX, bin.resolve("busybox"));
    for (String applet : applets) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    return root;
  }
}
