package dev.spindle.fork;

import dev.spindle.image.lazy.LazyBlobReader;
import dev.spindle.remote.GitObjects;
import dev.spindle.remote.RemoteObjects;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectChecker;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;

/**
 * A remote child's files: the commit and trees its descriptor names are fetched at resume (bounded,
 * in batches, one round trip per tree level) into this node's {@code files.git}; blobs on first
 * read ({@link LazyBlobReader.Blobs}), so the child moves what it reads. Every object is checked
 * against its Git id and a size bound ({@link RemoteObjects}) before it is stored; an object this
 * node already holds is not fetched.
 */
final class RemoteFiles implements LazyBlobReader.Blobs {
  /** The largest file a child reads from its parent (read into memory whole, as lazy images do). */
  static final long MAX_BLOB = 1L << 30;

  /** A tree (a directory listing) larger than this is refused: 16 MiB is ~200,000 entries. */
  static final long MAX_TREE = 16L << 20;

  /** The most trees (directories) a child's files may hold. */
  static final int MAX_TREES = 100_000;

  private final Repository repo;
  private final RemoteObjects remote;
  private final Set<ObjectId> blobs = ConcurrentHashMap.newKeySet();
  private final Map<ObjectId, Long> sizes = new ConcurrentHashMap<>();

  private RemoteFiles(Repository repo, RemoteObjects remote) {
    this.repo = repo;
    this.remote = remote;
  }

  /**
   * Fetches {@code commit} and the trees {@code roots} reach (those not here already), learns the
   * sizes of the blobs they name from the parent, and returns the source of those blobs.
   */
  static RemoteFiles resume(
      Repository repo, RemoteObjects remote, ObjectId commit, Collection<ObjectId> roots)
      throws IOException {
    RemoteFiles f = new RemoteFiles(repo, remote);
    f.ensure(List.of(commit), GitObjects.COMMIT, MAX_TREE);
    f.walkTrees(roots);
    List<byte[]> missing = new ArrayList<>();
    try (ObjectReader r = repo.newObjectReader()) {
      for (ObjectId b : f.blobs) {
        if (!r.has(b)) {
          byte[] raw = new byte[20];
          b.copyRawTo(raw, 0);
          missing.add(raw);
        }
      }
    }
    remote
        .sizes(missing, MAX_BLOB)
        .forEach((hex, size) -> f.sizes.put(ObjectId.fromString(hex), size));
    return f;
  }

  /** Level by level: each level's missing trees in batches, then their entries. */
  private void walkTrees(Collection<ObjectId> roots) throws IOException {
    Set<ObjectId> seen = new java.util.HashSet<>(roots);
    List<ObjectId> level = new ArrayList<>(seen);
    while (!level.isEmpty()) {
      ensure(level, GitObjects.TREE, MAX_TREE);
      List<ObjectId> next = new ArrayList<>();
      try (ObjectReader r = repo.newObjectReader()) {
        for (ObjectId t : level) {
          CanonicalTreeParser p = new CanonicalTreeParser(null, r, t);
          for (; !p.eof(); p.next()) {
            FileMode m = p.getEntryFileMode();
            ObjectId id = p.getEntryObjectId();
            if (m == FileMode.TREE) {
              if (seen.add(id)) {
                if (seen.size() > MAX_TREES) {
                  throw new IOException(
                      "the parent's files hold more than " + MAX_TREES + " directories");
                }
                next.add(id);
              }
            } else if (m == FileMode.REGULAR_FILE
                || m == FileMode.EXECUTABLE_FILE
                || m == FileMode.SYMLINK) {
              blobs.add(id);
            }
          }
        }
      }
      level = next;
    }
  }

  /** Fetches those of {@code ids} this node lacks, checks them, stores them in files.git. */
  private List<byte[]> ensure(List<ObjectId> ids, int type, long maxSize) throws IOException {
    List<byte[]> missing = new ArrayList<>();
    try (ObjectReader r = repo.newObjectReader()) {
      for (ObjectId id : ids) {
        if (!r.has(id)) {
          byte[] raw = new byte[20];
          id.copyRawTo(raw, 0);
          missing.add(raw);
        }
      }
    }
    if (missing.isEmpty()) {
      return List.of();
    }
    Map<String, RemoteObjects.GitObject> got;
    try {
      got = remote.fetch(missing, maxSize);
    } catch (RuntimeException e) {
      throw new IOException(e.getMessage(), e);
    }
    List<byte[]> contents = new ArrayList<>();
    try (ObjectInserter ins = repo.newObjectInserter()) {
      for (byte[] raw : missing) {
        String hex = HexFormat.of().formatHex(raw);
        RemoteObjects.GitObject o = got.get(hex);
        if (o == null || o.type() != type) {
          throw new IOException(
              "object "
                  + hex
                  + ": expected a "
                  + typeName(type)
                  + ", got "
                  + (o == null ? "nothing" : "a " + typeName(o.type())));
        }
        // Git fsck's rules for what a tree or commit may hold (no '..', '/', '.git' or duplicate
        // names; a well-formed commit): a tree's names become the child's paths.
        try {
          if (type == GitObjects.TREE) {
            new ObjectChecker().checkTree(o.content());
          } else if (type == GitObjects.COMMIT) {
            new ObjectChecker().checkCommit(o.content());
          }
        } catch (CorruptObjectException e) {
          throw new IOException(
              "object " + hex + " is not a well-formed " + typeName(type) + ": " + e.getMessage());
        }
        // Checked against its id already; JGit hashes it again as it stores it.
        ObjectId stored = ins.insert(type, o.content());
        if (!stored.name().equals(hex)) {
          throw new IOException("object " + hex + " stored as " + stored.name());
        }
        contents.add(o.content());
      }
      ins.flush();
    }
    return contents;
  }

  private static String typeName(int type) {
    return switch (type) {
      case GitObjects.COMMIT -> "commit";
      case GitObjects.TREE -> "tree";
      case GitObjects.BLOB -> "blob";
      default -> "object of type " + type;
    };
  }

  @Override
  public boolean holds(AnyObjectId id) {
    return blobs.contains(id);
  }

  @Override
  public long size(AnyObjectId id) throws IOException {
    Long s = sizes.get(id);
    return s != null ? s : read(id).length;
  }

  @Override
  public byte[] read(AnyObjectId id) throws IOException {
    List<byte[]> b = ensure(List.of(id.copy()), GitObjects.BLOB, MAX_BLOB);
    if (b.isEmpty()) {
      // Stored meanwhile (another reader fetched it): read it here.
      try (ObjectReader r = repo.newObjectReader()) {
        return r.open(id, org.eclipse.jgit.lib.Constants.OBJ_BLOB)
            .getCachedBytes(Integer.MAX_VALUE - 9);
      }
    }
    return b.getFirst();
  }

  /** Fetches every blob the trees name that this node lacks, a batch at a time. */
  void fetchAll() throws IOException {
    List<ObjectId> missing = new ArrayList<>();
    try (ObjectReader r = repo.newObjectReader()) {
      for (ObjectId b : blobs) {
        if (!r.has(b)) {
          missing.add(b);
        }
      }
    }
    for (int from = 0; from < missing.size(); from += 64) {
      ensure(missing.subList(from, Math.min(missing.size(), from + 64)), GitObjects.BLOB, MAX_BLOB);
    }
  }

  /** A reader of the child's files: files.git, and the parent's blobs on first read. */
  ObjectReader newReader() {
    return new LazyBlobReader(repo.newObjectReader(), this);
  }
}
