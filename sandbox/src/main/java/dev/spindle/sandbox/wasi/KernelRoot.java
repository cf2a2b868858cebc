package dev.spindle.sandbox.wasi;

import java.nio.file.Path;
import java.util.List;

/**
 * A preopen on the host's own file system, held open as an {@code O_PATH} fd. Each access opens the
 * parent (or the object) with {@code openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)} and hands out
 * {@code /proc/self/fd/N/NAME}: the kernel reaches {@code N}'s very directory through the magic
 * link, so nothing between the check and the use can be swapped under the guest.
 */
final class KernelRoot implements PreopenRoot {
  private static final Path PROC_FD = Path.of("/proc/self/fd");

  private final Path host;
  private final int rootFd;
  private volatile boolean closed;

  private KernelRoot(Path host, int rootFd) {
    this.host = host;
    this.rootFd = rootFd;
  }

  static KernelRoot open(Path host) {
    return new KernelRoot(host, Openat2.openRoot(host.toAbsolutePath().toString()));
  }

  @Override
  public Access at(List<String> components) {
    if (components.isEmpty()) {
      // "N/." and not "N": lstat of the magic link itself would report a link.
      int fd = open(components, Openat2.O_DIRECTORY);
      return new FdAccess(fd, PROC_FD.resolve(Integer.toString(fd)).resolve("."));
    }
    int parent = open(components.subList(0, components.size() - 1), Openat2.O_DIRECTORY);
    return new FdAccess(
        parent, PROC_FD.resolve(Integer.toString(parent)).resolve(components.getLast()));
  }

  @Override
  public Access exact(List<String> components) {
    int fd = open(components, 0);
    return new FdAccess(fd, PROC_FD.resolve(Integer.toString(fd)));
  }

  private int open(List<String> components, int flags) {
    if (closed) {
      throw new WasiError(Errno.BADF);
    }
    String path = components.isEmpty() ? "." : String.join("/", components);
    return Openat2.beneath(rootFd, path, Openat2.O_PATH | flags);
  }

  @Override
  public Path host() {
    return host;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      Openat2.close(rootFd);
    }
  }

  private record FdAccess(int fd, Path path) implements Access {
    @Override
    public void close() {
      Openat2.close(fd);
    }
  }
}
