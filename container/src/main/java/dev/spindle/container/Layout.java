package dev.spindle.container;

import java.nio.file.Path;

/**
 * Where a container's parts live: {@code STATE/<id>/} with {@code lower/} (the image's FUSE
 * mount), {@code upper/} and {@code work/} (overlay's writable layer and scratch),
 * {@code bundle/config.json}, {@code bundle/rootfs/} (the overlay) and {@code owner} (which
 * process serves the FUSE mount, so a later run can reap what a killed one left).
 */
record Layout(Path dir) {
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
    return bundle().resolve("rootfs");
  }

  Path config() {
    return bundle().resolve("config.json");
  }

  Path owner() {
    return dir.resolve("owner");
  }
}
