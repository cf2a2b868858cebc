package dev.spindle.sandbox.wasi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * Linux's {@code openat2(2)} through FFM: the kernel resolves a path below a directory fd and
 * refuses, atomically, to leave it ({@code RESOLVE_BENEATH}) or to follow any symlink on the way
 * ({@code RESOLVE_NO_SYMLINKS}). Java's file API has no such call; a check in Java followed by a
 * use by path leaves a window in which another process (another sandbox sharing the directory, or
 * the host) swaps a directory for a symlink. Used only where {@link #AVAILABLE}; other hosts fall
 * back to {@link ProviderRoot}.
 */
@SuppressWarnings("restricted") // FFM into libc; the JVM runs with --enable-native-access
final class Openat2 {
  private static final long SYS_OPENAT2 = 437; // the same number on x86_64 and aarch64
  private static final int AT_FDCWD = -100;
  static final int O_PATH = 010000000;
  static final int O_CLOEXEC = 02000000;
  static final int O_DIRECTORY;
  static final int O_NOFOLLOW;
  static final long RESOLVE_NO_MAGICLINKS = 0x02;
  static final long RESOLVE_NO_SYMLINKS = 0x04;
  static final long RESOLVE_BENEATH = 0x08;

  private static final int EAGAIN = 11;
  private static final int ENOENT = 2;
  private static final int EACCES = 13;
  private static final int EXDEV = 18;
  private static final int ENOTDIR = 20;
  private static final int EMFILE = 24;
  private static final int ENAMETOOLONG = 36;
  private static final int ELOOP = 40;
  private static final int EPERM = 1;

  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle SYSCALL;
  private static final MethodHandle CLOSE;

  /** Whether the calls work on this host (Linux 5.6+, x86_64 or aarch64, native access). */
  static final boolean AVAILABLE;

  static {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    boolean arm = arch.equals("aarch64");
    O_DIRECTORY = arm ? 040000 : 0200000;
    O_NOFOLLOW = arm ? 0100000 : 0400000;
    MethodHandle syscall = null;
    MethodHandle close = null;
    boolean ok = false;
    if (System.getProperty("os.name", "").equals("Linux") && (arm || arch.equals("amd64"))) {
      try {
        Linker linker = Linker.nativeLinker();
        syscall =
            linker.downcallHandle(
                linker.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1),
                Linker.Option.captureCallState("errno"));
        close =
            linker.downcallHandle(
                linker.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        int fd = raw(syscall, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd >= 0) {
          ok = (int) close.invokeExact(fd) == 0;
        }
      } catch (Throwable t) {
        // No native access, no syscall, or an old kernel (ENOSYS): the pure-Java root.
        ok = false;
      }
    }
    SYSCALL = syscall;
    CLOSE = close;
    AVAILABLE = ok;
  }

  private Openat2() {}

  /** Opens a directory of the host as the starting point of later lookups (O_PATH). */
  static int openRoot(String hostPath) {
    return open(AT_FDCWD, hostPath, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  }

  /**
   * Opens {@code path} (relative, no {@code ..}) below {@code dirFd} without following any symlink
   * and without leaving {@code dirFd}. Returns the new fd; a failure is the matching {@link
   * WasiError}.
   */
  static int beneath(int dirFd, String path, int flags) {
    return open(
        dirFd,
        path,
        flags | O_CLOEXEC,
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  }

  private static int open(int dirFd, String path, int flags, long resolve) {
    for (int attempt = 0; ; attempt++) {
      int r;
      try {
        r = raw(SYSCALL, dirFd, path, flags, resolve);
      } catch (Throwable t) {
        throw new IllegalStateException("openat2 failed to run", t);
      }
      if (r >= 0) {
        return r;
      }
      int errno = -r;
      // EAGAIN: the kernel saw a concurrent rename and would not vouch for the lookup.
      if (errno == EAGAIN && attempt < 16) {
        continue;
      }
      throw new WasiError(wasiErrno(errno));
    }
  }

  /** Returns the fd, or minus errno. */
  private static int raw(MethodHandle syscall, int dirFd, String path, int flags, long resolve)
      throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment how = arena.allocate(24, 8);
      how.set(ValueLayout.JAVA_LONG, 0, flags);
      how.set(ValueLayout.JAVA_LONG, 8, 0); // mode: never creates
      how.set(ValueLayout.JAVA_LONG, 16, resolve);
      MemorySegment capture = arena.allocate(CAPTURE);
      long r =
          (long)
              syscall.invokeExact(capture, SYS_OPENAT2, dirFd, arena.allocateFrom(path), how, 24L);
      return r >= 0 ? (int) r : -(int) ERRNO.get(capture, 0L);
    }
  }

  static void close(int fd) {
    try {
      // A failed close of an O_PATH fd leaves nothing to clean up.
      int ignored = (int) CLOSE.invokeExact(fd);
    } catch (Throwable t) {
      throw new IllegalStateException("close failed to run", t);
    }
  }

  private static int wasiErrno(int errno) {
    return switch (errno) {
      case ENOENT -> Errno.NOENT;
      case EACCES -> Errno.ACCES;
      case EPERM -> Errno.PERM;
      case ENOTDIR -> Errno.NOTDIR;
      case ELOOP -> Errno.LOOP; // a symlink appeared where the resolver saw none
      case EXDEV -> Errno.NOTCAPABLE; // the path would have left the root
      case ENAMETOOLONG -> Errno.NAMETOOLONG;
      case EMFILE -> Errno.MFILE;
      default -> Errno.IO;
    };
  }
}
