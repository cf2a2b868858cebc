package dev.spindle.daemon.e2b;

import java.io.InputStream;
import java.time.Instant;
import java.util.List;

/**
 * The sandbox's writable tree as envd's calls use it: paths are {@link EnvdPath}s (cleaned, below
 * the root), no symlink is ever followed (a link is listed and reported as a link), and a failure
 * is an {@link EnvdError} naming what was wrong.
 */
interface EnvdFiles {
  enum Type {
    FILE,
    DIR,
    SYMLINK,
    OTHER
  }

  /** What envd's {@code EntryInfo} carries; {@code mode} is the permission bits. */
  record Entry(
      String name,
      EnvdPath path,
      Type type,
      long size,
      int mode,
      Instant modified,
      String symlinkTarget) {}

  /** An open file and its length, for a download; the caller closes it. */
  record Opened(InputStream in, long size) {}

  Entry stat(EnvdPath path);

  /**
   * The entries below {@code dir}, down to {@code depth} levels (1: its own entries), in name
   * order, each directory before what it holds; more than {@code max} is an error, not a cut.
   */
  List<Entry> list(EnvdPath dir, int depth, int max);

  Opened read(EnvdPath path);

  /** Writes the whole file, making missing parent directories; replaces an existing file. */
  Entry write(EnvdPath path, byte[] data);

  /** Makes the directory and missing parents; {@code ALREADY_EXISTS} if it is already there. */
  Entry makeDir(EnvdPath path);

  /** Removes a file, a link (not what it points to) or a whole directory. */
  void remove(EnvdPath path);

  /** Renames, replacing a file at {@code to}; missing parents of {@code to} are made. */
  Entry rename(EnvdPath from, EnvdPath to);
}
