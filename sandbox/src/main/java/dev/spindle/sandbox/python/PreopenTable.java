package dev.spindle.sandbox.python;

import com.dylibso.chicory.runtime.Memory;
import java.nio.charset.StandardCharsets;

/**
 * wasi-libc's table of preopens inside the CPython module's memory: an array of {@code struct
 * preopen { const char *prefix; __wasi_fd_t fd; }} (8 bytes each), the prefix stored without its
 * leading {@code /}. The module was pre-initialised (Wizer) with {@code /guest} at fd 3, so the
 * table holds that entry (twice, in this build) and is never filled again. Making its prefix empty
 * makes wasi-libc resolve every absolute path against fd 3, exactly as for a preopen named {@code
 * /}.
 */
final class PreopenTable {
  private static final byte[] GUEST = "guest\0".getBytes(StandardCharsets.US_ASCII);
  private static final int FD = 3;

  /** The module's data and heap as set up: the table lives in its first pages. */
  private static final int CHUNK = 1 << 20;

  private PreopenTable() {}

  /**
   * Empties the prefix of every entry {@code {ptr -> "guest", 3}}; returns how many. The whole
   * memory is read once, a megabyte at a time (a one-time cost of the node's warm boot).
   */
  static int rootAtFd3(Memory memory) {
    long size = (long) memory.pages() * Memory.PAGE_SIZE;
    int patched = 0;
    for (long base = 0; base < size; base += CHUNK) {
      int len = (int) Math.min(CHUNK, size - base);
      byte[] b = memory.readBytes((int) base, len);
      for (int i = 0; i + 8 <= len; i += 4) {
        int ptr =
            (b[i] & 0xff)
                | (b[i + 1] & 0xff) << 8
                | (b[i + 2] & 0xff) << 16
                | (b[i + 3] & 0xff) << 24;
        int fd =
            (b[i + 4] & 0xff)
                | (b[i + 5] & 0xff) << 8
                | (b[i + 6] & 0xff) << 16
                | (b[i + 7] & 0xff) << 24;
        if (fd != FD || ptr <= 0 || ptr > size - GUEST.length) {
          continue;
        }
        if (java.util.Arrays.equals(memory.readBytes(ptr, GUEST.length), GUEST)) {
          memory.writeByte(ptr, (byte) 0);
          patched++;
        }
      }
    }
    return patched;
  }
}
