package dev.spindle.fork;

import dev.spindle.image.Image;
import dev.spindle.image.ObjectSource;
import dev.spindle.image.nio.TreeFileSystems;
import dev.spindle.sandbox.overlay.OverlayFileSystems;
import dev.spindle.sandbox.wasi.WasiState;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The directories a sandbox owns, under {@code $SPINDLE_HOME/files/}. Every private directory (a
 * scratch directory, a Python sandbox's root, an image's writable layer) is an overlay: below it a
 * read-only tree (none, a snapshot's Git tree in {@code files.git}, an image, or an image under a
 * snapshot's layer tree), above it a new empty host directory {@code live/<id>} that receives every
 * write (OCI whiteouts for deletions) and is deleted when the sandbox closes.
 *
 * <p>A snapshot (on its caller's path, the guest paused between calls, so the files are those of
 * the memory's instant in full and live mode alike) hashes only the upper directories into {@code
 * files.git} and writes the trees on their paths over the base trees: O(changed files). The
 * snapshot's state names each directory's new tree by id ({@code files/trees/<commit>/<tree>}, a
 * name, not a directory on disk), so a branch is an overlay of that tree under a new empty upper
 * directory: O(1), nothing copied. Siblings and the parent never see each other's later writes, as
 * each writes only its own upper directory and a tree never changes. See {@code docs/FILES.md}.
 */
final class SandboxFiles {
  private static final String TMP = ".tmp-";

  /**
   * Beside a frozen writable layer {@code I} of a snapshot made before layers were trees: {@code
   * I.image} names the image beneath (tag, root).
   */
  private static final String IMAGE_SUFFIX = ".image";

  private final Path live;
  private final Path frozen;
  private final SecureRandom random = new SecureRandom();
  private final FileMarkers markers;

  /** Directories on a file system other than the host's, by that file system: what they are. */
  private final java.util.Map<java.nio.file.FileSystem, Mount> mounts =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Bytes of the files of a read-only tree, by what identifies it: computed once per tree. */
  private final java.util.Map<String, Long> sharedBytes =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Remote children's directories (by overlay file system) whose parent's blobs are not all here
   * yet: a snapshot fetches the rest first, as its branches read {@code files.git} alone.
   */
  private final java.util.Map<java.nio.file.FileSystem, RemoteFiles> remoteSources =
      new java.util.concurrent.ConcurrentHashMap<>();

  private volatile ImageDirs imageDirs;
  private final FilesRepo repo;

  /**
   * An image directory: read-only ({@code upper} null; the image's file system, shared by every
   * sandbox that names it), or a private overlay whose writes go to the host directory {@code
   * upper}: over image {@code tag} ({@code layer} true: its writable layer, whose tree {@code base}
   * lies between the image and the upper directory, null for none), or ({@code tag} null) over the
   * tree {@code base} (null: nothing below). {@code shared} names what lies below for accounting
   * (null: nothing), {@code lower} is it as a path; {@code owned} are the read-only file systems
   * made for it, closed with it.
   */
  record Mount(
      String tag,
      String root,
      Path upper,
      boolean layer,
      ObjectId base,
      String shared,
      Path lower,
      List<java.nio.file.FileSystem> owned) {
    boolean isPrivate() {
      return upper != null;
    }
  }

  SandboxFiles(SpindleHome home) {
    Path root = home.files();
    this.live = root.resolve("live");
    this.frozen = root.resolve("frozen");
    this.markers = new FileMarkers(root);
    this.repo = new FilesRepo(home.filesRepo());
  }

  FilesRepo repo() {
    return repo;
  }

  /** What a snapshot records of its sandbox's directories: the preopens, and the files' commit. */
  record Frozen(List<WasiState.Preopen> preopens, String commit) {}

  void imageDirs(ImageDirs opener) {
    this.imageDirs = opener;
  }

  private Path openImage(String tag, String root) throws IOException {
    ImageDirs opener = imageDirs;
    if (opener == null) {
      throw new IOException(
          "image directory '" + tag + "' needs images, and this node gave the fork module none");
    }
    if (!Tag.isValid(tag) || (root != null && !root.matches("[0-9a-f]{40}"))) {
      throw new IOException(
          "image directory names no valid image: tag '" + tag + "', root '" + root + "'");
    }
    return opener.open(tag, root);
  }

  /** The read-only root of image {@code tag} (its tree {@code root}), for a preopen. */
  Path imageDir(String tag, String root) throws IOException {
    Path p = openImage(tag, root);
    mounts.putIfAbsent(
        p.getFileSystem(), new Mount(tag, root, null, false, null, null, null, List.of()));
    return p;
  }

  /**
   * Image {@code tag} (tree {@code root}) under a new private writable layer: an overlay whose
   * upper directory is a private directory (OCI whiteouts; see {@code docs/FILES.md}).
   */
  Path writableImageDir(String tag, String root) throws IOException {
    return layerOverlay(tag, root, null, null);
  }

  /**
   * Image {@code tag} under the layer tree {@code layerTree} of commit {@code commit} (both null:
   * no layer yet), under a new empty upper directory.
   */
  private Path layerOverlay(String tag, String root, ObjectId commit, ObjectId layerTree)
      throws IOException {
    Path image = openImage(tag, root);
    List<java.nio.file.FileSystem> owned = new ArrayList<>();
    try {
      Path lower = image;
      String shared = "image:" + tag + ":" + root;
      if (layerTree != null) {
        java.nio.file.FileSystem layerFs = treeFileSystem(commit, layerTree);
        owned.add(layerFs);
        // The layer's tree is read-only too: an overlay of it (whiteouts and all) on the image.
        java.nio.file.FileSystem view =
            OverlayFileSystems.newFileSystem(image, layerFs.getPath("/"));
        owned.add(view);
        lower = view.getPath("/");
        shared += ":" + layerTree.name();
      }
      return overlay(new Mount(tag, root, null, true, layerTree, shared, lower, owned));
    } catch (IOException | RuntimeException e) {
      closeAll(owned);
      throw e;
    }
  }

  /** A private overlay of tree {@code tree} of {@code commit} (null: nothing) under a new upper. */
  private Path treeOverlay(ObjectId commit, ObjectId tree) throws IOException {
    if (tree == null) {
      return overlay(new Mount(null, null, null, false, null, null, null, List.of()));
    }
    java.nio.file.FileSystem fs = treeFileSystem(commit, tree);
    try {
      return overlay(
          new Mount(
              null, null, null, false, tree, "tree:" + tree.name(), fs.getPath("/"), List.of(fs)));
    } catch (IOException | RuntimeException e) {
      closeAll(List.of(fs));
      throw e;
    }
  }

  /** Tree {@code tree} of {@code files.git} as a read-only file system (each blob checked). */
  private java.nio.file.FileSystem treeFileSystem(ObjectId commit, ObjectId tree)
      throws IOException {
    return treeFileSystem(commit, tree, ObjectSource.of(repo.repo()));
  }

  /** As above, its objects read through {@code objects} (a remote child's: blobs on first read). */
  private java.nio.file.FileSystem treeFileSystem(
      ObjectId commit, ObjectId tree, ObjectSource objects) throws IOException {
    org.eclipse.jgit.lib.Repository r = repo.repo();
    if (!r.getObjectDatabase().has(tree)) {
      throw new IOException(
          "the files tree " + tree.name() + " is missing from " + repo.directory());
    }
    return TreeFileSystems.open(
        Image.ofTree(repo.directory(), objects, commit, tree),
        repo.directory().resolve(tree.name()));
  }

  /** {@code m} (its upper not yet made) over a new empty upper directory, as a preopen. */
  private Path overlay(Mount m) throws IOException {
    Path upper = newUpper();
    try {
      java.nio.file.FileSystem fs = OverlayFileSystems.newFileSystem(m.lower(), upper);
      mounts.put(
          fs,
          new Mount(
              m.tag(), m.root(), upper, m.layer(), m.base(), m.shared(), m.lower(), m.owned()));
      return fs.getPath("/");
    } catch (IOException | RuntimeException e) {
      Trees.delete(upper);
      throw e;
    }
  }

  private static void closeAll(List<java.nio.file.FileSystem> fss) {
    for (java.nio.file.FileSystem fs : fss.reversed()) {
      try {
        fs.close();
      } catch (IOException | RuntimeException e) {
        // Read-only views: nothing is lost by a failed close.
      }
    }
  }

  private Mount mount(Path p) {
    return p.getFileSystem() == java.nio.file.FileSystems.getDefault()
        ? null
        : mounts.get(p.getFileSystem());
  }

  /**
   * A new private directory holding the given empty directories (relative, '/'-separated): an
   * overlay with nothing below it, whose upper directory receives them.
   */
  Path newPrivateRoot(List<String> dirs) throws IOException {
    Path root = treeOverlay(null, null);
    try {
      for (String d : dirs) {
        Files.createDirectories(below(hostDirOf(root), d));
      }
    } catch (IOException | RuntimeException e) {
      releaseDirs(List.of(root));
      throw e;
    }
    return root;
  }

  private Path newUpper() throws IOException {
    Files.createDirectories(live);
    Path root = live.resolve(HexFormat.of().formatHex(bytes(12)));
    Files.createDirectory(root);
    return root;
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** {@code rel} below {@code root}, refusing a path that could leave it (a state is input too). */
  static Path below(Path root, String rel) throws IOException {
    if (rel.isEmpty() || rel.startsWith("/") || rel.indexOf('\0') >= 0 || rel.length() > 4096) {
      throw new IOException("directory '" + rel + "' is not a relative path");
    }
    for (String c : rel.split("/", -1)) {
      if (c.isEmpty() || c.equals(".") || c.equals("..")) {
        throw new IOException("directory '" + rel + "' is not a plain relative path");
      }
    }
    return root.resolve(rel);
  }

  /**
   * Whether {@code host} is private to one sandbox: a private directory or a writable image layer.
   */
  boolean isPrivate(Path host) {
    Mount m = mount(host);
    return m != null ? m.isPrivate() : isPlainPrivate(host);
  }

  /** Whether {@code host} is a private directory that is not an image's layer. */
  boolean isPlainPrivate(Path host) {
    Mount m = mount(host);
    if (m != null) {
      return m.isPrivate() && m.tag() == null;
    }
    if (host.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return false;
    }
    Path p = host.toAbsolutePath().normalize();
    return p.getParent() != null && p.getParent().equals(live.toAbsolutePath().normalize());
  }

  /** A whole copy of a preopen made by a snapshot taken before snapshots recorded trees. */
  boolean isFrozen(Path host) {
    if (host.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return false;
    }
    Path p = host.toAbsolutePath().normalize();
    Path tagDir = p.getParent();
    return tagDir != null
        && tagDir.getParent() != null
        && tagDir.getParent().equals(frozen.toAbsolutePath().normalize());
  }

  /**
   * The preopens a snapshot records: each private one as the tree of its files now (its base tree
   * with its upper directory applied, written to {@code files.git}), read-only images by tag and
   * root, the others as they are (host directories shared by whoever names them). The sandbox keeps
   * its overlays: its next snapshot applies its upper directories to the same bases again.
   */
  Frozen freeze(Tag tag, Tag parent, List<WasiState.Preopen> preopens) throws IOException {
    Map<String, FilesRepo.Change> changes = new java.util.LinkedHashMap<>();
    for (WasiState.Preopen p : preopens) {
      Mount m = mount(p.hostPath());
      if (m != null && m.isPrivate()) {
        changes.put(p.guestPath(), new FilesRepo.Change(m.base(), m.upper(), m.layer()));
      } else if (isPlainPrivate(p.hostPath())) {
        changes.put(p.guestPath(), new FilesRepo.Change(null, p.hostPath(), false));
      }
    }
    boolean images = preopens.stream().anyMatch(p -> mount(p.hostPath()) != null);
    if (changes.isEmpty() && !images) {
      return new Frozen(preopens, null);
    }
    // So that the snapshot's branches find every blob in this node's files.git.
    fetchRemote(preopens);
    // Objects first, the ref last (a crash before leaves objects no ref names); the state that
    // names the trees is written after this returns, so no snapshot names a half-written one.
    FilesRepo.Committed c = changes.isEmpty() ? null : repo.commit(tag, changes, parent);
    List<WasiState.Preopen> out = new ArrayList<>();
    for (WasiState.Preopen p : preopens) {
      Mount m = mount(p.hostPath());
      ObjectId tree = c == null ? null : c.trees().get(p.guestPath());
      if (m != null && !m.isPrivate()) {
        // Read-only: recorded by image, opened again for each branch (nothing to copy).
        out.add(new WasiState.Preopen(p.guestPath(), markers.image(m.tag(), m.root())));
      } else if (m != null && m.layer()) {
        out.add(
            new WasiState.Preopen(
                p.guestPath(), markers.layer(m.tag(), m.root(), c.commit(), tree)));
      } else if (tree != null) {
        out.add(new WasiState.Preopen(p.guestPath(), markers.tree(c.commit(), tree)));
      } else {
        out.add(p);
      }
    }
    return new Frozen(out, c == null ? null : c.commit().name());
  }

  /**
   * The preopens of a new branch: each tree a snapshot recorded under a new empty upper directory
   * of its own (nothing copied), each image opened again.
   */
  List<WasiState.Preopen> thaw(List<WasiState.Preopen> preopens) throws IOException {
    List<WasiState.Preopen> out = new ArrayList<>();
    try {
      for (WasiState.Preopen p : preopens) {
        String[] image = markers.imageOf(p.hostPath());
        ObjectId[] tree = markers.treeOf(p.hostPath());
        String[] layer = markers.layerOf(p.hostPath());
        if (image != null) {
          out.add(new WasiState.Preopen(p.guestPath(), imageDir(image[0], image[1])));
        } else if (tree != null) {
          out.add(new WasiState.Preopen(p.guestPath(), treeOverlay(tree[0], tree[1])));
        } else if (layer != null) {
          out.add(
              new WasiState.Preopen(
                  p.guestPath(),
                  layerOverlay(
                      layer[0],
                      layer[1],
                      ObjectId.fromString(layer[2]),
                      ObjectId.fromString(layer[3]))));
        } else if (isFrozen(p.hostPath())) {
          out.add(new WasiState.Preopen(p.guestPath(), thawCopy(p)));
        } else {
          out.add(p);
        }
      }
    } catch (IOException | RuntimeException e) {
      release(out);
      throw e;
    }
    return out;
  }

  /** A snapshot made before trees: its whole copy copied again into a new upper directory. */
  private Path thawCopy(WasiState.Preopen p) throws IOException {
    if (!Files.isDirectory(p.hostPath(), LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          "the files of preopen '" + p.guestPath() + "' are missing: " + p.hostPath());
    }
    Path sidecar = p.hostPath().resolveSibling(p.hostPath().getFileName() + IMAGE_SUFFIX);
    Path dir;
    if (Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)) {
      String[] ref = readImageRef(sidecar);
      dir = layerOverlay(ref[0], ref[1], null, null);
    } else {
      dir = treeOverlay(null, null);
    }
    try {
      copyContents(p.hostPath(), hostDirOf(dir));
    } catch (IOException | RuntimeException e) {
      releaseDirs(List.of(dir));
      throw e;
    }
    return dir;
  }

  /**
   * One directory of a snapshot's file view, as its state records it: an image ({@code imageTag}
   * and {@code imageRoot}, null for whatever the tag holds), under its layer if {@code layer}; else
   * ({@code imageTag} null) a private directory whose files commit holds its whole tree.
   */
  record Recorded(String guest, String imageTag, String imageRoot, boolean layer) {}

  /**
   * The directories of a snapshot's preopens that its file view shows, in the order of its state:
   * images (read-only, or under a layer) and private directories recorded as trees. Host
   * directories and whole copies of old snapshots are not in the view.
   */
  List<Recorded> recorded(List<WasiState.Preopen> preopens) throws IOException {
    List<Recorded> out = new ArrayList<>();
    for (WasiState.Preopen p : preopens) {
      String[] image = markers.imageOf(p.hostPath());
      String[] layer = markers.layerOf(p.hostPath());
      if (image != null) {
        out.add(new Recorded(p.guestPath(), image[0], image[1], false));
      } else if (layer != null) {
        out.add(new Recorded(p.guestPath(), layer[0], layer[1], true));
      } else if (markers.treeOf(p.hostPath()) != null) {
        out.add(new Recorded(p.guestPath(), null, null, false));
      }
    }
    return out;
  }

  /** Deletes the private directories among {@code preopens} (their sandbox has ended). */
  void release(List<WasiState.Preopen> preopens) {
    releaseDirs(preopens.stream().map(WasiState.Preopen::hostPath).toList());
  }

  /** Deletes the private directories among {@code dirs}. */
  void releaseDirs(java.util.Collection<Path> dirs) {
    for (Path p : dirs) {
      Mount m = mount(p);
      if (m != null && m.isPrivate()) {
        mounts.remove(p.getFileSystem());
        closeAll(m.owned());
        try {
          remoteSources.remove(p.getFileSystem());
          p.getFileSystem().close();
          repo.forgetUpper(m.upper());
          Trees.delete(m.upper());
        } catch (IOException e) {
          // Left for recover() at the next start.
        }
      } else if (isPlainPrivate(p)) {
        try {
          Trees.delete(p);
        } catch (IOException e) {
          // Left for recover() at the next start; the sandbox is gone either way.
        }
      }
    }
  }

  /**
   * A remote child's directories among {@code preopens} name blobs it has not read: they are
   * fetched now (checked, as on a read), for a snapshot or a further fork, which read this node's
   * {@code files.git} alone.
   */
  void fetchRemote(List<WasiState.Preopen> preopens) throws IOException {
    for (WasiState.Preopen p : preopens) {
      RemoteFiles remote = remoteSources.get(p.hostPath().getFileSystem());
      if (remote != null) {
        remote.fetchAll();
      }
    }
  }

  /**
   * What a private directory holds now, as a snapshot records it: its base tree with its upper
   * directory applied (a plain host directory: the directory alone).
   */
  FilesRepo.Change change(Path host) {
    Mount m = mount(host);
    return m != null
        ? new FilesRepo.Change(m.base(), m.upper(), m.layer())
        : new FilesRepo.Change(null, host, false);
  }

  /** Whether anything but directories is below {@code root} (links not followed). */
  static boolean holdsFiles(Path root) throws IOException {
    try (var s = Files.walk(root)) {
      return s.anyMatch(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
    }
  }

  /**
   * A remote child's private directory over tree {@code tree} of its parent's files, whose objects
   * {@code files} brings: an overlay whose lower layer is the tree as a read-only file system
   * (blobs fetched on first read, each checked against its id) and whose upper is a new private
   * directory, so the child moves only what it reads and writes only its own layer.
   */
  Path remoteTreeDir(RemoteFiles files, ObjectId commit, ObjectId tree) throws IOException {
    java.nio.file.FileSystem fs = treeFileSystem(commit, tree, files::newReader);
    Path dir;
    try {
      dir =
          overlay(
              new Mount(
                  null,
                  null,
                  null,
                  false,
                  tree,
                  "tree:" + tree.name(),
                  fs.getPath("/"),
                  List.of(fs)));
    } catch (IOException | RuntimeException e) {
      closeAll(List.of(fs));
      throw e;
    }
    remoteSources.put(dir.getFileSystem(), files);
    return dir;
  }

  /**
   * The directories below {@code root}, relative, parents first, if it holds nothing else: what a
   * private directory of a sandbox forked to another node carries while files do not travel.
   *
   * @throws IOException naming the first file, or when there are more than {@code max}
   */
  static List<String> emptyDirs(String guestPath, Path root, int max) throws IOException {
    List<String> dirs = new ArrayList<>();
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            if (!dir.equals(root)) {
              if (dirs.size() == max) {
                throw new IOException(
                    "preopen '" + guestPath + "' holds more than " + max + " directories");
              }
              dirs.add(root.relativize(dir).toString());
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            throw new IOException(
                "preopen '"
                    + guestPath
                    + "' holds files ('"
                    + root.relativize(file)
                    + "'), which do not travel to another node yet: only a sandbox whose private directories are "
                    + "empty (directories only) can be forked there");
          }
        });
    return dirs;
  }

  private static String[] readImageRef(Path sidecar) throws IOException {
    if (Files.size(sidecar) > 200) {
      throw new IOException(sidecar + ": not an image reference (too long)");
    }
    String[] lines = Files.readString(sidecar).split("\n");
    if (lines.length != 2) {
      throw new IOException(sidecar + ": not an image reference (tag and root on two lines)");
    }
    return new String[] {lines[0], lines[1].equals("null") ? null : lines[1]};
  }

  /**
   * Bytes of files: {@code [private, snapshots, shared]}: the running sandboxes' upper directories
   * ({@code live}, what each holds alone), the node's {@code files.git} on disk (snapshots' trees,
   * each object held once however many snapshots and branches name it), and the read-only trees
   * below the running sandboxes' private directories, each counted once.
   */
  long[] bytes() {
    long shared = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Mount m : mounts.values()) {
      if (m.isPrivate() && m.shared() != null && seen.add(m.shared())) {
        shared += sharedBytes(m);
      }
    }
    return new long[] {bytesBelow(live), bytesBelow(repo.directory()), shared};
  }

  /**
   * Bytes of the files below private directory {@code p} that it shares with others (its read-only
   * lower trees): counted once per tree, then remembered (a tree never changes).
   */
  long sharedBytes(Path p) {
    Mount m = mount(p);
    return m == null || m.shared() == null ? 0 : sharedBytes(m);
  }

  private long sharedBytes(Mount m) {
    return sharedBytes.computeIfAbsent(m.shared(), k -> bytesBelow(m.lower()));
  }

  /**
   * The bytes of regular files below {@code dir} (links not followed; 0 if absent). Entries that
   * disappear while it walks (a guest deleting them) are skipped.
   */
  static long bytesBelow(Path dir) {
    long[] total = {0};
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        return 0;
      }
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              if (attrs.isRegularFile()) {
                total[0] += attrs.size();
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      // A directory removed while walking: what was counted stands.
    }
    return total[0];
  }

  /**
   * The host directory holding what a private preopen wrote: its overlay's upper directory (itself
   * for a plain host directory).
   */
  Path hostDirOf(Path p) {
    Mount m = mount(p);
    return m != null ? m.upper() : p;
  }

  /**
   * Deletes snapshot {@code tag}'s files: its ref (the objects stay while a later snapshot's commit
   * names them as its parent), and its whole copy if it was made before trees.
   */
  void delete(Tag tag) throws IOException {
    repo.delete(tag);
    Trees.delete(frozen.resolve(tag.value()));
  }

  /**
   * After a start: private directories belonged to sandboxes of the previous process (all ended),
   * and temporary copies to snapshots that never finished.
   */
  void recover() throws IOException {
    Trees.delete(live);
    if (Files.isDirectory(frozen)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(frozen, TMP + "*")) {
        for (Path p : ds) {
          Trees.delete(p);
        }
      }
    }
  }

  /** Refs and {@code frozen/<tag>} directories whose snapshot is gone. */
  void deleteOrphans(java.util.function.Predicate<Tag> exists) throws IOException {
    for (Tag t : repo.tags()) {
      if (!exists.test(t)) {
        repo.delete(t);
      }
    }
    if (!Files.isDirectory(frozen)) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(frozen)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (Tag.isValid(n) && !exists.test(Tag.of(n))) {
          Trees.delete(p);
        }
      }
    }
  }

  /**
   * Copies what is below {@code from} into the existing directory {@code to}: directories, files
   * and symbolic links as links (never followed, so a guest's link cannot pull host files in).
   */
  private static void copyContents(Path from, Path to) throws IOException {
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            if (!dir.equals(from)) {
              Files.createDirectory(to.resolve(from.relativize(dir).toString()));
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Path dest = to.resolve(from.relativize(file).toString());
            if (attrs.isSymbolicLink()) {
              Files.createSymbolicLink(dest, Files.readSymbolicLink(file));
            } else if (attrs.isRegularFile()) {
              Files.copy(file, dest, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
            }
            // Anything else (a fifo, a socket) a guest cannot make through WASI: not copied.
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
