package dev.spindle.fork;

import java.io.IOException;
import java.nio.file.Path;
import org.eclipse.jgit.lib.ObjectId;

/**
 * How a snapshot's state names its directories: as host paths under {@code HOME/files} that exist
 * nowhere on disk ({@code images/TAG/ROOT}, {@code trees/COMMIT/TREE}, {@code
 * layers/TAG/ROOT/COMMIT/TREE}), so that the state format (a preopen is a guest path and a host
 * path) needs no new field; and reading them back, refusing a malformed one (a state is input too).
 */
final class FileMarkers {
  private final Path images;
  private final Path trees;
  private final Path layers;

  FileMarkers(Path filesRoot) {
    this.images = filesRoot.resolve("images");
    this.trees = filesRoot.resolve("trees");
    this.layers = filesRoot.resolve("layers");
  }

  /** What a snapshot records for a private directory: {@code files/trees/COMMIT/TREE}. */
  Path tree(ObjectId commit, ObjectId tree) {
    return trees.resolve(commit.name()).resolve(tree.name());
  }

  /**
   * The host path a snapshot records for a read-only image directory: {@code
   * files/images/TAG/ROOT}.
   */
  Path image(String tag, String root) {
    return images.resolve(tag).resolve(root == null ? "any" : root);
  }

  /**
   * What a snapshot records for a writable image directory: {@code
   * files/layers/TAG/ROOT/COMMIT/TREE}, the image and its layer's tree.
   */
  Path layer(String tag, String root, ObjectId commit, ObjectId tree) {
    return layers
        .resolve(tag)
        .resolve(root == null ? "any" : root)
        .resolve(commit.name())
        .resolve(tree.name());
  }

  /** The {@code n} names below {@code base} of {@code p}, or null if it is not such a path. */
  private static String[] namesBelow(Path base, Path p, int n) {
    if (p.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return null;
    }
    Path rel = p.toAbsolutePath().normalize();
    String[] out = new String[n];
    for (int i = n - 1; i >= 0; i--) {
      if (rel == null || rel.getFileName() == null) {
        return null;
      }
      out[i] = rel.getFileName().toString();
      rel = rel.getParent();
    }
    return rel != null && rel.equals(base.toAbsolutePath().normalize()) ? out : null;
  }

  /** {@code [commit, tree]} if {@code p} is a snapshot's tree marker, else null. */
  ObjectId[] treeOf(Path p) throws IOException {
    String[] n = namesBelow(trees, p, 2);
    if (n == null) {
      return null;
    }
    return new ObjectId[] {objectId(n[0], p), objectId(n[1], p)};
  }

  /** {@code [tag, root, commit, tree]} if {@code p} is a snapshot's layer marker, else null. */
  String[] layerOf(Path p) throws IOException {
    String[] n = namesBelow(layers, p, 4);
    if (n == null) {
      return null;
    }
    objectId(n[2], p);
    objectId(n[3], p);
    return new String[] {n[0], n[1].equals("any") ? null : n[1], n[2], n[3]};
  }

  private static ObjectId objectId(String s, Path marker) throws IOException {
    if (!s.matches("[0-9a-f]{40}")) {
      throw new IOException("a snapshot's files are named wrongly: " + marker);
    }
    return ObjectId.fromString(s);
  }

  /** {@code [tag, root]} if {@code p} is such a marker, else null. */
  String[] imageOf(Path p) {
    String[] n = namesBelow(images, p, 2);
    return n == null ? null : new String[] {n[0], n[1].equals("any") ? null : n[1]};
  }
}
