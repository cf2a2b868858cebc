package dev.spindle.image.nio;

import dev.spindle.image.ImageEntry;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;

/**
 * The attributes of one entry. Git keeps no owner, permissions beyond the executable bit, nor
 * times, so: owner and group "root", permissions 0755 for directories and executables, 0644 for
 * other files, 0777 for symlinks (as Linux shows them), every time the commit's date, and the
 * object id as file key (so a directory cycle through symlinks shows as the same key).
 */
record ImageFileAttributes(ImageEntry entry, FileTime time) implements PosixFileAttributes {
  static final Principal ROOT = new Principal("root");
  private static final Set<PosixFilePermission> RWXR_XR_X =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> RW_R__R__ =
      PosixFilePermissions.fromString("rw-r--r--");
  private static final Set<PosixFilePermission> RWXRWXRWX =
      PosixFilePermissions.fromString("rwxrwxrwx");

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
    return ROOT;
  }

  @Override
  public GroupPrincipal group() {
    return ROOT;
  }

  @Override
  public Set<PosixFilePermission> permissions() {
    // A copy each time: the caller may modify the set it gets (PosixFileAttributes says so).
    if (entry.isSymlink()) {
      return EnumSet.copyOf(RWXRWXRWX);
    }
    return EnumSet.copyOf(entry.isRegularFile() && !entry.isExecutable() ? RW_R__R__ : RWXR_XR_X);
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
