package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The {@code path_*} calls: every lookup goes through {@link GuestPathResolver}, every use through
 * the preopen's {@link PreopenRoot} (so a link is never followed by the host), and every operation
 * on the last component is one that does not follow it.
 */
final class PathCalls {
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private final FdTable fds;

  PathCalls(FdTable fds) {
    this.fds = fds;
  }

  int pathOpen(
      Memory m,
      int dirFd,
      int lookupFlags,
      int path,
      int pathLen,
      int oflags,
      long rightsBase,
      long rightsInheriting,
      int fdFlags,
      int fdPtr)
      throws IOException {
    DirFd dir = fds.dir(dirFd);
    dir.require(Abi.RIGHT_PATH_OPEN);
    boolean follow = (lookupFlags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
    GuestPathResolver.Resolved r =
        GuestPathResolver.resolve(fds.root(dir), dir, string(m, path, pathLen), follow);
    boolean creat = (oflags & Abi.OFLAGS_CREAT) != 0;
    boolean excl = (oflags & Abi.OFLAGS_EXCL) != 0;
    boolean trunc = (oflags & Abi.OFLAGS_TRUNC) != 0;
    boolean wantDir = (oflags & Abi.OFLAGS_DIRECTORY) != 0 || r.trailingSlash();
    long base = rightsBase & dir.rightsInheriting();
    long inheriting = rightsInheriting & dir.rightsInheriting();
    boolean write = (base & Abi.RIGHT_FD_WRITE) != 0 || trunc;
    if (trunc) {
      dir.require(Abi.RIGHT_PATH_FILESTAT_SET_SIZE);
    }
    boolean exists;
    boolean link;
    boolean isDir;
    try (PreopenRoot.Access a = r.at()) {
      link = Files.isSymbolicLink(a.path());
      exists = link || Files.exists(a.path(), NOFOLLOW);
      isDir = Files.isDirectory(a.path(), NOFOLLOW);
    }
    // Rights, not how the channel was opened, decide what the guest may do; restore
    // derives the same from the captured rights.
    boolean read = (base & Abi.RIGHT_FD_READ) != 0;
    boolean writable = (base & Abi.RIGHT_FD_WRITE) != 0;
    FdEntry opened;
    if (exists) {
      if (creat && excl) {
        throw new WasiError(Errno.EXIST);
      }
      if (link) {
        // Not followed (no LOOKUP_SYMLINK_FOLLOW), or swapped in after the resolver looked.
        throw new WasiError(wantDir ? Errno.NOTDIR : Errno.LOOP);
      }
      if (isDir) {
        if (write) {
          throw new WasiError(Errno.ISDIR);
        }
        opened =
            new DirFd(
                dir.preopen(),
                r.components(),
                null,
                base & ~Abi.RIGHTS_FILE_ONLY,
                inheriting,
                fdFlags);
      } else {
        if (wantDir) {
          throw new WasiError(Errno.NOTDIR);
        }
        Set<OpenOption> extra = trunc ? Set.of(StandardOpenOption.TRUNCATE_EXISTING) : Set.of();
        opened =
            fds.openFile(
                dir.preopen(),
                r.components(),
                false,
                read,
                writable,
                write,
                extra,
                base,
                inheriting,
                fdFlags,
                0);
      }
    } else {
      if (!creat) {
        throw new WasiError(Errno.NOENT);
      }
      if (wantDir) {
        throw new WasiError(r.trailingSlash() ? Errno.ISDIR : Errno.INVAL);
      }
      dir.require(Abi.RIGHT_PATH_CREATE_FILE);
      opened =
          fds.openFile(
              dir.preopen(),
              r.components(),
              true,
              read,
              writable,
              write,
              Set.of(),
              base,
              inheriting,
              fdFlags,
              0);
    }
    m.writeI32(fdPtr, fds.add(opened));
    return Errno.SUCCESS;
  }

  int pathCreateDirectory(Memory m, int dirFd, int path, int pathLen) throws IOException {
    GuestPathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
    try (PreopenRoot.Access a = r.at()) {
      Files.createDirectory(a.path());
    }
    return Errno.SUCCESS;
  }

  int pathRemoveDirectory(Memory m, int dirFd, int path, int pathLen) throws IOException {
    GuestPathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
    if (r.isBase()) {
      throw new WasiError(Errno.INVAL); // rmdir of the directory fd itself
    }
    try (PreopenRoot.Access a = r.at()) {
      if (!Files.isDirectory(a.path(), NOFOLLOW)) {
        throw new WasiError(Files.exists(a.path(), NOFOLLOW) ? Errno.NOTDIR : Errno.NOENT);
      }
      Files.delete(a.path());
    }
    return Errno.SUCCESS;
  }

  int pathUnlinkFile(Memory m, int dirFd, int path, int pathLen) throws IOException {
    GuestPathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
    try (PreopenRoot.Access a = r.at()) {
      if (Files.isDirectory(a.path(), NOFOLLOW)) {
        throw new WasiError(Errno.ISDIR);
      }
      if (r.trailingSlash() && Files.exists(a.path(), NOFOLLOW)) {
        throw new WasiError(Errno.NOTDIR);
      }
      Files.delete(a.path());
    }
    return Errno.SUCCESS;
  }

  int pathFilestatGet(Memory m, int dirFd, int flags, int path, int pathLen, int ptr)
      throws IOException {
    boolean follow = (flags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
    GuestPathResolver.Resolved r = resolve(m, dirFd, path, pathLen, follow);
    r.checkTrailingSlash();
    // The resolver followed what was to be followed: the last component is stat'ed as it is.
    try (PreopenRoot.Access a = r.at()) {
      FileStats.write(m, ptr, a.path(), NOFOLLOW);
    }
    return Errno.SUCCESS;
  }

  int pathFilestatSetTimes(
      Memory m, int dirFd, int flags, int path, int pathLen, long atim, long mtim, int fst)
      throws IOException {
    boolean follow = (flags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
    GuestPathResolver.Resolved r = resolve(m, dirFd, path, pathLen, follow);
    r.checkTrailingSlash();
    try (PreopenRoot.Access a = r.at()) {
      FileStats.setTimes(a.path(), atim, mtim, fst, NOFOLLOW);
    }
    return Errno.SUCCESS;
  }

  int pathLink(
      Memory m,
      int oldFd,
      int oldFlags,
      int oldPath,
      int oldLen,
      int newFd,
      int newPath,
      int newLen)
      throws IOException {
    boolean follow = (oldFlags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
    GuestPathResolver.Resolved from = resolve(m, oldFd, oldPath, oldLen, follow);
    GuestPathResolver.Resolved to = resolve(m, newFd, newPath, newLen, false);
    try (PreopenRoot.Access src = from.at();
        PreopenRoot.Access dst = to.at()) {
      if (!Files.exists(src.path(), NOFOLLOW)) {
        throw new WasiError(Errno.NOENT);
      }
      if (Files.isDirectory(src.path(), NOFOLLOW)) {
        throw new WasiError(Errno.PERM); // no hard links to directories, as on Linux
      }
      if (from.trailingSlash() || to.trailingSlash()) {
        // A trailing slash names a directory, and no link to a file can be one.
        throw new WasiError(Files.exists(dst.path(), NOFOLLOW) ? Errno.EXIST : Errno.NOENT);
      }
      // link(2) does not follow a link at the source: the new name is the link itself.
      Files.createLink(dst.path(), src.path());
    }
    return Errno.SUCCESS;
  }

  int pathReadlink(Memory m, int dirFd, int path, int pathLen, int buf, int bufLen, int usedPtr)
      throws IOException {
    GuestPathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
    byte[] target;
    try (PreopenRoot.Access a = r.at()) {
      target = Files.readSymbolicLink(a.path()).toString().getBytes(StandardCharsets.UTF_8);
    }
    int n = Math.min(target.length, bufLen);
    m.write(buf, target, 0, n);
    m.writeI32(usedPtr, n);
    return Errno.SUCCESS;
  }

  int pathRename(Memory m, int oldFd, int oldPath, int oldLen, int newFd, int newPath, int newLen)
      throws IOException {
    GuestPathResolver.Resolved from = resolve(m, oldFd, oldPath, oldLen, false);
    GuestPathResolver.Resolved to = resolve(m, newFd, newPath, newLen, false);
    if (from.isBase() || to.isBase()) {
      throw new WasiError(Errno.BUSY);
    }
    try (PreopenRoot.Access src = from.at();
        PreopenRoot.Access dst = to.at()) {
      rename(src.path(), dst.path(), from.trailingSlash() || to.trailingSlash());
    }
    return Errno.SUCCESS;
  }

  private static void rename(Path from, Path to, boolean trailingSlash) throws IOException {
    if (!Files.exists(from, NOFOLLOW)) {
      throw new WasiError(Errno.NOENT);
    }
    boolean fromDir = Files.isDirectory(from, NOFOLLOW);
    if (!fromDir && trailingSlash) {
      throw new WasiError(Errno.NOTDIR);
    }
    try {
      // rename(2) semantics: replaces a file or an empty directory in one step.
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      if (Files.exists(to, NOFOLLOW)) {
        boolean toDir = Files.isDirectory(to, NOFOLLOW);
        if (fromDir != toDir) {
          throw new WasiError(fromDir ? Errno.NOTDIR : Errno.ISDIR);
        }
      }
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  int pathSymlink(Memory m, int oldPath, int oldLen, int dirFd, int newPath, int newLen)
      throws IOException {
    String target = string(m, oldPath, oldLen);
    if (target.startsWith("/")) {
      // It could never be followed inside the sandbox (see GuestPathResolver), so refuse it now.
      throw new WasiError(Errno.PERM);
    }
    if (target.indexOf('\0') >= 0) {
      throw new WasiError(Errno.INVAL);
    }
    GuestPathResolver.Resolved r = resolve(m, dirFd, newPath, newLen, false);
    try (PreopenRoot.Access a = r.at()) {
      if (Files.exists(a.path(), NOFOLLOW) || Files.isSymbolicLink(a.path())) {
        throw new WasiError(Errno.EXIST);
      }
      if (r.trailingSlash()) {
        throw new WasiError(Errno.NOENT);
      }
      Files.createSymbolicLink(a.path(), a.path().getFileSystem().getPath(target));
    }
    return Errno.SUCCESS;
  }

  private GuestPathResolver.Resolved resolve(
      Memory m, int dirFd, int path, int pathLen, boolean follow) throws IOException {
    DirFd dir = fds.dir(dirFd);
    return GuestPathResolver.resolve(fds.root(dir), dir, string(m, path, pathLen), follow);
  }

  private static String string(Memory m, int ptr, int len) {
    return new String(m.readBytes(ptr, len), StandardCharsets.UTF_8);
  }
}
