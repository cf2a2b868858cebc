package dev.spindle.image.nio;

import dev.spindle.image.EntryMetadata;
import dev.spindle.image.ImageEntry;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The attributes of one entry: owner, group, mode bits, link count and extended attributes as the
 * image's metadata section records them ({@link EntryMetadata}). An image without one (made before
 * it was kept, or from a Git repository) shows what Git keeps: owner and group "root", permissions
 * 0755 for directories and executables, 0644 for other files, 0777 for symlinks (as Linux shows
 * them). Every time is the commit's date; the object id is the file key (so a directory cycle
 * through symlinks shows as the same key). Owners show as "root" for 0, else as the number: the
 * names are the image's /etc/passwd's business, not the host's.
 */
record ImageFileAttributes(ImageEntry entry, FileTime time, EntryMetadata meta, int nlink)
    implements PosixFileAttributes {
  static final Principal ROOT = new Principal("root");

  /** The fixed owner and group; a record so two lookups of "root" are equal. */
  record Principal(String getName) implements GroupPrincipal {
    @Override
    public String toString() {
      return getName;
    }
  }

  @Override
  public FileTime lastModifiedTime() {
    return time;
  }

  @Override
  public FileTime lastAccessTime() {
    return time;
  }

  @Override
  public FileTime creationTime() {
    return time;
  }

  @Override
  public boolean isRegularFile() {
    return entry.isRegularFile();
  }

  @Override
  public boolean isDirectory() {
    return entry.isDirectory();
  }

  @Override
  public boolean isSymbolicLink() {
    return entry.isSymlink();
  }

  /** A submodule (gitlink): neither file, directory nor link. */
  @Override
  public boolean isOther() {
    return !isRegularFile() && !isDirectory() && !isSymbolicLink();
  }

  @Override
  public long size() {
    return entry.size();
  }

  @Override
  public Object fileKey() {
    return entry.id();
  }

  @Override
  public UserPrincipal owner() {
    return principal(meta.uid());
  }

  private static Principal principal(int id) {
    return id == 0 ? ROOT : new Principal(Integer.toUnsignedString(id));
  }

  @Override
  public GroupPrincipal group() {
    return principal(meta.gid());
  }

  @Override
  public Set<PosixFilePermission> permissions() {
    // A new set each time: the caller may modify the set it gets (PosixFileAttributes says so).
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order =
        PosixFilePermission.values(); // OWNER_READ (0400) .. OTHERS_EXECUTE (01)
    for (int i = 0; i < order.length; i++) {
      if ((meta.mode() & (0400 >> i)) != 0) {
        out.add(order[i]);
      }
    }
    return out;
  }

  /** {@code st_mode}: file type and all of 07777, for the {@code unix} view. */
  int mode() {
    return meta.mode();
  }

  /** The extended attributes, name to value, for the {@code spindle} view. */
  Map<String, byte[]> xattrs() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (EntryMetadata.Xattr x : meta.xattrs()) {
      out.put(x.name(), x.value().clone());
    }
    return out;
  }

  /** The object id, hex, for the {@code spindle} view. */
  String objectId() {
    return entry.id().name();
  }

  /** The Git mode (0100644, 0100755, 0120000, 040000, 0160000) for the {@code spindle} view. */
  int gitMode() {
    return entry.mode();
  }
}
