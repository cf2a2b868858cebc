package dev.spindle.sandbox.wasi;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;

/**
 * A sandbox's directory as the host reaches it on a guest's behalf (the daemon's file routes): the
 * same guarantees as the guest's own calls, since it is the same {@link PreopenRoot}. A path is a
 * list of plain components (never empty, {@code .}, {@code ..}, nor holding {@code /} or NUL) below
 * the directory; no symlink on the way is followed, even one swapped in by the guest between a
 * check and a use ({@code openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)} where the kernel has it).
 * A link found on the way is a {@link FileSystemException} saying so.
 */
public final class HostTree implements AutoCloseable {
  /** A path valid until closed: use it, then close it. */
  public interface Use extends AutoCloseable {
    Path path();

    @Override
    void close();
  }

  private final PreopenRoot root;

  private HostTree(PreopenRoot root) {
    this.root = root;
  }

  /** Opens {@code dir} (an existing directory) as a tree; close it when done. */
  public static HostTree open(Path dir) throws IOException {
    return new HostTree(PreopenRoot.of(dir));
  }

  /**
   * The last of {@code components} in its parent, the parent reached without following a link; the
   * last is not followed only by operations that do not follow (use {@code NOFOLLOW_LINKS}, or
   * mkdir, unlink, rename, readlink). No components: the directory itself.
   */
  public Use at(List<String> components) throws IOException {
    check(components);
    try {
      return wrap(root.at(components));
    } catch (WasiError e) {
      throw failure(components, e);
    }
  }

  /**
   * The object {@code components} names, no link followed, the last included: usable by any
   * operation.
   */
  public Use exact(List<String> components) throws IOException {
    check(components);
    try {
      return wrap(root.exact(components));
    } catch (WasiError e) {
      throw failure(components, e);
    }
  }

  @Override
  public void close() {
    root.close();
  }

  private static Use wrap(PreopenRoot.Access a) {
    return new Use() {
      @Override
      public Path path() {
        return a.path();
      }

      @Override
      public void close() {
        a.close();
      }
    };
  }

  private static void check(List<String> components) {
    for (String c : components) {
      if (c.isEmpty()
          || c.equals(".")
          || c.equals("..")
          || c.indexOf('/') >= 0
          || c.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "a path component must be a plain name (not empty, '.', '..', "
                + "nor holding '/' or NUL)");
      }
    }
  }

  private static IOException failure(List<String> components, WasiError e) {
    String path = "/" + String.join("/", components);
    return switch (e.errno()) {
      case Errno.NOENT -> new NoSuchFileException(path);
      case Errno.NOTDIR -> new NotDirectoryException(path);
      case Errno.LOOP ->
          new FileSystemException(
              path, null, "a symbolic link is on the way (links are not followed)");
      case Errno.NOTCAPABLE -> new FileSystemException(path, null, "the path leaves the tree");
      case Errno.NAMETOOLONG -> new FileSystemException(path, null, "the name is too long");
      case Errno.ACCES, Errno.PERM -> new java.nio.file.AccessDeniedException(path);
      default ->
          new FileSystemException(path, null, "cannot reach it (WASI errno " + e.errno() + ")");
    };
  }
}
