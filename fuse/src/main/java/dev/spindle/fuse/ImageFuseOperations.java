package dev.spindle.fuse;

import dev.spindle.image.EntryMetadata;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.MetadataTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.cryptomator.jfuse.api.TimeSpec;

/**
 * The FUSE callbacks of a read-only image. libfuse's high-level API hands over whole paths whose
 * symlinks the kernel has already followed, so each path is one {@link Image#lookup} (no resolution
 * here). Callbacks run on several libfuse worker threads at once; {@link Image} is thread-safe and
 * the handle table is concurrent.
 *
 * <p>No exception may leave a callback: it would unwind into native code through an FFM upcall and
 * kill the JVM. {@link #guard} turns every failure into an errno.
 */
final class ImageFuseOperations implements FuseOperations {
  private static final int DIR_MODE = Stat.S_IFDIR | 0755;
  private static final int FILE_MODE = Stat.S_IFREG | 0644;
  private static final int EXEC_MODE = Stat.S_IFREG | 0755;
  private static final int LINK_MODE = Stat.S_IFLNK | 0777;
  private static final int BLOCK = 4096;
  private static final int O_ACCMODE = 3;

  private final Image image;
  private final Errno errno;
  private final AccessTrace trace;
  private final HandleTable handles = new HandleTable();
  private final Instant time;
  private final long imageBytes;
  private final int uid;
  private final int gid;
  private final boolean metadata; // the image records modes, owners, links (format version 2)
  private final boolean owners;

  ImageFuseOperations(Image image, Errno errno, AccessTrace trace, int uid, int gid)
      throws IOException {
    this.image = image;
    this.errno = errno;
    this.trace = trace;
    this.uid = uid;
    this.gid = gid;
    // An image stores no per-file times: every entry carries the commit date, the same on
    // every mount, so tools that compare mtimes (make, rsync) see nothing change.
    this.time = image.commit().date().toInstant();
    this.imageBytes = java.nio.file.Files.size(image.file());
    this.metadata = image.metadata().isPresent();
    this.owners = image.metadata().map(MetadataTable::ownersRecorded).orElse(false);
  }

  HandleTable handles() {
    return handles;
  }

  @Override
  public Errno errno() {
    return errno;
  }

  @Override
  public Set<Operation> supportedOperations() {
    return EnumSet.of(
        Operation.GET_ATTR,
        Operation.READ_DIR,
        Operation.OPEN,
        Operation.READ,
        Operation.RELEASE,
        Operation.READLINK,
        Operation.STATFS,
        Operation.GET_XATTR,
        Operation.LIST_XATTR,
        // Writes: the mount is "ro", so the kernel refuses them first; these answer anyway.
        Operation.CREATE,
        Operation.WRITE,
        Operation.MKDIR,
        Operation.RMDIR,
        Operation.UNLINK,
        Operation.RENAME,
        Operation.SYMLINK,
        Operation.TRUNCATE,
        Operation.CHMOD,
        Operation.CHOWN,
        Operation.UTIMENS,
        Operation.SET_XATTR,
        Operation.REMOVE_XATTR);
  }

  @Override
  public int getattr(String path, Stat stat, FileInfo fi) {
    return guard(
        path,
        () -> {
          Optional<ImageEntry> e = image.lookup(path);
          if (e.isEmpty()) {
            return -errno.enoent();
          }
          fill(stat, e.get());
          return 0;
        });
  }

  @Override
  public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
    return guard(
        path,
        () -> {
          Optional<ImageEntry> dir = image.lookup(path);
          if (dir.isEmpty()) {
            return -errno.enoent();
          }
          if (!isDirectory(dir.get())) {
            return -errno.enotdir();
          }
          boolean plus = (flags & FUSE_READDIR_PLUS) != 0;
          filler.fill(".", st -> fill(st, dir.get()), 0, 0);
          filler.fill("..", st -> {}, 0, 0);
          if (dir.get().isDirectory()) { // a submodule (gitlink) reads as an empty directory
            for (ImageEntry c : image.list(dir.get())) {
              // With readdirplus the attributes travel with the names: no getattr per entry.
              if (filler.fill(
                      c.name(), st -> fill(st, c), 0, plus ? DirFiller.FUSE_FILL_DIR_PLUS : 0)
                  != 0) {
                return -errno.enomem();
              }
            }
          }
          return 0;
        });
  }

  @Override
  public int open(String path, FileInfo fi) {
    return guard(
        path,
        () -> {
          if ((fi.getFlags() & O_ACCMODE) != 0) {
            return -errno.erofs();
          }
          Optional<ImageEntry> e = image.lookup(path);
          if (e.isEmpty()) {
            return -errno.enoent();
          }
          if (isDirectory(e.get())) {
            return -errno.eisdir();
          }
          fi.setFh(handles.add(new OpenBlob(image, e.get())));
          trace.opened(e.get(), LibFuse::callerPid);
          return 0;
        });
  }

  @Override
  public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
    return guard(
        path,
        () -> {
          OpenBlob b = handles.get(fi.getFh());
          return b == null ? -errno.ebadf() : b.read(buf, offset, size);
        });
  }

  @Override
  public int release(String path, FileInfo fi) {
    return guard(
        path,
        () -> {
          handles.release(fi.getFh());
          return 0;
        });
  }

  @Override
  public int readlink(String path, ByteBuffer buf, long len) {
    return guard(
        path,
        () -> {
          Optional<ImageEntry> e = image.lookup(path);
          if (e.isEmpty()) {
            return -errno.enoent();
          }
          if (!e.get().isSymlink()) {
            return -errno.einval();
          }
          byte[] target = image.readLink(e.get()).getBytes(StandardCharsets.UTF_8);
          int n =
              (int)
                  Math.min(
                      target.length, len - 1); // libfuse wants it NUL-terminated, truncated to fit
          buf.put(target, 0, n).put((byte) 0);
          return 0;
        });
  }

  /**
   * An extended attribute as the image's metadata records it ({@code security.capability}, {@code
   * user.*}...). The kernel asks with an empty buffer for the size first.
   */
  @Override
  public int getxattr(String path, String name, ByteBuffer value) {
    return guard(
        path,
        () -> {
          Optional<ImageEntry> e = image.lookup(path);
          if (e.isEmpty()) {
            return -errno.enoent();
          }
          for (EntryMetadata.Xattr x : image.metadata(e.get()).xattrs()) {
            if (x.name().equals(name)) {
              if (value.capacity() == 0) {
                return x.value().length;
              }
              if (value.remaining() < x.value().length) {
                return -errno.erange();
              }
              value.put(x.value());
              return x.value().length;
            }
          }
          return -errno.enodata();
        });
  }

  /** The names of an entry's extended attributes, each NUL-terminated. */
  @Override
  public int listxattr(String path, ByteBuffer list) {
    return guard(
        path,
        () -> {
          Optional<ImageEntry> e = image.lookup(path);
          if (e.isEmpty()) {
            return -errno.enoent();
          }
          java.io.ByteArrayOutputStream names = new java.io.ByteArrayOutputStream();
          for (EntryMetadata.Xattr x : image.metadata(e.get()).xattrs()) {
            names.writeBytes(x.name().getBytes(StandardCharsets.UTF_8));
            names.write(0);
          }
          if (list.capacity() == 0) {
            return names.size();
          }
          if (list.remaining() < names.size()) {
            return -errno.erange();
          }
          list.put(names.toByteArray());
          return names.size();
        });
  }

  @Override
  public int statfs(String path, Statvfs s) {
    s.setBsize(BLOCK);
    s.setFrsize(BLOCK);
    s.setBlocks((imageBytes + BLOCK - 1) / BLOCK);
    s.setBfree(0);
    s.setBavail(0);
    s.setNameMax(255);
    return 0;
  }

  @Override
  public int create(String path, int mode, FileInfo fi) {
    return -errno.erofs();
  }

  @Override
  public int write(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
    return -errno.erofs();
  }

  @Override
  public int mkdir(String path, int mode) {
    return -errno.erofs();
  }

  @Override
  public int rmdir(String path) {
    return -errno.erofs();
  }

  @Override
  public int unlink(String path) {
    return -errno.erofs();
  }

  @Override
  public int rename(String oldpath, String newpath, int flags) {
    return -errno.erofs();
  }

  @Override
  public int symlink(String linkname, String target) {
    return -errno.erofs();
  }

  @Override
  public int truncate(String path, long size, FileInfo fi) {
    return -errno.erofs();
  }

  @Override
  public int chmod(String path, int mode, FileInfo fi) {
    return -errno.erofs();
  }

  @Override
  public int chown(String path, int uid, int gid, FileInfo fi) {
    return -errno.erofs();
  }

  @Override
  public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
    return -errno.erofs();
  }

  @Override
  public int setxattr(String path, String name, ByteBuffer value, int flags) {
    return -errno.erofs();
  }

  @Override
  public int removexattr(String path, String name) {
    return -errno.erofs();
  }

  private static boolean isDirectory(ImageEntry e) {
    return e.isDirectory() || e.mode() == ImageEntry.GITLINK;
  }

  private void fill(Stat st, ImageEntry e) {
    if (metadata) {
      // What the image records: every mode bit, owners, hard links; a directory counts its
      // subdirectories, as Linux does. Recorded owners are shifted by the mount's owner (0:0
      // unless a user-namespaced container's root is host 100000: image uid 1000 shows as 101000
      // on the host, 1000 inside); without recorded owners, every entry is the mount's owner's.
      EntryMetadata m = image.metadata(e);
      st.setMode(m.mode());
      int links;
      try {
        links = image.linkCount(e);
      } catch (IOException x) {
        throw new java.io.UncheckedIOException(x); // guard answers EIO
      }
      st.setNLink((short) Math.min(links, Short.MAX_VALUE));
      st.setSize(isDirectory(e) ? BLOCK : e.size());
      st.setUid(owners ? uid + m.uid() : uid);
      st.setGid(owners ? gid + m.gid() : gid);
      st.aTime().set(time);
      st.mTime().set(time);
      st.cTime().set(time);
      return;
    }
    if (isDirectory(e)) {
      st.setMode(DIR_MODE);
      // nlink 1 on a directory means "not counted" (as btrfs): find's leaf optimisation stays off.
      st.setNLink((short) 1);
      st.setSize(BLOCK);
    } else {
      st.setMode(e.isSymlink() ? LINK_MODE : e.isExecutable() ? EXEC_MODE : FILE_MODE);
      st.setNLink((short) 1);
      st.setSize(e.size());
    }
    st.setUid(uid);
    st.setGid(gid);
    st.aTime().set(time);
    st.mTime().set(time);
    st.cTime().set(time);
  }

  /** A callback body; may throw, {@link #guard} maps the throw to an errno. */
  private interface Body {
    int run() throws IOException;
  }

  private int guard(String path, Body body) {
    try {
      return body.run();
    } catch (NoSuchFileException e) {
      return -errno.enoent();
    } catch (Throwable t) {
      // Damage in the image or a bug: the process reading gets EIO, the operator a line.
      System.err.println("spindle-fuse: " + path + ": " + t);
      return -errno.eio();
    }
  }
}
