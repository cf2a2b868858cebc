package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/** The {@code path_*} calls: every lookup goes through {@link PathResolver}. */
final class PathCalls {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final LinkOption[] FOLLOW = {};

    private final FdTable fds;

    PathCalls(FdTable fds) {
        this.fds = fds;
    }

    int pathOpen(Memory m, int dirFd, int lookupFlags, int path, int pathLen, int oflags,
            long rightsBase, long rightsInheriting, int fdFlags, int fdPtr) throws IOException {
        DirFd dir = fds.dir(dirFd);
        dir.require(Abi.RIGHT_PATH_OPEN);
        boolean follow = (lookupFlags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
        PathResolver.Resolved r = PathResolver.resolve(dir, string(m, path, pathLen), follow);
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
        Path host = r.host();
        LinkOption[] links = follow ? FOLLOW : NOFOLLOW;

        Descriptor opened;
        if (Files.exists(host, links) || Files.isSymbolicLink(host)) {
            if (creat && excl) {
                throw new WasiError(Errno.EXIST);
            }
            if (!follow && Files.isSymbolicLink(host)) {
                throw new WasiError(wantDir ? Errno.NOTDIR : Errno.LOOP);
            }
            if (Files.isDirectory(host, links)) {
                if (write) {
                    throw new WasiError(Errno.ISDIR);
                }
                opened = new DirFd(dir.preopen(), r.preopenPath(), host, null,
                        base & ~Abi.RIGHTS_FILE_ONLY, inheriting, fdFlags);
            } else {
                if (wantDir) {
                    throw new WasiError(Errno.NOTDIR);
                }
                Set<OpenOption> extra = new HashSet<>();
                if (trunc) {
                    extra.add(StandardOpenOption.TRUNCATE_EXISTING);
                }
                opened = file(dir, r, base, inheriting, fdFlags, write, extra);
            }
        } else {
            if (!creat) {
                throw new WasiError(Errno.NOENT);
            }
            if (wantDir) {
                throw new WasiError(r.trailingSlash() ? Errno.ISDIR : Errno.INVAL);
            }
            dir.require(Abi.RIGHT_PATH_CREATE_FILE);
            // Java ignores CREATE on a read-only open, so a created file is opened for writing
            // too; the fd's own rights still decide whether the guest may write.
            opened = file(dir, r, base, inheriting, fdFlags, write,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        }
        m.writeI32(fdPtr, fds.add(opened));
        return Errno.SUCCESS;
    }

    private static FileFd file(DirFd dir, PathResolver.Resolved r, long base, long inheriting,
            int fdFlags, boolean write, Set<OpenOption> extra) throws IOException {
        boolean read = (base & Abi.RIGHT_FD_READ) != 0;
        // The resolver has followed every link already; O_NOFOLLOW on the open itself means a
        // link swapped in meanwhile fails instead of leading out of the sandbox. Providers
        // without links (the JDK's zipfs) reject the option (IllegalArgumentException) and need
        // no such guard.
        Set<OpenOption> options = new HashSet<>(extra);
        options.add(LinkOption.NOFOLLOW_LINKS);
        SeekableByteChannel ch;
        try {
            ch = FdTable.open(r.host(), read, write, options);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            if (e instanceof ReadOnlyFileSystemException) {
                throw e;
            }
            ch = FdTable.open(r.host(), read, write, extra);
        }
        // Rights, not how the channel was opened, decide what the guest may do; restore
        // derives the same from the captured rights.
        boolean writable = (base & Abi.RIGHT_FD_WRITE) != 0;
        return new FileFd(dir.preopen(), r.preopenPath(), r.host(), ch, read, writable,
                base, inheriting, fdFlags, 0);
    }

    int pathCreateDirectory(Memory m, int dirFd, int path, int pathLen) throws IOException {
        PathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
        Files.createDirectory(r.host());
        return Errno.SUCCESS;
    }

    int pathRemoveDirectory(Memory m, int dirFd, int path, int pathLen) throws IOException {
        PathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
        if (r.components().isEmpty()) {
            throw new WasiError(Errno.INVAL); // rmdir of the directory fd itself
        }
        if (!Files.isDirectory(r.host(), NOFOLLOW)) {
            throw new WasiError(Files.exists(r.host(), NOFOLLOW) ? Errno.NOTDIR : Errno.NOENT);
        }
        Files.delete(r.host());
        return Errno.SUCCESS;
    }

    int pathUnlinkFile(Memory m, int dirFd, int path, int pathLen) throws IOException {
        PathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
        if (Files.isDirectory(r.host(), NOFOLLOW)) {
            throw new WasiError(Errno.ISDIR);
        }
        if (r.trailingSlash() && Files.exists(r.host(), NOFOLLOW)) {
            throw new WasiError(Errno.NOTDIR);
        }
        Files.delete(r.host());
        return Errno.SUCCESS;
    }

    int pathFilestatGet(Memory m, int dirFd, int flags, int path, int pathLen, int ptr) throws IOException {
        boolean follow = (flags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
        PathResolver.Resolved r = resolve(m, dirFd, path, pathLen, follow);
        r.checkTrailingSlash();
        FileStats.write(m, ptr, r.host(), follow ? FOLLOW : NOFOLLOW);
        return Errno.SUCCESS;
    }

    int pathFilestatSetTimes(Memory m, int dirFd, int flags, int path, int pathLen, long atim,
            long mtim, int fst) throws IOException {
        boolean follow = (flags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
        PathResolver.Resolved r = resolve(m, dirFd, path, pathLen, follow);
        r.checkTrailingSlash();
        FileStats.setTimes(r.host(), atim, mtim, fst, follow ? FOLLOW : NOFOLLOW);
        return Errno.SUCCESS;
    }

    int pathLink(Memory m, int oldFd, int oldFlags, int oldPath, int oldLen, int newFd, int newPath,
            int newLen) throws IOException {
        boolean follow = (oldFlags & Abi.LOOKUP_SYMLINK_FOLLOW) != 0;
        PathResolver.Resolved from = resolve(m, oldFd, oldPath, oldLen, follow);
        PathResolver.Resolved to = resolve(m, newFd, newPath, newLen, false);
        if (!Files.exists(from.host(), NOFOLLOW)) {
            throw new WasiError(Errno.NOENT);
        }
        if (Files.isDirectory(from.host(), NOFOLLOW)) {
            throw new WasiError(Errno.PERM); // no hard links to directories, as on Linux
        }
        if (from.trailingSlash() || to.trailingSlash()) {
            // A trailing slash names a directory, and no link to a file can be one.
            throw new WasiError(Files.exists(to.host(), NOFOLLOW) ? Errno.EXIST : Errno.NOENT);
        }
        Files.createLink(to.host(), from.host());
        return Errno.SUCCESS;
    }

    int pathReadlink(Memory m, int dirFd, int path, int pathLen, int buf, int bufLen, int usedPtr)
            throws IOException {
        PathResolver.Resolved r = resolve(m, dirFd, path, pathLen, false);
        byte[] target = Files.readSymbolicLink(r.host()).toString().getBytes(StandardCharsets.UTF_8);
        int n = Math.min(target.length, bufLen);
        m.write(buf, target, 0, n);
        m.writeI32(usedPtr, n);
        return Errno.SUCCESS;
    }

    int pathRename(Memory m, int oldFd, int oldPath, int oldLen, int newFd, int newPath, int newLen)
            throws IOException {
        PathResolver.Resolved from = resolve(m, oldFd, oldPath, oldLen, false);
        PathResolver.Resolved to = resolve(m, newFd, newPath, newLen, false);
        if (!Files.exists(from.host(), NOFOLLOW)) {
            throw new WasiError(Errno.NOENT);
        }
        boolean fromDir = Files.isDirectory(from.host(), NOFOLLOW);
        if (!fromDir && (from.trailingSlash() || to.trailingSlash())) {
            throw new WasiError(Errno.NOTDIR);
        }
        if (from.components().isEmpty() || to.components().isEmpty()) {
            throw new WasiError(Errno.BUSY);
        }
        try {
            // rename(2) semantics: replaces a file or an empty directory in one step.
            Files.move(from.host(), to.host(), StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            if (Files.exists(to.host(), NOFOLLOW)) {
                boolean toDir = Files.isDirectory(to.host(), NOFOLLOW);
                if (fromDir != toDir) {
                    throw new WasiError(fromDir ? Errno.NOTDIR : Errno.ISDIR);
                }
            }
            Files.move(from.host(), to.host(), StandardCopyOption.REPLACE_EXISTING);
        }
        return Errno.SUCCESS;
    }

    int pathSymlink(Memory m, int oldPath, int oldLen, int dirFd, int newPath, int newLen) throws IOException {
        String target = string(m, oldPath, oldLen);
        if (target.startsWith("/")) {
            // It could never be followed inside the sandbox (see PathResolver), so refuse it now.
            throw new WasiError(Errno.PERM);
        }
        PathResolver.Resolved r = resolve(m, dirFd, newPath, newLen, false);
        if (Files.exists(r.host(), NOFOLLOW) || Files.isSymbolicLink(r.host())) {
            throw new WasiError(Errno.EXIST);
        }
        if (r.trailingSlash()) {
            throw new WasiError(Errno.NOENT);
        }
        Files.createSymbolicLink(r.host(), r.host().getFileSystem().getPath(target));
        return Errno.SUCCESS;
    }

    private PathResolver.Resolved resolve(Memory m, int dirFd, int path, int pathLen, boolean follow)
            throws IOException {
        return PathResolver.resolve(fds.dir(dirFd), string(m, path, pathLen), follow);
    }

    private static String string(Memory m, int ptr, int len) {
        return new String(m.readBytes(ptr, len), StandardCharsets.UTF_8);
    }
}
