package dev.spindle.fuse;

import java.nio.file.Path;
import java.util.Set;

/**
 * How to mount an image. {@code trace}: a file that receives one JSON line per first open (null: no
 * trace). {@code hot}: the image's hot files (a profile's paths, {@code /}-rooted), against which
 * first opens of other files are counted as cold ({@link ImageMount#coldOpens()}) and marked {@code
 * "cold": true} in the trace; null: no hot set, nothing is cold. {@code uid}/{@code gid}: the host
 * ids of the image's root (default 0:0; a user-namespaced container's root maps to other host ids,
 * see {@link #withOwner}). An image that records owners shows each entry's owner shifted by them;
 * one that records none shows them as every entry's owner.
 */
public record MountOptions(Path trace, Set<String> hot, int uid, int gid) {
  public MountOptions {
    hot = hot == null ? null : Set.copyOf(hot);
    if (uid < 0 || gid < 0) {
      throw new IllegalArgumentException("owner ids must not be negative");
    }
  }

  /** Files owned by root. */
  public MountOptions(Path trace, Set<String> hot) {
    this(trace, hot, 0, 0);
  }

  public static MountOptions defaults() {
    return new MountOptions(null, null);
  }

  public MountOptions withTrace(Path file) {
    return new MountOptions(file, hot, uid, gid);
  }

  /**
   * The image's root is host {@code uid:gid}: an image without recorded owners shows it as the
   * owner of every file, one with owners shows owner N as {@code uid + N}. A container whose root
   * is host uid 100000 in a user namespace must own the image's files to write over them (overlay
   * copy-up) as root may, and the files of host root would show as nobody there, writable by no
   * one; its user 1000's files are host 101000's, 1000's inside.
   */
  public MountOptions withOwner(int u, int g) {
    return new MountOptions(trace, hot, u, g);
  }

  /** Paths as a profile lists them; a missing leading {@code /} is added. */
  public MountOptions withHot(java.util.Collection<String> paths) {
    java.util.Set<String> s = new java.util.HashSet<>();
    for (String p : paths) {
      s.add(p.startsWith("/") ? p : "/" + p);
    }
    return new MountOptions(trace, s, uid, gid);
  }
}
