package dev.spindle.image.nio;

import java.nio.ByteBuffer;

/** A blob read whole into memory once: small files, where one inflate beats any bookkeeping. */
record BufferedBlob(byte[] bytes) implements BlobContent {
  @Override
  public long size() {
    return bytes.length;
  }

  @Override
  public int read(long position, ByteBuffer dst) {
    int n = (int) Math.min(dst.remaining(), bytes.length - position);
    dst.put(bytes, (int) position, n);
    return n;
  }

  @Override
  public void close() {}
}
