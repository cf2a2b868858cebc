package dev.spindle.fuse;

import java.nio.file.Path;
import java.util.Set;

/**
 * How to mount an image. {@code trace}: a file that receives one JSON line per first open (null:
 * no trace). {@code hot}: the image's hot files (a profile's paths, {@code /}-rooted), against
 * which first opens of other files are counted as cold ({@link ImageMount#coldOpens()}) and marked
 * {@code "cold": true} in the trace; null: no hot set, nothing is cold.
 */
public record MountOptions(Path trace, Set<String> hot) {
  public MountOptions {
    hot = hot == null ? null : Set.copyOf(hot);
  }

  public static MountOptions defaults() {
    return new MountOptions(null, null);
  }

  public MountOptions withTrace(Path file) {
    return new MountOptions(file, hot);
  }

  /** Paths as a profile lists them; a missing leading {@code /} is added. */
  public MountOptions withHot(java.util.Collection<String> paths) {
    java.util.Set<String> s = new java.util.HashSet<>();
    for (String p : paths) {
      s.add(p.startsWith("/") ? p : "/" + p);
    }
    return new MountOptions(trace, s);
  }
}
