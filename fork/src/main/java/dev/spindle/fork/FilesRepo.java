package dev.spindle.fork;

import dev.spindle.store.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

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
   * Writes {@code dirs} (guest path to a host directory that nothing writes meanwhile) as snapshot
   * {@code tag}'s commit on top of {@code parent}'s, and points the tag's ref at it.
   */
  synchronized ObjectId commit(Tag tag, Map<String, Path> dirs, Tag parent) throws IOException {
    Repository r = repo();
    // One pack per snapshot rather than a loose object per file: 10,000 files took 20 s loose.
    try (org.eclipse.jgit.internal.storage.file.PackInserter ins =
        ((org.eclipse.jgit.internal.storage.file.ObjectDirectory) r.getObjectDatabase())
            .newPackInserter()) {
      ins.checkExisting(true);
      Map<String, Path> byGuest = new TreeMap<>(dirs);
      Path rootDir = byGuest.remove("/");
      // Nested guest paths (/a/b) become nested trees; the root's own entries come first.
      Node top = new Node();
      if (rootDir != null) {
        top.hostDir = rootDir;
      }
      for (Map.Entry<String, Path> e : byGuest.entrySet()) {
        Node n = top;
        for (String c : e.getKey().substring(1).split("/")) {
          n = n.children.computeIfAbsent(c, k -> new Node());
        }
        n.hostDir = e.getValue();
      }
      ObjectId tree = top.write(ins);
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(tree);
      Optional<ObjectId> p = parent == null ? Optional.empty() : commitOf(parent);
      p.ifPresent(c::setParentId);
      PersonIdent who = new PersonIdent(SPINDLE, Instant.now());
      c.setAuthor(who);
      c.setCommitter(who);
      c.setMessage("snapshot " + tag.value() + "\n");
      ObjectId id = ins.insert(c);
      ins.flush();
      RefUpdate u = r.updateRef(REF_PREFIX + tag.value());
      u.setNewObjectId(id);
      u.setForceUpdate(true);
      RefUpdate.Result res = u.update();
      if (res != RefUpdate.Result.NEW
          && res != RefUpdate.Result.FORCED
          && res != RefUpdate.Result.NO_CHANGE) {
        throw new IOException("cannot record the files of snapshot " + tag + ": ref update " + res);
      }
      return id;
    }
  }

  /**
   * A remote fork's files: one tree per private directory ({@code dirs}, index to a host directory
   * nothing writes meanwhile) and a commit over them all (the snapshot layout, by guest path), with
   * no ref: the descriptor names them, and the page service serves what they reach while it is
   * held. Trees are returned in the map's order, the commit last.
   */
  synchronized List<ObjectId> commitForFork(Map<String, Path> dirs) throws IOException {
    Repository r = repo();
    try (org.eclipse.jgit.internal.storage.file.PackInserter ins =
        ((org.eclipse.jgit.internal.storage.file.ObjectDirectory) r.getObjectDatabase())
            .newPackInserter()) {
      ins.checkExisting(true);
      List<ObjectId> out = new ArrayList<>();
      Node top = new Node();
      for (Map.Entry<String, Path> e : dirs.entrySet()) {
        ObjectId tree = format(ins, hostEntries(ins, e.getValue()));
        out.add(tree);
        if (e.getKey().equals("/")) {
          top.hostDir = e.getValue();
        } else {
          Node n = top;
          for (String c : e.getKey().substring(1).split("/")) {
            n = n.children.computeIfAbsent(c, k -> new Node());
          }
          n.hostDir = e.getValue();
        }
      }
      CommitBuilder c = new CommitBuilder();
      c.setTreeId(top.write(ins));
      PersonIdent who = new PersonIdent(SPINDLE, Instant.now());
      c.setAuthor(who);
      c.setCommitter(who);
      c.setMessage("remote fork\n");
      out.add(ins.insert(c));
      ins.flush();
      return out;
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

  /** A directory of the commit's tree: a host directory's entries, then guest paths below it. */
  private static final class Node {
    Path hostDir;
    final Map<String, Node> children = new TreeMap<>();

    ObjectId write(ObjectInserter ins) throws IOException {
      Map<String, Entry> entries = new TreeMap<>();
      if (hostDir != null) {
        for (Entry e : hostEntries(ins, hostDir)) {
          entries.put(e.name, e);
        }
      }
      for (Map.Entry<String, Node> c : children.entrySet()) {
        // A guest path's directory replaces a same-named entry of the directory above it.
        entries.put(c.getKey(), new Entry(c.getKey(), FileMode.TREE, c.getValue().write(ins)));
      }
      return format(ins, entries.values());
    }
  }

  private record Entry(String name, FileMode mode, ObjectId id) {}

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
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(GIT_ORDER);
    TreeFormatter f = new TreeFormatter();
    for (Entry e : sorted) {
      f.append(e.name, e.mode, e.id);
    }
    return ins.insert(f);
  }

  /**
   * The entries of a host directory, links not followed: files, executables, links, directories.
   */
  private static List<Entry> hostEntries(ObjectInserter ins, Path dir) throws IOException {
    List<Entry> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        BasicFileAttributes a =
            Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink()) {
          byte[] target = Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8);
          out.add(new Entry(name, FileMode.SYMLINK, ins.insert(Constants.OBJ_BLOB, target)));
        } else if (a.isDirectory()) {
          out.add(new Entry(name, FileMode.TREE, format(ins, hostEntries(ins, p))));
        } else if (a.isRegularFile()) {
          ObjectId blob;
          try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            blob = ins.insert(Constants.OBJ_BLOB, a.size(), in);
          }
          boolean exec = Files.isExecutable(p);
          out.add(new Entry(name, exec ? FileMode.EXECUTABLE_FILE : FileMode.REGULAR_FILE, blob));
        }
      }
    }
    return out;
  }
}
