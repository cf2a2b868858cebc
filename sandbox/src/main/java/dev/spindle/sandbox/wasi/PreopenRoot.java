package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.List;

/**
 * The one way the WASI layer reaches a preopen's files. Every path handed out names an object by a
 * list of components below the preopen that {@link GuestPathResolver} has already resolved (no
 * {@code ..}, no symlink but maybe the last), and the root guarantees that using it follows no
 * symlink on the way: a directory swapped for a link after the resolver looked makes the use fail
 * ({@code ELOOP}) instead of leading out of the sandbox.
 */
sealed interface PreopenRoot extends AutoCloseable permits KernelRoot, ProviderRoot {

  /** A path valid until {@link #close()}: use it, then close it. */
  interface Access extends AutoCloseable {
    Path path();

    @Override
    default void close() {}
  }

  /**
   * The last of {@code components} inside its parent, reached without following any link; the last
   * component itself is not followed either only if the operation does not follow (use {@code
   * NOFOLLOW_LINKS}, or an operation that never follows: mkdir, unlink, rename, link, symlink,
   * readlink). Empty components: the root itself.
   */
  Access at(List<String> components) throws IOException;

  /**
   * The object {@code components} names, reached without following any link, the last included (a
   * symlink there is {@code ELOOP}). The path may be used by operations that follow.
   */
  Access exact(List<String> components) throws IOException;

  /** The host directory this root stands for, for messages and snapshots only. */
  Path host();

  @Override
  void close();

  /** The kernel-checked root where the host can give one, else the provider-checked one. */
  static PreopenRoot of(Path host) throws IOException {
    if (host.getFileSystem() == FileSystems.getDefault() && Openat2.AVAILABLE) {
      try {
        return KernelRoot.open(host);
      } catch (WasiError e) {
        throw new IOException(
            "preopen " + host + ": cannot open the directory (WASI errno " + e.errno() + ")", e);
      }
    }
    return new ProviderRoot(host);
  }
}
