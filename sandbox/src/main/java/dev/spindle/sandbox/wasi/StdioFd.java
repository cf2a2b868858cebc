package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** fd 0, 1 or 2: a host stream, not seekable, reported as a character device. */
final class StdioFd extends FdEntry {
  private final WasiState.Kind kind;
  private final InputStream in;
  private final OutputStream out;

  StdioFd(WasiState.Kind kind, InputStream in, OutputStream out, long rightsBase, int fdFlags) {
    super(rightsBase, 0, fdFlags);
    this.kind = kind;
    this.in = in;
    this.out = out;
  }

  WasiState.Kind kind() {
    return kind;
  }

  int read(byte[] buf) throws IOException {
    if (in == null) {
      throw new WasiError(Errno.BADF);
    }
    int n = in.read(buf);
    return Math.max(n, 0);
  }

  int available() throws IOException {
    return in == null ? 0 : in.available();
  }

  void write(byte[] buf) throws IOException {
    if (out == null) {
      throw new WasiError(Errno.BADF);
    }
    out.write(buf);
    out.flush();
  }

  @Override
  WasiState.Fd capture(int fd) {
    return new WasiState.Fd(
        fd, kind, -1, "", false, rightsBase(), rightsInheriting(), fdFlags(), 0);
  }

  @Override
  void close() {
    // The host owns its streams; closing the guest's fd must not close System.out.
  }

  @Override
  int fileType() {
    return Abi.FILETYPE_CHARACTER_DEVICE;
  }
}
