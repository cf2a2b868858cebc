package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Writes the 64-byte {@code filestat} struct. Device and inode numbers come from the {@code unix}
 * attribute view when the file system has one; other file systems (images) get an inode derived
 * from the file key or the path, stable for the life of the sandbox.
 */
final class FileStats {
  private FileStats() {}

  /** Stats {@code path} and writes its filestat at {@code ptr}. */
  static void write(Memory m, int ptr, Path path, LinkOption... options) throws IOException {
    BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, options);
    long dev = 0;
    long ino;
    long nlink = 1;
    long ctim = nanos(a.lastModifiedTime());
    if (path.getFileSystem().supportedFileAttributeViews().contains("unix")) {
      Map<String, Object> u = Files.readAttributes(path, "unix:dev,ino,nlink,ctime", options);
      dev = (Long) u.get("dev");
      ino = (Long) u.get("ino");
      nlink = ((Integer) u.get("nlink")).longValue();
      ctim = nanos((FileTime) u.get("ctime"));
    } else {
      Object key = a.fileKey();
      ino = key != null ? key.hashCode() : path.toAbsolutePath().normalize().hashCode();
    }
    write(
        m,
        ptr,
        dev,
        ino,
        fileType(a),
        nlink,
        a.size(),
        nanos(a.lastAccessTime()),
        nanos(a.lastModifiedTime()),
        ctim);
  }

  static void write(
      Memory m,
      int ptr,
      long dev,
      long ino,
      int fileType,
      long nlink,
      long size,
      long atim,
      long mtim,
      long ctim) {
    m.writeLong(ptr, dev);
    m.writeLong(ptr + 8, ino);
    m.writeLong(ptr + 16, 0); // filetype is one byte; clear the padding too
    m.writeByte(ptr + 16, (byte) fileType);
    m.writeLong(ptr + 24, nlink);
    m.writeLong(ptr + 32, size);
    m.writeLong(ptr + 40, atim);
    m.writeLong(ptr + 48, mtim);
    m.writeLong(ptr + 56, ctim);
  }

  static int fileType(BasicFileAttributes a) {
    if (a.isSymbolicLink()) return Abi.FILETYPE_SYMBOLIC_LINK;
    if (a.isDirectory()) return Abi.FILETYPE_DIRECTORY;
    if (a.isRegularFile()) return Abi.FILETYPE_REGULAR_FILE;
    return Abi.FILETYPE_UNKNOWN;
  }

  /** The inode number of {@code path}, for directory entries. */
  static long inode(Path path, LinkOption... options) {
    try {
      if (path.getFileSystem().supportedFileAttributeViews().contains("unix")) {
        return (Long) Files.getAttribute(path, "unix:ino", options);
      }
    } catch (IOException | RuntimeException e) {
      // fall through to the derived number
    }
    return path.toAbsolutePath().normalize().hashCode();
  }

  /**
   * Sets access and modification times as {@code fstflags} says; a time both given and "now" is
   * {@code EINVAL}. A null {@link FileTime} leaves that time alone.
   */
  static void setTimes(Path path, long atim, long mtim, int fst, LinkOption... options)
      throws IOException {
    if ((fst & ~(Abi.FST_ATIM | Abi.FST_ATIM_NOW | Abi.FST_MTIM | Abi.FST_MTIM_NOW)) != 0
        || ((fst & Abi.FST_ATIM) != 0 && (fst & Abi.FST_ATIM_NOW) != 0)
        || ((fst & Abi.FST_MTIM) != 0 && (fst & Abi.FST_MTIM_NOW) != 0)) {
      throw new WasiError(Errno.INVAL);
    }
    FileTime now = FileTime.from(java.time.Instant.now());
    FileTime a =
        (fst & Abi.FST_ATIM_NOW) != 0
            ? now
            : (fst & Abi.FST_ATIM) != 0 ? FileTime.from(atim, TimeUnit.NANOSECONDS) : null;
    FileTime mt =
        (fst & Abi.FST_MTIM_NOW) != 0
            ? now
            : (fst & Abi.FST_MTIM) != 0 ? FileTime.from(mtim, TimeUnit.NANOSECONDS) : null;
    Files.getFileAttributeView(path, java.nio.file.attribute.BasicFileAttributeView.class, options)
        .setTimes(mt, a, null);
  }

  static long nanos(FileTime t) {
    return t == null ? 0 : t.to(TimeUnit.NANOSECONDS);
  }
}
