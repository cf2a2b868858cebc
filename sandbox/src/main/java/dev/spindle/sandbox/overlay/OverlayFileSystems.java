package dev.spindle.sandbox.overlay;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * A writable {@code java.nio.file} view of a read-only tree (an image's NIO file system, a host
 * directory) under a writable upper host directory. Reads come from the upper layer if the entry is
 * there, else from the lower one; every write lands in the upper layer (copy-up on first write,
 * whiteouts for deletions; see {@link Layers}), so the lower tree is never modified and the upper
 * directory alone records the sandbox's changes. Spindle's WASI uses it like any file system.
 *
 * <p>Not supported: renaming a directory that has lower entries (EXDEV, as overlayfs), file
 * attributes beyond "basic", and symlinks whose targets cross layers (a link is followed within the
 * layer that holds it; Spindle's WASI resolves links itself, one component at a time).
 */
public final class OverlayFileSystems {
  private OverlayFileSystems() {}

  /**
   * An overlay of {@code lower} (a directory of any file system, or null for none) under the host
   * directory {@code upper}, which must exist. Use {@code fs.getPath("/")} as a preopen.
   */
  public static FileSystem newFileSystem(Path lower, Path upper) throws IOException {
    if (lower != null && !Files.isDirectory(lower)) {
      throw new NotDirectoryException("overlay lower layer is not a directory: " + lower);
    }
    if (!Files.isDirectory(upper)) {
      throw new NotDirectoryException("overlay upper layer is not a directory: " + upper);
    }
    return new OverlayFileSystem(new Layers(lower, upper));
  }
}
