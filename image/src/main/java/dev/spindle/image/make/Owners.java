package dev.spindle.image.make;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which owners {@code image make} of a directory records. As root, the files' own (a root file
 * system's service users are meant); otherwise none, since every file is then the maker's by
 * accident, unless {@code --owner UID:GID} names one for every entry. With none recorded, readers
 * show their default (root for the NIO provider, a FUSE mount and containers, the extracting user
 * on disk).
 */
public record Owners(Kind kind, int uid, int gid) {
  public enum Kind {
    FROM_FILES,
    NONE,
    FIXED
  }

  public static final Owners FROM_FILES = new Owners(Kind.FROM_FILES, 0, 0);
  public static final Owners NONE = new Owners(Kind.NONE, 0, 0);

  /** FROM_FILES as root, NONE otherwise. */
  public static Owners forCurrentUser() {
    return runningAsRoot() ? FROM_FILES : NONE;
  }

  /** Parses {@code UID:GID}, both decimal, 0 to 2^32-2. */
  public static Owners parse(String s) {
    int colon = s.indexOf(':');
    try {
      if (colon > 0) {
        long u = Long.parseLong(s.substring(0, colon));
        long g = Long.parseLong(s.substring(colon + 1));
        if (u >= 0 && g >= 0 && u < 0xffffffffL && g < 0xffffffffL) {
          return new Owners(Kind.FIXED, (int) u, (int) g);
        }
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("--owner must be UID:GID (numbers), got: " + s);
  }

  public boolean recorded() {
    return kind != Kind.NONE;
  }

  public static boolean runningAsRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
