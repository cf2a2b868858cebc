package dev.spindle.sandbox.wasi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A preopen on a file system the kernel cannot check for us: an image (read-only, in-process), an
 * overlay of one, or a host without {@code openat2}. Before each use it checks that no component on
 * the way is a symlink. The guest is single-threaded, so between that check and the use only
 * another process writing the same directory could change it: on Linux, host directories use {@link
 * KernelRoot} instead, which has no such window.
 */
final class ProviderRoot implements PreopenRoot {
  private final Path host;

  ProviderRoot(Path host) {
    this.host = host;
  }

  @Override
  public Access at(List<String> components) {
    Path p = host;
    for (int i = 0; i < components.size(); i++) {
      p = p.resolve(components.get(i));
      if (i < components.size() - 1 && Files.isSymbolicLink(p)) {
        throw new WasiError(Errno.LOOP);
      }
    }
    Path path = p;
    return () -> path;
  }

  @Override
  public Access exact(List<String> components) {
    Access a = at(components);
    if (!components.isEmpty() && Files.isSymbolicLink(a.path())) {
      throw new WasiError(Errno.LOOP);
    }
    return a;
  }

  @Override
  public Path host() {
    return host;
  }

  @Override
  public void close() {}
}
