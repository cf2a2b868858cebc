package dev.spindle.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tiny root file system for real containers: a static busybox and symlinks to it. Tests that run
 * one need {@code @Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC})}.
 */
public final class BusyboxRoot {
  public static final Path BUSYBOX = Path.of("/bin/busybox");

  private BusyboxRoot() {}

  /** {@code root}/bin/busybox and a symlink to it per applet. */
  public static Path make(Path root, String... applets) throws IOException {
    Path bin = Files.createDirectories(root.resolve("bin"));
    Files.copy(BUSYBOX, bin.resolve("busybox"));
    for (String applet : applets) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    return root;
  }
}
