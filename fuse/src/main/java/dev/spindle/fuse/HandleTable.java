package dev.spindle.fuse;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Open files by the handle number FUSE hands back on every read ({@code fi->fh}). */
final class HandleTable {
  private final ConcurrentHashMap<Long, OpenBlob> open = new ConcurrentHashMap<>();
  private final AtomicLong next = new AtomicLong(1);

  long add(OpenBlob blob) {
    long h = next.getAndIncrement();
    open.put(h, blob);
    return h;
  }

  /** The blob behind {@code handle}, or null when it was never opened or already released. */
  OpenBlob get(long handle) {
    return open.get(handle);
  }

  void release(long handle) throws IOException {
    OpenBlob b = open.remove(handle);
    if (b != null) {
      b.close();
    }
  }

  /** Closes what the kernel never released (the mount went away with files still open). */
  void closeAll() throws IOException {
    IOException first = null;
    for (Long h : List.copyOf(open.keySet())) {
      try {
        release(h);
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
