package dev.spindle.image.nio;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedFileSystemException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether a file system is open, and what it has handed out that must close with it (channels,
 * streams, directory streams). Every entry point calls {@link #checkOpen()}; {@link #close()}
 * closes each registered resource once, so a caller holding a channel after the file system closed
 * gets {@code ClosedChannelException} rather than reads from a closed image.
 */
final class FileSystemState {
  private final AtomicBoolean open = new AtomicBoolean(true);
  private final Set<Closeable> resources = ConcurrentHashMap.newKeySet();

  void checkOpen() {
    if (!open.get()) {
      throw new ClosedFileSystemException();
    }
  }

  boolean isOpen() {
    return open.get();
  }

  /** Registers {@code c} to be closed with the file system; closes it now if already closed. */
  <C extends Closeable> C register(C c) throws IOException {
    resources.add(c);
    if (!open.get()) { // close() ran between the caller's checkOpen() and here
      resources.remove(c);
      c.close();
      throw new ClosedFileSystemException();
    }
    return c;
  }

  void unregister(Closeable c) {
    resources.remove(c);
  }

  /**
   * Marks the state closed and closes every registered resource once, keeping the first failure.
   */
  void close() throws IOException {
    if (!open.compareAndSet(true, false)) {
      return;
    }
    IOException first = null;
    for (Closeable c : Set.copyOf(resources)) {
      try {
        c.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    resources.clear();
    if (first != null) {
      throw first;
    }
  }
}
