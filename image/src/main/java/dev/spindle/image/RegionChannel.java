package dev.spindle.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.eclipse.jgit.internal.storage.dfs.ReadableChannel;

/**
 * One section of an image file (its PACK or IDX) seen by JGit's DFS layer as a whole file. The
 * underlying channel is shared and only read with positional reads, so regions need no locking.
 */
final class RegionChannel implements ReadableChannel {
  private final FileChannel file;
  private final long offset;
  private final long length;
  private long position;
  private boolean open = true;

  RegionChannel(FileChannel file, long offset, long length) {
    this.file = file;
    this.offset = offset;
    this.length = length;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (position >= length) {
      return -1;
    }
    int want = (int) Math.min(dst.remaining(), length - position);
    ByteBuffer slice = dst.slice(dst.position(), want);
    int n = file.read(slice, offset + position);
    if (n > 0) {
      dst.position(dst.position() + n);
      position += n;
    }
    return n;
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public void position(long newPosition) {
    position = newPosition;
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public int blockSize() {
    return 0;
  }

  @Override
  public void setReadAheadBytes(int bufferSize) {}

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }
}
