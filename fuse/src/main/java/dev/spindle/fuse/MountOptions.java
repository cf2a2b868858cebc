package dev.spindle.fuse;

import java.nio.file.Path;

/**
 * How to mount an image. {@code trace}: a file that receives one JSON line per first open (null:
 * no trace).
 */
public record MountOptions(Path trace) {
  public static MountOptions defaults() {
    return new MountOptions(null);
  }

  public MountOptions withTrace(Path file) {
    return new MountOptions(file);
  }
}
