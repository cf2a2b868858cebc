package dev.spindle.container;

import java.nio.file.Path;

/**
 * Where a container's parts live: {@code STATE/<id>/} with {@code lower/} (the image's FUSE mount),
 * {@code upper/} and {@code work/} (overlay's writable layer and scratch), {@code
 * bundle/config.json} and {@code owner} (which process serves the FUSE mount, so a later run can
 * reap what a killed one left); the overlay at {@code /run/spindle/<id>}.
 */
record Layout(Path dir) {
  /**
   * Where the overlays go. runc's init sets up the root file system as the container's root, an
   * unprivileged host user in the user namespace, and must search every directory on the way: STATE
   * is often in root's 0700 home; /run and this directory are 0755.
   */
  static final Path ROOTFS_PARENT = Path.of("/run/spindle");

  String id() {
    return dir.getFileName().toString();
  }

  Path lower() {
    return dir.resolve("lower");
  }

  Path upper() {
    return dir.resolve("upper");
  }

  Path work() {
    return dir.resolve("work");
  }

  Path bundle() {
    return dir.resolve("bundle");
  }

  Path rootfs() {
    return ROOTFS_PARENT.resolve(id());
  }

  Path config() {
    return bundle().resolve("config.json");
  }

  Path owner() {
    return dir.resolve("owner");
  }
}
