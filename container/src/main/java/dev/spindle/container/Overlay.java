package dev.spindle.container;

import dev.spindle.fuse.MountPoints;
import dev.spindle.fuse.SystemCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The container's root: overlayfs with the image's FUSE mount as the read-only lower layer and a
 * directory as the writable upper one (overlay over a FUSE lower works here,
 * docs/PLATFORM-FACTS.md). Mounted nosuid and nodev: a setuid binary or device node the container
 * (or a kept upper directory from an earlier run) puts there is only a file.
 */
final class Overlay {
  private Overlay() {}

  static void mount(Path lower, Path upper, Path work, Path target) throws IOException {
    for (Path p : List.of(lower, upper, work, target)) {
      String s = p.toString();
      if (s.contains(",") || s.contains(":")) { // overlay's option syntax has no escape for these
        throw new IOException("overlay cannot use a path with ',' or ':': " + s);
      }
    }
    String options = "nosuid,nodev,lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
    SystemCommand.run(
        List.of("mount", "-t", "overlay", "overlay", "-o", options, target.toString()),
        "cannot mount overlay at " + target + " (" + options + ")",
        "mount not found: apt-get install mount");
  }

  /** Unmounts; when something still holds it, detaches it lazily so it is gone from the tree. */
  static void unmount(Path target) throws IOException {
    if (!MountPoints.isMounted(target)) {
      return;
    }
    try {
      MountPoints.unmount(target);
    } catch (IOException busy) {
      SystemCommand.run(
          List.of("umount", "-l", target.toString()),
          "umount -l failed to unmount " + target + " (after: " + busy.getMessage() + ")",
          "umount not found: apt-get install mount");
    }
  }
}
