package dev.spindle.image;

import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;

/**
 * Where a tree image ({@link Image#ofTree}) reads its Git objects: one JGit reader per call. This
 * is the seam for objects that are not all local: a reader that fetches a missing tree or blob from
 * a peer node (and checks it against its id) plugs in here, and every consumer of the image
 * (lookups, reads, the NIO file system, overlays over it) works unchanged, as {@link
 * LazyBlobReader} does for lazily pulled image files.
 */
@FunctionalInterface
public interface ObjectSource {
  /** A new reader; the caller closes it. */
  ObjectReader newReader();

  /** The objects of a local repository. */
  static ObjectSource of(Repository repo) {
    return repo::newObjectReader;
  }
}
