package dev.spindle.fork;

import dev.spindle.remote.GitObjects;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * What a remote fork's capability may read of this node's {@code files.git}: the commit the
 * descriptor names, the per-directory trees, and everything their trees reach; not the commit's
 * ancestors, and nothing else of the repository (other sandboxes' snapshots). The set is walked
 * once, on the first request, off the fork's path.
 */
final class FilesExport implements GitObjects {
  private final Repository repo;
  private final List<ObjectId> roots;
  private Set<ObjectId> servable;

  /** {@code roots}: trees and commits whose reach is served. */
  FilesExport(Repository repo, List<ObjectId> roots) {
    this.repo = repo;
    this.roots = List.copyOf(roots);
  }

  /** Every object the roots reach (a commit's tree, not its parents). */
  synchronized Set<ObjectId> servable() throws IOException {
    if (servable == null) {
      Set<ObjectId> s = new HashSet<>();
      try (ObjectReader r = repo.newObjectReader();
          RevWalk rw = new RevWalk(r)) {
        for (ObjectId root : roots) {
          ObjectId tree = root;
          if (r.open(root).getType() == Constants.OBJ_COMMIT) {
            s.add(root.copy());
            RevCommit c = rw.parseCommit(root);
            tree = c.getTree().copy();
          }
          s.add(tree.copy());
          try (TreeWalk tw = new TreeWalk(r)) {
            tw.addTree(tree);
            tw.setRecursive(false);
            while (tw.next()) {
              s.add(tw.getObjectId(0));
              if (tw.isSubtree()) {
                tw.enterSubtree();
              }
            }
          }
        }
      }
      servable = s;
    }
    return servable;
  }

  @Override
  public Opened open(byte[] id) throws IOException {
    ObjectId oid = ObjectId.fromRaw(id);
    if (!servable().contains(oid)) {
      return null;
    }
    ObjectReader r = repo.newObjectReader();
    try {
      ObjectLoader l = r.open(oid);
      // The reader is closed with the stream: a packed object's stream reads through it.
      InputStream in =
          new FilterInputStream(l.openStream()) {
            @Override
            public void close() throws IOException {
              try {
                super.close();
              } finally {
                r.close();
              }
            }
          };
      return new Opened(l.getType(), l.getSize(), in);
    } catch (MissingObjectException e) {
      r.close();
      return null;
    } catch (IOException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  /**
   * Every servable object as the fallback store keeps it ({@link
   * dev.spindle.remote.RemoteObjects#raw}), those it already holds skipped: so a child reads the
   * files once the parent's node is gone. Returns the objects written.
   */
  long upload(dev.spindle.remote.PageStore store) throws IOException {
    long written = 0;
    try (ObjectReader r = repo.newObjectReader()) {
      for (ObjectId id : servable()) {
        if (store.containsObject(id.name())) {
          continue;
        }
        ObjectLoader l = r.open(id);
        store.putObject(
            id.name(),
            dev.spindle.remote.RemoteObjects.raw(
                l.getType(), l.getCachedBytes(Integer.MAX_VALUE - 9)));
        written++;
      }
    }
    return written;
  }
}
