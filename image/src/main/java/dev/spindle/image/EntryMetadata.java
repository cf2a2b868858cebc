package dev.spindle.image;

import java.util.Arrays;
import java.util.List;

/**
 * What a Git tree cannot hold about one entry of an image: the whole {@code st_mode} (file type and
 * all of 07777: setuid, setgid, sticky, every permission bit), owner, group, hard-link identity and
 * extended attributes. Kept in the image's metadata section ({@link MetadataTable}).
 *
 * @param path from the root, no leading '/', "" for the root itself
 * @param mode {@code st_mode}: {@link #S_IFDIR}, {@link #S_IFREG} or {@link #S_IFLNK} plus 07777
 * @param link 0: no other entry shares this file; else the number its hard links share
 * @param emptyDirectory a directory the Git tree cannot hold, as it holds nothing (below, at most
 *     other such directories)
 * @param xattrs sorted by name, names unique
 */
public record EntryMetadata(
    String path, int mode, int uid, int gid, int link, boolean emptyDirectory, List<Xattr> xattrs) {
  public static final int S_IFMT = 0170000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFLNK = 0120000;
  public static final int PERMISSIONS = 07777;

  public EntryMetadata {
    xattrs = List.copyOf(xattrs);
  }

  /** One extended attribute, its full name ({@code security.capability}) and value. */
  public record Xattr(String name, byte[] value) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Xattr x && x.name.equals(name) && Arrays.equals(x.value, value);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return name + "(" + value.length + " bytes)";
    }
  }

  public int type() {
    return mode & S_IFMT;
  }

  public int permissions() {
    return mode & PERMISSIONS;
  }

  public boolean isDirectory() {
    return type() == S_IFDIR;
  }

  /**
   * The metadata an entry has in an image that records none (made before images kept it, or from a
   * Git repository): owner root, 0755 for directories and executables, 0644 for other files, 0777
   * for symlinks, no hard link, no attribute.
   */
  public static EntryMetadata defaults(ImageEntry e) {
    int mode;
    if (e.isDirectory() || e.mode() == ImageEntry.GITLINK) {
      mode = S_IFDIR | 0755;
    } else if (e.isSymlink()) {
      mode = S_IFLNK | 0777;
    } else {
      mode = S_IFREG | (e.isExecutable() ? 0755 : 0644);
    }
    return new EntryMetadata(e.path(), mode, 0, 0, 0, false, List.of());
  }
}
