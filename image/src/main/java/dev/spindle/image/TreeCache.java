package dev.spindle.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * Raw tree objects of an image, inflated once and kept in a bounded LRU, so that a lazy lookup
 * costs one hash probe and a scan of a few dozen entries per path level instead of inflating (and
 * resolving deltas of) every tree on the way. Measured on /usr/share/doc at depth 5: JGit's {@code
 * TreeWalk.forPath} took ~160 us per lookup; see bench/image for the figure with the cache.
 */
final class TreeCache {
  private final long maxBytes;
  private long bytes;
  private final LinkedHashMap<ObjectId, byte[]> trees = new LinkedHashMap<>(256, 0.75f, true);

  TreeCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** One entry found in a tree: its mode bits and id. */
  record Hit(int mode, ObjectId id) {}

  /** The entry named {@code name} in tree {@code tree}, or null. */
  Hit find(ObjectReader reader, ObjectId tree, byte[] name) throws IOException {
    byte[] raw = raw(reader, tree);
    int p = 0;
    while (p < raw.length) {
      int mode = 0;
      while (raw[p] != ' ') {
        mode = (mode << 3) + (raw[p++] - '0');
      }
      p++;
      int nameStart = p;
      while (raw[p] != 0) {
        p++;
      }
      int nameEnd = p++;
      if (nameEnd - nameStart == name.length
          && java.util.Arrays.equals(raw, nameStart, nameEnd, name, 0, name.length)) {
        return new Hit(mode, ObjectId.fromRaw(raw, p));
      }
      p += Constants.OBJECT_ID_LENGTH;
    }
    return null;
  }

  /** The entry at {@code path} below {@code root} (no leading '/', not empty), or null. */
  Hit walk(ObjectReader reader, ObjectId root, String path) throws IOException {
    ObjectId tree = root;
    int start = 0;
    while (true) {
      int slash = path.indexOf('/', start);
      String name = slash < 0 ? path.substring(start) : path.substring(start, slash);
      Hit h = find(reader, tree, name.getBytes(StandardCharsets.UTF_8));
      if (h == null || slash < 0) {
        return h;
      }
      if (h.mode() != FileMode.TREE.getBits()) {
        return null;
      }
      tree = h.id();
      start = slash + 1;
    }
  }

  private byte[] raw(ObjectReader reader, ObjectId tree) throws IOException {
    synchronized (trees) {
      byte[] b = trees.get(tree);
      if (b != null) {
        return b;
      }
    }
    byte[] b = reader.open(tree, Constants.OBJ_TREE).getCachedBytes();
    synchronized (trees) {
      if (trees.put(tree.copy(), b) == null) {
        bytes += b.length;
      }
      var it = trees.entrySet().iterator();
      while (bytes > maxBytes && it.hasNext()) {
        Map.Entry<ObjectId, byte[]> e = it.next();
        bytes -= e.getValue().length;
        it.remove();
      }
    }
    return b;
  }
}
