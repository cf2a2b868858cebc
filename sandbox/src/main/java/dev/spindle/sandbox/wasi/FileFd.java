package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;

/**
 * An open regular file. The guest's offset lives here, not in the channel, so a snapshot reads it
 * without touching the channel and positional and streaming I/O share one code path. Its {@link
 * #self()} names this very file for stat and times (on the host's file system, the file itself even
 * if its path now names another).
 */
final class FileFd extends FdEntry {
  private final int preopen;
  private final String path;
  private final PreopenRoot.Access self;
  private final SeekableByteChannel channel;
  private final boolean readable;
  private final boolean writable;
  private long offset;

  FileFd(
      int preopen,
      String path,
      PreopenRoot.Access self,
      SeekableByteChannel channel,
      boolean readable,
      boolean writable,
      long rightsBase,
      long rightsInheriting,
      int fdFlags,
      long offset) {
    super(rightsBase, rightsInheriting, fdFlags);
    this.preopen = preopen;
    this.path = path;
    this.self = self;
    this.channel = channel;
    this.readable = readable;
    this.writable = writable;
    this.offset = offset;
  }

  /** Valid while this descriptor is open. */
  PreopenRoot.Access self() {
    return self;
  }

  SeekableByteChannel channel() {
    return channel;
  }

  boolean readable() {
    return readable;
  }

  boolean writable() {
    return writable;
  }

  long offset() {
    return offset;
  }

  void offset(long offset) {
    this.offset = offset;
  }

  @Override
  WasiState.Fd capture(int fd) {
    return new WasiState.Fd(
        fd,
        WasiState.Kind.FILE,
        preopen,
        path,
        false,
        rightsBase(),
        rightsInheriting(),
        fdFlags(),
        offset);
  }

  @Override
  void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing the guest can do about a failed close of a file it only read or wrote.
    } finally {
      self.close();
    }
  }

  @Override
  int fileType() {
    return Abi.FILETYPE_REGULAR_FILE;
  }
}
