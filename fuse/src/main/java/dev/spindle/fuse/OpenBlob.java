package dev.spindle.fuse;

import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The content of one open file handle. The kernel reads a file in chunks of at most 128 KiB, so
 * inflating the blob per chunk would cost O(size²); instead the blob is inflated once per handle,
 * on the first read (an open that the page cache answers never inflates anything):
 *
 * <ul>
 *   <li>up to {@value #IN_MEMORY_MAX} bytes: into a byte array;
 *   <li>larger: streamed into an unlinked temporary file, only as far as reads have asked, so a
 *       reader of the head of a huge file inflates only the head, and the kernel's out-of-order
 *       (async, readahead) reads are served without going back to the start of the stream.
 * </ul>
 */
final class OpenBlob implements Closeable {
  static final int IN_MEMORY_MAX = 4 << 20;
  private static final int CHUNK = 256 << 10;

  private final Image image;
  private final ImageEntry entry;
  private byte[] bytes;
  private InputStream stream;
  private FileChannel spill;
  private long inflated;
  private IOException failure;
  private boolean closed;

  OpenBlob(Image image, ImageEntry entry) {
    this.image = image;
    this.entry = entry;
  }

  /** Copies up to {@code size} bytes at {@code offset} into {@code dst}; returns the count. */
  synchronized int read(ByteBuffer dst, long offset, long size) throws IOException {
    if (closed) {
      throw new IOException("/" + entry.path() + ": handle already released");
    }
    long end = Math.min(entry.size(), offset + Math.min(size, dst.remaining()));
    if (offset >= end) {
      return 0;
    }
    int n = (int) (end - offset);
    if (entry.size() <= IN_MEMORY_MAX) {
      if (bytes == null) {
        bytes = image.read(entry);
        checkSize(bytes.length);
      }
      dst.put(bytes, (int) offset, n);
      return n;
    }
    inflateTo(end);
    int done = 0;
    while (done < n) {
      ByteBuffer slice = dst.slice(dst.position() + done, n - done);
      int r = spill.read(slice, offset + done);
      if (r < 0) {
        throw new IOException(
            "/" + entry.path() + ": spill file ended early at " + (offset + done));
      }
      done += r;
    }
    dst.position(dst.position() + n);
    return n;
  }

  private void inflateTo(long end) throws IOException {
    if (failure != null) {
      throw new IOException("/" + entry.path() + ": unreadable: " + failure.getMessage(), failure);
    }
    try {
      if (stream == null) {
        InputStream s = image.open(entry);
        try {
          spill = spillFile();
        } catch (IOException e) {
          s.close();
          throw e;
        }
        stream = s;
      }
      byte[] buf = new byte[CHUNK];
      while (inflated < end) {
        int r = stream.read(buf);
        if (r < 0) {
          checkSize(inflated); // throws: the stream ended before the size the header promised
          throw new IOException("/" + entry.path() + ": blob ended at " + inflated);
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, r);
        while (b.hasRemaining()) {
          inflated += spill.write(b, inflated);
        }
      }
    } catch (IOException e) {
      failure = e; // a damaged blob stays damaged: later reads fail at once, without re-inflating
      throw e;
    }
  }

  private static FileChannel spillFile() throws IOException {
    Path tmp = Files.createTempFile("spindle-fuse-", ".blob");
    try {
      return FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } finally {
      Files.delete(
          tmp); // unlinked at once: the space goes back when the handle closes, even on a crash
    }
  }

  private void checkSize(long actual) throws IOException {
    if (actual != entry.size()) {
      throw new IOException(
          "image damaged: /"
              + entry.path()
              + " has "
              + actual
              + " bytes, its object header says "
              + entry.size());
    }
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    bytes = null;
    try (InputStream s = stream;
        FileChannel c = spill) {
      stream = null;
      spill = null;
    }
  }
}
