package dev.spindle.image.lazy;

import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.PathIndex;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The blobs of a lazily pulled image: named by its (verified) trees, sized by its path index, read
 * through the shared {@link ObjectCache} and fetched from the node on a miss.
 */
public final class RemoteBlobs implements LazyBlobReader.Blobs {
  private final ImageOrigin node;
  private final ObjectCache cache;
  private final Map<ObjectId, Long> sizes;

  private RemoteBlobs(ImageOrigin node, ObjectCache cache, Map<ObjectId, Long> sizes) {
    this.node = node;
    this.cache = cache;
    this.sizes = sizes;
  }

  /** The remote blobs of {@code file}, or null when it is a whole (not lazily pulled) image. */
  public static RemoteBlobs of(Path file, ImageHeader h, FileChannel ch) throws IOException {
    if (!RemoteImage.isLazy(file)) {
      return null;
    }
    RemoteImage remote = RemoteImage.read(file);
    PathIndex index =
        PathIndex.read(
            file.toString(),
            h.pathIndexOffset(),
            ch.map(FileChannel.MapMode.READ_ONLY, h.pathIndexOffset(), h.pathIndexLength()));
    Map<ObjectId, Long> sizes = new HashMap<>();
    for (int i = 0; i < index.size(); i++) {
      ImageEntry e = index.entry(i);
      if (e.isRegularFile() || e.isSymlink()) {
        sizes.put(e.id(), e.size());
      }
    }
    return new RemoteBlobs(ImageOrigin.of(remote, file), ObjectCache.of(remote.cache()), sizes);
  }

  @Override
  public boolean holds(AnyObjectId id) {
    return sizes.containsKey(id);
  }

  @Override
  public long size(AnyObjectId id) {
    return sizes.get(id);
  }

  @Override
  public byte[] read(AnyObjectId id) throws IOException {
    return cache.blob(id.copy(), sizes.get(id), node::blob);
  }
}
