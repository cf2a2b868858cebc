package dev.spindle.fork;

import dev.spindle.store.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;

/**
 * The node's files as Git objects: a bare repository {@code $SPINDLE_HOME/files.git} where each
 * snapshot with private directories is one commit (ref {@code refs/spindle/snapshots/<tag>}), whose
 * tree holds one directory per guest path of the sandbox ({@code /home} at {@code home/}, the root
 * {@code /} as the tree itself) and whose parent is the commit of the snapshot the sandbox was
 * branched from. Blobs and trees are addressable by Git id, which is what a remote child will fetch
 * (a later step). Conventions in {@code docs/FILES.md}.
 */
final class FilesRepo {
  static final String REF_PREFIX = "refs/spindle/snapshots/";
  private static final PersonIdent SPINDLE = new PersonIdent("Spindle", "spindle@localhost");
  private final Path dir;

  /** Blob ids of upper files earlier snapshots hashed, by stat: later ones re-read only changes. */
  private final UpperStats stats = new UpperStats();

  private Repository repo;

  FilesRepo(Path dir) {
    this.dir = dir;
  }

  Path directory() {
    return dir;
  }

  synchronized Repository repo() throws IOException {
    if (repo == null) {
      Repository r = new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().build();
      if (!Files.isDirectory(dir.resolve("objects"))) {
        r.create(true);
      }
      repo = r;
    }
    return repo;
  }

  /**
   * One private directory's files at a snapshot: the tree it started from ({@code base}, null for
   * none) with its upper directory {@code upper} (OCI layout: whiteouts, opaque markers) applied. A
   * writable image's layer keeps its whiteouts ({@code layer}: they hide the image's entries below
   * it); any other directory's tree is its full view, whiteouts applied and dropped.
   */
  record Change(ObjectId base, Path upper, boolean layer) {}

  /** A snapshot's files commit and, by guest path, each directory's tree as the commit holds it. */
  record Committed(ObjectId commit, Map<String, ObjectId> trees) {}

  /**
   * Writes snapshot {@code tag}'s commit (on top of {@code parent}'s) from {@code dirs} (guest path
   * to change; the upper directories are not written meanwhile) and points the tag's ref at it:
   * objects first, the ref last, so a crash before leaves only objects no ref names. Only the upper
   * directories' files are hashed and only the trees on their paths are written; every other
   * subtree keeps the base's id: O(changed files), not O(files).
   */
  synchronized Committed commit(Tag tag, Map<String, Change> dirs, Tag parent) throws IOException {
    Repository r = repo();
    Written w =
        write(
            dirs,
            parent == null ? Optional.empty() : commitOf(parent),
            "snapshot " + tag.value() + "\n");
    ObjectId id = w.commit();
    RefUpdate u = r.updateRef(REF_PREFIX + tag.value());
    u.setNewObjectId(id);
    u.setForceUpdate(true);
    RefUpdate.Result res = u.update();
    if (res != RefUpdate.Result.NEW
        && res != RefUpdate.Result.FORCED
        && res != RefUpdate.Result.NO_CHANGE) {
      throw new IOException("cannot record the files of snapshot " + tag + ": ref update " + res);
    }
    return new Committed(id, w.stored());
  }

  /**
   * A remote fork's files: each private directory's tree (its base with its upper applied, as a
   * snapshot writes it) and a commit over them all (the snapshot layout, by guest path), with no
   * ref: the descriptor names them, and the page service serves what they reach while it is held.
   * The trees are each directory's own, by guest path (the root's without the guest paths below
   * it).
   */
  synchronized Committed commitForFork(Map<String, Change> dirs) throws IOException {
    Written w = write(dirs, Optional.empty(), "remote fork\n");
    return new Committed(w.commit(), w.own());
  }

  /** A written commit; each directory's own tree, and each as the commit's tree holds it. */
  private record Written(
      ObjectId commit, Map<String, ObjectId> own, Map<String, ObjectId> stored) {}

  private Written write(Map<String, Change> dirs, Optional<ObjectId> p, String message)
      throws IOException {
    Repository r = repo();
    // One pack per snapshot rather than a loose object per file: 10,000 files took 20 s loose.
    try (org.eclipse.jgit.internal.storage.file.PackInserter ins =
            ((org.eclipse.jgit.internal.storage.file.ObjectDirectory) r.getObjectDatabase())
                .newPackInserter();
        // Sees what this inserter wrote before its flush (a directory's tree below a guest path).
        ObjectReader reader = ins.newReader()) {
      ins.checkExisting(true);
      // Deflate's fastest level: a snapshot or remote fork writes what the guest wrote on the
      // caller's path (the guest paused), and the default level made 100 MB of files take seconds.
      ins.setCompressionLevel(java.util.zip.Deflater.BEST_SPEED);
      Map<String, ObjectId> own = new TreeMap<>();
      UpperStats.Pass pass = stats.pass();
      for (Map.Entry<String, Change> e : dirs.entrySet()) {
        Change c = e.getValue();
        pass.upper(c.upper());
        own.put(e.getKey(), apply(ins, reader, c.base(), c.upper(), c.layer(), pass));
      }
      Map<String, ObjectId> byGuest = new TreeMap<>(own);
      ObjectId rootTree = byGuest.remove("/");
      // Nested guest paths (/a/b) become nested trees; the root's own entries come first.
      Node top = new Node("/");
      top.tree = rootTree;
      for (Map.Entry<String, ObjectId> e : byGuest.entrySet()) {
        Node n = top;
        for (String c : e.getKey().substring(1).split("/")) {
          String above = n.guest;
          n =
              n.children.computeIfAbsent(
                  c, k -> new Node(above.equals("/") ? "/" + k : above + "/" + k));
        }
        n.tree = e.getValue();
      }
      Map<String, ObjectId> stored = new TreeMap<>();
      ObjectId tree = top.write(ins, reader, own.keySet(), stored);
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(tree);
      p.ifPresent(c::setParentId);
      PersonIdent who = new PersonIdent(SPINDLE, Instant.now());
      c.setAuthor(who);
      c.setCommitter(who);
      c.setMessage(message);
      ObjectId id = ins.insert(c);
      ins.flush();
      pass.publish();
      return new Written(id, own, stored);
    }
  }

  synchronized Optional<ObjectId> commitOf(Tag tag) throws IOException {
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    Ref ref = repo().exactRef(REF_PREFIX + tag.value());
    return ref == null ? Optional.empty() : Optional.ofNullable(ref.getObjectId());
  }

  synchronized void delete(Tag tag) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    RefUpdate u = repo().updateRef(REF_PREFIX + tag.value());
    u.setForceUpdate(true);
    u.delete();
  }

  /** Tags with a ref here. */
  synchronized List<Tag> tags() throws IOException {
    List<Tag> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    for (Ref ref : repo().getRefDatabase().getRefsByPrefix(REF_PREFIX)) {
      String t = ref.getName().substring(REF_PREFIX.length());
      if (Tag.isValid(t)) {
        out.add(Tag.of(t));
      }
    }
    return out;
  }

  synchronized void close() {
    if (repo != null) {
      repo.close();
      repo = null;
    }
  }

  /** A directory of the commit's tree: a directory's own tree, then guest paths below it. */
  private static final class Node {
    final String guest;
    ObjectId tree;
    final Map<String, Node> children = new TreeMap<>();

    Node(String guest) {
      this.guest = guest;
    }

    ObjectId write(
        ObjectInserter ins,
        ObjectReader reader,
        java.util.Set<String> dirs,
        Map<String, ObjectId> stored)
        throws IOException {
      if (children.isEmpty() && tree != null) {
        if (dirs.contains(guest)) {
          stored.put(guest, tree);
        }
        return tree;
      }
      Map<String, Entry> entries = tree == null ? new TreeMap<>() : read(reader, tree);
      for (Map.Entry<String, Node> c : children.entrySet()) {
        // A guest path's directory replaces a same-named entry of the directory above it.
        entries.put(
            c.getKey(),
            new Entry(c.getKey(), FileMode.TREE, c.getValue().write(ins, reader, dirs, stored)));
      }
      ObjectId id = format(ins, entries.values());
      if (dirs.contains(guest)) {
        stored.put(guest, id);
      }
      return id;
    }
  }

  static final String WHITEOUT = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";

  /**
   * Tree {@code base} (null: none) with the host directory {@code upper} applied, the OCI way: an
   * upper entry replaces the base's of that name (a directory merges into a base directory unless
   * it holds {@link #OPAQUE}), {@code .wh.NAME} deletes {@code NAME}. A {@code layer} keeps the
   * whiteouts and opaque markers as empty files, so that it still hides what lies below it.
   */
  static ObjectId apply(
      ObjectInserter ins, ObjectReader reader, ObjectId base, Path upper, boolean layer)
      throws IOException {
    return apply(ins, reader, base, upper, layer, new UpperStats().pass());
  }

  /** As above, reusing the blob ids of files {@code pass} knows unchanged (see UpperStats). */
  static ObjectId apply(
      ObjectInserter ins,
      ObjectReader reader,
      ObjectId base,
      Path upper,
      boolean layer,
      UpperStats.Pass pass)
      throws IOException {
    Map<String, Entry> entries = base == null ? new TreeMap<>() : read(reader, base);
    List<Path> children = new ArrayList<>();
    boolean opaque = false;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(upper)) {
      for (Path p : ds) {
        if (p.getFileName().toString().equals(OPAQUE)) {
          opaque = true;
        } else {
          children.add(p);
        }
      }
    }
    if (opaque) {
      entries.clear();
      if (layer) {
        entries.put(OPAQUE, new Entry(OPAQUE, FileMode.REGULAR_FILE, emptyBlob(ins)));
      }
    }
    for (Path p : children) {
      String name = p.getFileName().toString();
      if (name.startsWith(WHITEOUT)) {
        String gone = name.substring(WHITEOUT.length());
        entries.remove(gone);
        if (layer) {
          entries.put(name, new Entry(name, FileMode.REGULAR_FILE, emptyBlob(ins)));
        }
        continue;
      }
      // An entry here is the newer one: a whiteout of the same name below it no longer applies.
      entries.remove(WHITEOUT + name);
      // One stat per entry: type, size, the owner's execute bit (Git's 100755) and the change
      // time (for UpperStats).
      PosixFileAttributes a =
          Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (a.isSymbolicLink()) {
        byte[] target = Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8);
        entries.put(
            name, new Entry(name, FileMode.SYMLINK, ins.insert(Constants.OBJ_BLOB, target)));
      } else if (a.isDirectory()) {
        Entry below = entries.get(name);
        ObjectId under = below != null && below.mode == FileMode.TREE ? below.id : null;
        entries.put(
            name, new Entry(name, FileMode.TREE, apply(ins, reader, under, p, layer, pass)));
      } else if (a.isRegularFile()) {
        UpperStats.Stat stat =
            new UpperStats.Stat(a.fileKey(), a.size(), a.lastModifiedTime(), changeTime(p, a));
        ObjectId blob = pass.reuse(p, stat);
        if (blob == null) {
          try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            blob = ins.insert(Constants.OBJ_BLOB, a.size(), in);
          }
          pass.learn(p, stat, blob);
        }
        boolean exec = a.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
        entries.put(
            name, new Entry(name, exec ? FileMode.EXECUTABLE_FILE : FileMode.REGULAR_FILE, blob));
      }
      // Anything else (a fifo, a socket) a guest cannot make through WASI: not recorded.
    }
    return format(ins, entries.values());
  }

  /** The file's change time (st_ctime), which no guest can set. */
  private static FileTime changeTime(Path p, PosixFileAttributes a) throws IOException {
    Object c = Files.getAttribute(p, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
    return c instanceof FileTime t ? t : a.lastModifiedTime();
  }

  /** Upper files whose blob id a snapshot reused, unread, since this repository was opened. */
  long filesReused() {
    return stats.reused();
  }

  /** Forgets what {@link UpperStats} holds of files below {@code upper} (a sandbox ended). */
  void forgetUpper(Path upper) {
    stats.forget(upper);
  }

  private static ObjectId emptyBlob(ObjectInserter ins) throws IOException {
    return ins.insert(Constants.OBJ_BLOB, new byte[0]);
  }

  /** The entries of tree {@code id}, by name. */
  private static Map<String, Entry> read(ObjectReader reader, ObjectId id) throws IOException {
    Map<String, Entry> out = new TreeMap<>();
    if (id.equals(Constants.EMPTY_TREE_ID)) {
      return out;
    }
    CanonicalTreeParser p = new CanonicalTreeParser();
    p.reset(reader.open(id, Constants.OBJ_TREE).getCachedBytes());
    for (; !p.eof(); p.next()) {
      String name = p.getEntryPathString();
      out.put(name, new Entry(name, p.getEntryFileMode(), p.getEntryObjectId()));
    }
    return out;
  }

  /** A tree entry: its name, mode and object. */
  record Entry(String name, FileMode mode, ObjectId id) {}

  /** Git's order: by name bytes, a tree's name compared as if followed by '/'. */
  private static final Comparator<Entry> GIT_ORDER =
      Comparator.comparing(
          e -> (e.name + (e.mode == FileMode.TREE ? "/" : "")).getBytes(StandardCharsets.UTF_8),
          FilesRepo::compareBytes);

  private static int compareBytes(byte[] a, byte[] b) {
    return java.util.Arrays.compareUnsigned(a, b);
  }

  private static ObjectId format(ObjectInserter ins, java.util.Collection<Entry> entries)
      throws IOException {
    return ins.insert(formatter(entries));
  }

  /** {@code entries} as a tree, in Git's order. */
  static TreeFormatter formatter(java.util.Collection<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(GIT_ORDER);
    TreeFormatter f = new TreeFormatter();
    for (Entry e : sorted) {
      f.append(e.name, e.mode, e.id);
    }
    return f;
  }
}
