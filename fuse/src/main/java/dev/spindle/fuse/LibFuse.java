package dev.spindle.fuse;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where libfuse 3 lives and the one call jfuse 0.7.3 does not wrap: {@code fuse_get_context()},
 * which names the process behind the request being served (for the access trace).
 */
@SuppressWarnings("restricted") // FFM into libfuse; the JVM runs with --enable-native-access
final class LibFuse {
  /** Debian's path (docs/PLATFORM-FACTS.md); jfuse's default name lookup does not find it. */
  static final String LIBRARY = "/usr/lib/x86_64-linux-gnu/libfuse3.so.3";

  static final Path DEVICE = Path.of("/dev/fuse");

  /** {@code struct fuse_context { struct fuse *fuse; uid_t uid; gid_t gid; pid_t pid; ... }}. */
  private static final long PID_OFFSET = 16;

  private static volatile MethodHandle getContext;

  private LibFuse() {}

  /** Throws an error saying what to install when FUSE cannot work on this machine. */
  static void requireAvailable() throws IOException {
    if (!Files.exists(DEVICE)) {
      throw new IOException("FUSE not available: " + DEVICE + " is missing (modprobe fuse)");
    }
    if (!Files.isReadable(Path.of(LIBRARY))) {
      throw new IOException("libfuse3 not found at " + LIBRARY + ": apt-get install fuse3");
    }
  }

  /**
   * The pid of the process whose request this FUSE worker thread is serving, or -1. Only meaningful
   * inside a FUSE callback (libfuse keeps the context per worker thread). The kernel reports the
   * calling thread; its thread group id is the process.
   */
  static long callerPid() {
    int tid = callerThread();
    if (tid <= 0) {
      return -1;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + tid + "/status"))) {
        if (line.startsWith("Tgid:")) {
          return Long.parseLong(line.substring(5).strip());
        }
      }
    } catch (IOException | RuntimeException e) {
      // the thread is gone already: its id is the best there is
    }
    return tid;
  }

  private static int callerThread() {
    try {
      MemorySegment ctx = (MemorySegment) contextHandle().invokeExact();
      if (ctx.equals(MemorySegment.NULL)) {
        return -1;
      }
      return ctx.reinterpret(PID_OFFSET + 4).get(ValueLayout.JAVA_INT, PID_OFFSET);
    } catch (Throwable t) {
      return -1; // the trace is best effort; never fail a read for it
    }
  }

  private static MethodHandle contextHandle() {
    MethodHandle h = getContext;
    if (h == null) {
      SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(LIBRARY), Arena.global());
      h =
          Linker.nativeLinker()
              .downcallHandle(
                  lib.findOrThrow("fuse_get_context"), FunctionDescriptor.of(ValueLayout.ADDRESS));
      getContext = h;
    }
    return h;
  }
}
