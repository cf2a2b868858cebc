package dev.spindle.image.nio;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * A large blob read as a stream, so a 1 GiB file never sits in memory whole. The stream inflates
 * forward only: a read ahead of the stream's offset skips forward, a read behind it reopens the
 * blob and skips from the start (costs a re-inflate; sequential readers, the common case, never pay
 * it). Not thread-safe: {@link BlobChannel} serialises calls.
 */
final class StreamedBlob implements BlobContent {
  /** Opens the blob's stream from its first byte. */
  @FunctionalInterface
  interface Opener {
    InputStream open() throws IOException;
  }

  private final Opener opener;
  private final long size;
  private InputStream in; // null until the first read, and after close
  private long offset; // of the next byte `in` yields
  private byte[] chunk = new byte[0];

  StreamedBlob(Opener opener, long size) {
    this.opener = opener;
    this.size = size;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int read(long position, ByteBuffer dst) throws IOException {
    seek(position);
    int want = (int) Math.min(dst.remaining(), Math.min(size - position, 64 * 1024));
    if (chunk.length < want) {
      chunk = new byte[want];
    }
    int n = in.read(chunk, 0, want);
    if (n < 0) {
      throw new IOException("blob ended at byte " + offset + " but its size is " + size);
    }
    dst.put(chunk, 0, n);
    offset += n;
    return n;
  }

  private void seek(long position) throws IOException {
    if (in == null || position < offset) {
      close();
      in = opener.open();
      offset = 0;
    }
    in.skipNBytes(position - offset);
    offset = position;
  }

  @Override
  public void close() throws IOException {
    InputStream s = in;
    in = null;
    if (s != null) {
      s.close();
    }
  }
}
