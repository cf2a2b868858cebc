package dev.spindle.image.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only channel over a file's content. Blobs up to the file system's buffer limit ({@code
 * bufferLimit}, 8 MiB by default) are inflated whole on open ({@link BufferedBlob}); larger ones
 * are streamed and reopened on a backward seek ({@link StreamedBlob}). Thread-safe: every method
 * holds the channel's lock, as {@code SeekableByteChannel} asks.
 */
final class BlobChannel implements SeekableByteChannel {
  private final BlobContent content;
  private final FileSystemState state;
  private long position;
  private boolean open = true;

  BlobChannel(BlobContent content, FileSystemState state) {
    this.content = content;
    this.state = state;
  }

  @Override
  public synchronized int read(ByteBuffer dst) throws IOException {
    checkOpen();
    if (position >= content.size()) {
      return -1;
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    int n = content.read(position, dst);
    position += n;
    return n;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public synchronized long position() throws IOException {
    checkOpen();
    return position;
  }

  @Override
  public synchronized BlobChannel position(long newPosition) throws IOException {
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position: " + newPosition);
    }
    checkOpen();
    position = newPosition;
    return this;
  }

  @Override
  public synchronized long size() throws IOException {
    checkOpen();
    return content.size();
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public synchronized boolean isOpen() {
    return open;
  }

  private void checkOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }

  @Override
  public synchronized void close() throws IOException {
    if (open) {
      open = false;
      state.unregister(this);
      content.close();
    }
  }
}
