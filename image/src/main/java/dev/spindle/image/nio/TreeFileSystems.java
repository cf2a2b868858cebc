package dev.spindle.image.nio;

import dev.spindle.image.Image;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.spi.FileSystemProvider;

/**
 * Git trees as read-only file systems: the image file system over a tree image ({@link
 * Image#ofTree}), with everything an image file system does (lazy tree walks, blobs streamed,
 * writes refused) and each blob checked against its id as it is read. Such a file system is not
 * registered under a URI; its holder closes it.
 */
public final class TreeFileSystems {
  private TreeFileSystems() {}

  /**
   * A file system over {@code image}, which it closes when closed; {@code name} (for example the
   * repository and tree id) names it in its store and {@code toString}.
   */
  public static FileSystem open(Image image, Path name) throws IOException {
    return ImageFileSystem.ofTree(provider(), name, image);
  }

  private static SpindleFileSystemProvider provider() {
    for (FileSystemProvider p : FileSystemProvider.installedProviders()) {
      if (p instanceof SpindleFileSystemProvider s) {
        return s;
      }
    }
    return new SpindleFileSystemProvider();
  }
}
