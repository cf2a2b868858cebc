package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;

/**
 * Reading and writing through the guest's {@code iovec}/{@code ciovec} arrays. One call moves at
 * most {@value #MAX_BYTES} bytes: reads and writes may be short in POSIX and WASI, and the cap
 * keeps a guest from making the host allocate gigabytes with overlapping iovecs.
 */
final class Iovecs {
  static final int MAX_BYTES = 16 << 20;

  private Iovecs() {}

  /**
   * The bytes one call moves: the iovecs' total, capped. An iovec outside guest memory is {@code
   * EFAULT}, found before anything is allocated.
   */
  static int totalLength(Memory m, int iovs, int count) {
    long memorySize = (long) m.pages() * Memory.PAGE_SIZE;
    long total = 0;
    for (int i = 0; i < count; i++) {
      long buf = Integer.toUnsignedLong(m.readInt(iovs + i * Abi.IOVEC_SIZE));
      long len = Integer.toUnsignedLong(m.readInt(iovs + i * Abi.IOVEC_SIZE + 4));
      if (buf + len > memorySize) {
        throw new WasiError(Errno.FAULT);
      }
      total += len;
    }
    return (int) Math.min(total, MAX_BYTES);
  }

  /** Concatenates the bytes the ciovecs point at, up to {@link #totalLength}. */
  static byte[] gather(Memory m, int iovs, int count) {
    byte[] out = new byte[totalLength(m, iovs, count)];
    int pos = 0;
    for (int i = 0; i < count && pos < out.length; i++) {
      int buf = m.readInt(iovs + i * Abi.IOVEC_SIZE);
      int len = Math.min(m.readInt(iovs + i * Abi.IOVEC_SIZE + 4), out.length - pos);
      System.arraycopy(m.readBytes(buf, len), 0, out, pos, len);
      pos += len;
    }
    return out;
  }

  /** Spreads the first {@code n} bytes of {@code data} over the iovecs. */
  static void scatter(Memory m, int iovs, int count, byte[] data, int n) {
    int pos = 0;
    for (int i = 0; i < count && pos < n; i++) {
      int buf = m.readInt(iovs + i * Abi.IOVEC_SIZE);
      int len = Math.min(m.readInt(iovs + i * Abi.IOVEC_SIZE + 4), n - pos);
      m.write(buf, data, pos, len);
      pos += len;
    }
  }
}
