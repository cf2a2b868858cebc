package dev.spindle.sandbox.wasi;

import com.dylibso.chicory.runtime.Memory;

/** Reading and writing through the guest's {@code iovec}/{@code ciovec} arrays. */
final class Iovecs {
    private Iovecs() {}

    /** Total bytes the iovecs describe, refusing more than a Java array can hold. */
    static int totalLength(Memory m, int iovs, int count) {
        long total = 0;
        for (int i = 0; i < count; i++) {
            total += Integer.toUnsignedLong(m.readInt(iovs + i * Abi.IOVEC_SIZE + 4));
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new WasiError(Errno.INVAL);
        }
        return (int) total;
    }

    /** Concatenates the bytes the ciovecs point at. */
    static byte[] gather(Memory m, int iovs, int count) {
        byte[] out = new byte[totalLength(m, iovs, count)];
        int pos = 0;
        for (int i = 0; i < count; i++) {
            int buf = m.readInt(iovs + i * Abi.IOVEC_SIZE);
            int len = m.readInt(iovs + i * Abi.IOVEC_SIZE + 4);
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
