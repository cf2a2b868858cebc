package dev.spindle.image.nio;

import java.io.IOException;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;

/**
 * The one view class behind {@code getFileAttributeView} for basic, owner and posix: a posix view
 * answers all three, and only its {@link #name()} differs. Reads look the path up at call time (a
 * view may be made for a path that does not exist, as NIO allows); every setter throws {@link
 * ReadOnlyFileSystemException}.
 */
final class ImageAttributeView implements PosixFileAttributeView {
  /** Reads the attributes of the viewed path when asked. */
  @FunctionalInterface
  interface Reader {
    ImageFileAttributes read() throws IOException;
  }

  private final String name;
  private final Reader reader;

  ImageAttributeView(String name, Reader reader) {
    this.name = name;
    this.reader = reader;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public ImageFileAttributes readAttributes() throws IOException {
    return reader.read();
  }

  @Override
  public UserPrincipal getOwner() throws IOException {
    return readAttributes().owner();
  }

  @Override
  public void setTimes(FileTime lastModifiedTime, FileTime lastAccessTime, FileTime createTime) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public void setPermissions(Set<PosixFilePermission> perms) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public void setGroup(GroupPrincipal group) {
    throw new ReadOnlyFileSystemException();
  }

  @Override
  public void setOwner(UserPrincipal owner) {
    throw new ReadOnlyFileSystemException();
  }
}
