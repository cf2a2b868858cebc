package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.fork.ImageDirs;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Opens a ready image of this node as a read-only directory for sandboxes (their {@code dirs}):
 * through the store's signature policy, one file system per image root, shared by every sandbox
 * that names it and kept while the node runs (an image file is immutable; a new image under the
 * same tag has another root, so another file system).
 */
final class ImageDirOpener implements ImageDirs {
  private final Catalog catalog;
  private final Map<String, FileSystem> open = new ConcurrentHashMap<>();

  ImageDirOpener(Catalog catalog) {
    this.catalog = catalog;
  }

  /** The root tree id (hex) image {@code tag} holds now; 404/409 for no ready image. */
  String root(String tag) throws IOException {
    ImageInfo row = catalog.get(tag);
    if (!Catalog.IMAGE.equals(row.kind()) || !row.ready()) {
      throw ApiError.conflict(
          "not_ready",
          "'"
              + tag
              + "' is a "
              + row.kind()
              + " with status "
              + row.status()
              + ", not a ready image");
    }
    try (Image img = catalog.images().open(Catalog.tag(tag, "dirs[].image"), AccessMode.INDEXED)) {
      return img.root().name();
    }
  }

  @Override
  public Path open(String tag, String root) throws IOException {
    String now;
    try {
      now = root(tag);
    } catch (ApiError e) {
      throw new IOException("image directory '" + tag + "': " + e.getMessage(), e);
    }
    if (root != null && !root.equals(now)) {
      throw new IOException(
          "image '"
              + tag
              + "' now holds root "
              + now
              + ", not "
              + root
              + " as when the directory was recorded: the sandbox's files would not be the same");
    }
    FileSystem fs = open.get(now);
    if (fs == null) {
      synchronized (this) {
        fs = open.get(now);
        if (fs == null) {
          fs = FileSystems.newFileSystem(catalog.images().usable(tag), Map.of("mode", "indexed"));
          open.put(now, fs);
        }
      }
    }
    return fs.getPath("/");
  }

  void close() {
    for (FileSystem fs : open.values()) {
      try {
        fs.close();
      } catch (IOException e) {
        // Closing with the node: nothing more to do.
      }
    }
    open.clear();
  }
}
