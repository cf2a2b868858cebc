package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/** The {@code fd_*} calls: I/O, seeking, descriptor flags and rights, preopens, readdir. */
final class FdCalls {
  private final FdTable fds;

  FdCalls(FdTable fds) {
    this.fds = fds;
  }

  int fdRead(Memory m, int fd, int iovs, int iovsLen, int nreadPtr) throws IOException {
    FdEntry d = fds.get(fd);
    d.require(Abi.RIGHT_FD_READ);
    byte[] buf = new byte[Iovecs.totalLength(m, iovs, iovsLen)];
    int n =
        switch (d) {
          case StdioFd s -> s.read(buf);
          case FileFd f -> {
            int r = readAt(f, buf, f.offset());
            f.offset(f.offset() + r);
            yield r;
          }
          case DirFd _ -> throw new WasiError(Errno.ISDIR);
        };
    Iovecs.scatter(m, iovs, iovsLen, buf, n);
    m.writeI32(nreadPtr, n);
    return Errno.SUCCESS;
  }

  int fdPread(Memory m, int fd, int iovs, int iovsLen, long offset, int nreadPtr)
      throws IOException {
    FileFd f = seekable(fd);
    f.require(Abi.RIGHT_FD_READ);
    if (offset < 0) {
      throw new WasiError(Errno.INVAL);
    }
    byte[] buf = new byte[Iovecs.totalLength(m, iovs, iovsLen)];
    int n = readAt(f, buf, offset);
    Iovecs.scatter(m, iovs, iovsLen, buf, n);
    m.writeI32(nreadPtr, n);
    return Errno.SUCCESS;
  }

  int fdWrite(Memory m, int fd, int iovs, int iovsLen, int nwrittenPtr) throws IOException {
    FdEntry d = fds.get(fd);
    d.require(Abi.RIGHT_FD_WRITE);
    byte[] data = Iovecs.gather(m, iovs, iovsLen);
    switch (d) {
      case StdioFd s -> s.write(data);
      case FileFd f -> {
        long at = (f.fdFlags() & Abi.FDFLAGS_APPEND) != 0 ? f.channel().size() : f.offset();
        writeAt(f, data, at);
        f.offset(at + data.length);
      }
      case DirFd _ -> throw new WasiError(Errno.ISDIR);
    }
    m.writeI32(nwrittenPtr, data.length);
    return Errno.SUCCESS;
  }

  int fdPwrite(Memory m, int fd, int iovs, int iovsLen, long offset, int nwrittenPtr)
      throws IOException {
    FileFd f = seekable(fd);
    f.require(Abi.RIGHT_FD_WRITE);
    if (offset < 0) {
      throw new WasiError(Errno.INVAL);
    }
    byte[] data = Iovecs.gather(m, iovs, iovsLen);
    // As on Linux, an append-mode descriptor appends whatever offset pwrite names.
    long at = (f.fdFlags() & Abi.FDFLAGS_APPEND) != 0 ? f.channel().size() : offset;
    writeAt(f, data, at);
    m.writeI32(nwrittenPtr, data.length);
    return Errno.SUCCESS;
  }

  int fdSeek(Memory m, int fd, long offset, int whence, int newOffsetPtr) throws IOException {
    FileFd f = seekable(fd);
    f.require(offset == 0 && whence == Abi.WHENCE_CUR ? Abi.RIGHT_FD_TELL : Abi.RIGHT_FD_SEEK);
    long base =
        switch (whence) {
          case Abi.WHENCE_SET -> 0;
          case Abi.WHENCE_CUR -> f.offset();
          case Abi.WHENCE_END -> f.channel().size();
          default -> throw new WasiError(Errno.INVAL);
        };
    long target = base + offset;
    if (target < 0) {
      throw new WasiError(Errno.INVAL);
    }
    f.offset(target);
    m.writeLong(newOffsetPtr, target);
    return Errno.SUCCESS;
  }

  int fdTell(Memory m, int fd, int offsetPtr) {
    FileFd f = seekable(fd);
    f.require(Abi.RIGHT_FD_TELL);
    m.writeLong(offsetPtr, f.offset());
    return Errno.SUCCESS;
  }

  int fdClose(int fd) {
    fds.remove(fd).close();
    return Errno.SUCCESS;
  }

  int fdSync(int fd) throws IOException {
    if (fds.get(fd) instanceof FileFd f && f.channel() instanceof FileChannel fc && f.writable()) {
      fc.force(true);
    }
    return Errno.SUCCESS;
  }

  int fdDatasync(int fd) throws IOException {
    if (fds.get(fd) instanceof FileFd f && f.channel() instanceof FileChannel fc && f.writable()) {
      fc.force(false);
    }
    return Errno.SUCCESS;
  }

  int fdFdstatGet(Memory m, int fd, int ptr) {
    FdEntry d = fds.get(fd);
    m.writeLong(ptr, 0);
    m.writeByte(ptr, (byte) d.fileType());
    m.writeShort(ptr + 2, (short) d.fdFlags());
    m.writeLong(ptr + 8, d.rightsBase());
    m.writeLong(ptr + 16, d.rightsInheriting());
    return Errno.SUCCESS;
  }

  int fdFdstatSetFlags(int fd, int flags) {
    FdEntry d = fds.get(fd);
    int known =
        Abi.FDFLAGS_APPEND
            | Abi.FDFLAGS_DSYNC
            | Abi.FDFLAGS_NONBLOCK
            | Abi.FDFLAGS_RSYNC
            | Abi.FDFLAGS_SYNC;
    if ((flags & ~known) != 0) {
      throw new WasiError(Errno.INVAL);
    }
    d.setFdFlags(flags);
    return Errno.SUCCESS;
  }

  int fdFdstatSetRights(int fd, long base, long inheriting) {
    fds.get(fd).narrowRights(base, inheriting);
    return Errno.SUCCESS;
  }

  int fdFilestatGet(Memory m, int fd, int ptr) throws IOException {
    switch (fds.get(fd)) {
      case StdioFd _ -> FileStats.write(m, ptr, 0, 0, Abi.FILETYPE_CHARACTER_DEVICE, 1, 0, 0, 0, 0);
      case FileFd f -> FileStats.write(m, ptr, f.self().path());
      case DirFd d -> {
        try (PreopenRoot.Access a = fds.root(d).exact(d.components())) {
          FileStats.write(m, ptr, a.path());
        }
      }
    }
    return Errno.SUCCESS;
  }

  int fdFilestatSetSize(int fd, long size) throws IOException {
    FileFd f = fds.file(fd);
    f.require(Abi.RIGHT_FD_FILESTAT_SET_SIZE);
    if (size < 0) {
      throw new WasiError(Errno.INVAL);
    }
    if (!f.writable()) {
      throw new WasiError(Errno.BADF);
    }
    resize(f.channel(), size);
    return Errno.SUCCESS;
  }

  int fdFilestatSetTimes(int fd, long atim, long mtim, int fstFlags) throws IOException {
    switch (fds.get(fd)) {
      case FileFd f -> FileStats.setTimes(f.self().path(), atim, mtim, fstFlags);
      case DirFd d -> {
        try (PreopenRoot.Access a = fds.root(d).exact(d.components())) {
          FileStats.setTimes(a.path(), atim, mtim, fstFlags);
        }
      }
      case StdioFd _ -> throw new WasiError(Errno.NOTSUP);
    }
    return Errno.SUCCESS;
  }

  int fdAdvise(int fd, long offset, long len, int advice) {
    FileFd f = fds.file(fd);
    if (advice < 0 || advice > 5 || offset < 0 || len < 0) {
      throw new WasiError(Errno.INVAL);
    }
    f.require(Abi.RIGHT_FD_ADVISE);
    return Errno.SUCCESS; // advice only: nothing to do on the JVM
  }

  int fdAllocate(int fd, long offset, long len) throws IOException {
    FileFd f = fds.file(fd);
    if (offset < 0 || len <= 0) {
      throw new WasiError(Errno.INVAL);
    }
    if (!f.writable()) {
      throw new WasiError(Errno.BADF);
    }
    if (offset + len > f.channel().size()) {
      resize(f.channel(), offset + len);
    }
    return Errno.SUCCESS;
  }

  int fdPrestatGet(Memory m, int fd, int ptr) {
    String name = preopenName(fd);
    m.writeI32(ptr, 0); // tag 0: a directory
    m.writeI32(ptr + 4, name.getBytes(StandardCharsets.UTF_8).length);
    return Errno.SUCCESS;
  }

  int fdPrestatDirName(Memory m, int fd, int path, int len) {
    byte[] name = preopenName(fd).getBytes(StandardCharsets.UTF_8);
    if (len < name.length) {
      throw new WasiError(Errno.NAMETOOLONG);
    }
    m.write(path, name, 0, name.length);
    return Errno.SUCCESS;
  }

  /**
   * Lists a directory. The cookie is the index of the next entry in a sorted listing that starts
   * with {@code .} and {@code ..}: stateless, so it survives snapshot and restore.
   */
  int fdReaddir(Memory m, int fd, int buf, int bufLen, long cookie, int bufusedPtr)
      throws IOException {
    FdEntry d = fds.get(fd);
    if (!(d instanceof DirFd dir)) {
      throw new WasiError(d instanceof FileFd ? Errno.NOTDIR : Errno.BADF);
    }
    dir.require(Abi.RIGHT_FD_READDIR);
    PreopenRoot root = fds.root(dir);
    List<String> names = new ArrayList<>(List.of(".", ".."));
    int used = 0;
    try (PreopenRoot.Access self = root.exact(dir.components())) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(self.path())) {
        List<String> children = new ArrayList<>();
        s.forEach(p -> children.add(p.getFileName().toString()));
        children.sort(null);
        names.addAll(children);
      }
      for (long i = cookie; i < names.size() && used < bufLen; i++) {
        String name = names.get((int) i);
        long inode;
        int type;
        if (name.equals("..") && !dir.components().isEmpty()) {
          List<String> parent = dir.components().subList(0, dir.components().size() - 1);
          try (PreopenRoot.Access up = root.exact(parent)) {
            inode = FileStats.inode(up.path()); // followed: it may be a /proc/self/fd link
            type = Abi.FILETYPE_DIRECTORY;
          }
        } else {
          // ".." of a preopen is reported as the preopen itself: nothing above it is visible.
          if (name.equals(".") || name.equals("..")) {
            inode = FileStats.inode(self.path());
            type = Abi.FILETYPE_DIRECTORY;
          } else {
            Path p = self.path().resolve(name);
            inode = FileStats.inode(p, LinkOption.NOFOLLOW_LINKS);
            type = direntType(p);
          }
        }
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer e =
            ByteBuffer.allocate(Abi.DIRENT_HEADER + nameBytes.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        e.putLong(i + 1)
            .putLong(inode)
            .putInt(nameBytes.length)
            .put((byte) type)
            .put(new byte[3])
            .put(nameBytes);
        int n = Math.min(e.capacity(), bufLen - used);
        m.write(buf + used, e.array(), 0, n);
        used += n;
      }
    }
    m.writeI32(bufusedPtr, used);
    return Errno.SUCCESS;
  }

  int fdRenumber(int from, int to) {
    FdEntry d = fds.get(from);
    fds.get(to);
    if (from != to) {
      fds.remove(to).close();
      fds.remove(from);
      fds.put(to, d);
    }
    return Errno.SUCCESS;
  }

  private FileFd seekable(int fd) {
    return switch (fds.get(fd)) {
      case FileFd f -> f;
      case StdioFd _ -> throw new WasiError(Errno.SPIPE);
      case DirFd _ -> throw new WasiError(Errno.BADF);
    };
  }

  private String preopenName(int fd) {
    if (fds.get(fd) instanceof DirFd d && d.preopenName() != null) {
      return d.preopenName();
    }
    throw new WasiError(Errno.BADF);
  }

  private static int direntType(Path p) {
    try {
      return FileStats.fileType(
          Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
    } catch (IOException e) {
      return Abi.FILETYPE_UNKNOWN;
    }
  }

  private static int readAt(FileFd f, byte[] buf, long offset) throws IOException {
    if (!f.readable()) {
      throw new WasiError(Errno.BADF);
    }
    SeekableByteChannel ch = f.channel();
    ch.position(offset);
    ByteBuffer bb = ByteBuffer.wrap(buf);
    while (bb.hasRemaining()) {
      if (ch.read(bb) < 0) {
        break;
      }
    }
    return bb.position();
  }

  private static void writeAt(FileFd f, byte[] data, long offset) throws IOException {
    if (!f.writable()) {
      throw new WasiError(Errno.BADF);
    }
    SeekableByteChannel ch = f.channel();
    ch.position(offset);
    ByteBuffer bb = ByteBuffer.wrap(data);
    while (bb.hasRemaining()) {
      ch.write(bb);
    }
  }

  /** Shrinks or zero-extends a file: a channel can only truncate, so growth writes one byte. */
  private static void resize(SeekableByteChannel ch, long size) throws IOException {
    long current = ch.size();
    if (size < current) {
      ch.truncate(size);
    } else if (size > current) {
      ch.position(size - 1);
      ch.write(ByteBuffer.wrap(new byte[1]));
    }
  }
}
