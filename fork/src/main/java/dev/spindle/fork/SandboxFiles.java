package dev.spindle.fork;

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

/**
 * The directories a sandbox owns, under {@code $SPINDLE_HOME/files/}: a preopen whose host
 * directory is {@code live/<id>} is private to the one sandbox that preopens it (made by {@link
 * #newPrivateRoot}, deleted when that sandbox closes); {@code frozen/<tag>/<i>} is the files of
 * preopen {@code i} at the instant of snapshot {@code tag}, read only by branching. The place
 * decides the role, so a snapshot's state needs no new field: a snapshot of a sandbox with a
 * private directory records its frozen copy, and each branch gets its own private copy of that;
 * siblings and the parent never see each other's later writes.
 *
 * <p>Freezing copies the directory on the snapshot's caller path (the guest is paused between
 * calls, so the files are of the memory's instant in full and live mode alike); a copy goes to
 * {@code frozen/.tmp-*} and is renamed into place whole, so a crash leaves no half-written snapshot
 * of files ({@link #recover} removes the rest).
 */
final class SandboxFiles {
  private static final String TMP = ".tmp-";

  /**
   * Beside a frozen writable layer {@code I}: {@code I.image} names the image beneath (tag, root).
   */
  private static final String IMAGE_SUFFIX = ".image";

  private final Path live;
  private final Path frozen;
  private final SecureRandom random = new SecureRandom();
  private final Path images;

  /** Directories on a file system other than the host's, by that file system: what they are. */
  private final java.util.Map<java.nio.file.FileSystem, Mount> mounts =
      new java.util.concurrent.ConcurrentHashMap<>();

  private volatile ImageDirs imageDirs;
  private final FilesRepo repo;

  /**
   * An image directory: read-only ({@code upper} null; the image's file system, shared by every
   * sandbox that names it) or with a private writable layer {@code upper} (an overlay of its own).
   */
  record Mount(String tag, String root, Path upper, java.nio.file.FileSystem lower) {
    Mount(String tag, String root, Path upper) {
      this(tag, root, upper, null);
    }

    /** A remote child's directory: an overlay over its parent's tree (no image tag). */
    boolean remoteTree() {
      return tag == null && upper != null;
    }
  }

  SandboxFiles(SpindleHome home) {
    Path root = home.root().resolve("files");
    this.live = root.resolve("live");
    this.frozen = root.resolve("frozen");
    this.images = root.resolve("images");
    this.repo = new FilesRepo(home.root().resolve("files.git"));
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
    mounts.putIfAbsent(p.getFileSystem(), new Mount(tag, root, null));
    return p;
  }

  /**
   * Image {@code tag} (tree {@code root}) under a new private writable layer: an overlay whose
   * upper directory is a private directory (OCI whiteouts; see {@code docs/FILES.md}).
   */
  Path writableImageDir(String tag, String root) throws IOException {
    return overlay(tag, root, newPrivateRoot(List.of()));
  }

  private Path overlay(String tag, String root, Path upper) throws IOException {
    try {
      java.nio.file.FileSystem fs =
          dev.spindle.sandbox.overlay.OverlayFileSystems.newFileSystem(openImage(tag, root), upper);
      mounts.put(fs, new Mount(tag, root, upper));
      return fs.getPath("/");
    } catch (IOException | RuntimeException e) {
      Trees.delete(upper);
      throw e;
    }
  }

  private Mount mount(Path p) {
    return p.getFileSystem() == java.nio.file.FileSystems.getDefault()
        ? null
        : mounts.get(p.getFileSystem());
  }

  /** A new private directory holding the given empty directories (relative, '/'-separated). */
  Path newPrivateRoot(List<String> dirs) throws IOException {
    Files.createDirectories(live);
    Path root = live.resolve(HexFormat.of().formatHex(bytes(12)));
    Files.createDirectory(root);
    try {
      for (String d : dirs) {
        Files.createDirectories(below(root, d));
      }
    } catch (IOException | RuntimeException e) {
      Trees.delete(root);
      throw e;
    }
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
    return m != null ? m.upper() != null : isPlainPrivate(host);
  }

  /**
   * Whether {@code host} is a directory a remote fork can carry: a private host directory, or a
   * remote child's own directory over its parent's tree (a fork of a fork).
   */
  boolean isForkable(Path host) {
    Mount m = mount(host);
    return m != null ? m.remoteTree() : isPlainPrivate(host);
  }

  /** Whether {@code host} is a private host directory (not an image's layer). */
  boolean isPlainPrivate(Path host) {
    if (host.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return false;
    }
    Path p = host.toAbsolutePath().normalize();
    return p.getParent() != null && p.getParent().equals(live.toAbsolutePath().normalize());
  }

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
   * The preopens a snapshot records: each private one copied to {@code frozen/<tag>/<i>} now, the
   * others as they are (host directories shared by whoever names them).
   */
  Frozen freeze(Tag tag, Tag parent, List<WasiState.Preopen> preopens) throws IOException {
    if (preopens.stream().noneMatch(p -> isPrivate(p.hostPath()) || mount(p.hostPath()) != null)) {
      return new Frozen(preopens, null);
    }
    Map<String, Path> layers = new java.util.LinkedHashMap<>();
    Files.createDirectories(frozen);
    Path target = frozen.resolve(tag.value());
    Path tmp = Files.createTempDirectory(frozen, TMP + tag.value() + "-");
    try {
      List<WasiState.Preopen> out = new ArrayList<>();
      for (int i = 0; i < preopens.size(); i++) {
        WasiState.Preopen p = preopens.get(i);
        Mount m = mount(p.hostPath());
        if (m != null && m.remoteTree()) {
          // A remote child's directory: its whole view is copied (the parent's files it has not
          // read are fetched now), and branches get a plain private copy.
          copyTree(p.hostPath(), tmp.resolve(Integer.toString(i)));
          layers.put(p.guestPath(), tmp.resolve(Integer.toString(i)));
          out.add(new WasiState.Preopen(p.guestPath(), target.resolve(Integer.toString(i))));
        } else if (m != null && m.upper() == null) {
          // Read-only: recorded by image, opened again for each branch (nothing to copy).
          out.add(new WasiState.Preopen(p.guestPath(), imageMarker(m)));
        } else if (m != null) {
          // The writable layer is copied; the image beneath is named beside it.
          copyTree(m.upper(), tmp.resolve(Integer.toString(i)));
          layers.put(p.guestPath(), tmp.resolve(Integer.toString(i)));
          Files.writeString(tmp.resolve(i + IMAGE_SUFFIX), m.tag() + "\n" + m.root() + "\n");
          out.add(new WasiState.Preopen(p.guestPath(), target.resolve(Integer.toString(i))));
        } else if (isPlainPrivate(p.hostPath())) {
          copyTree(p.hostPath(), tmp.resolve(Integer.toString(i)));
          layers.put(p.guestPath(), tmp.resolve(Integer.toString(i)));
          out.add(new WasiState.Preopen(p.guestPath(), target.resolve(Integer.toString(i))));
        } else {
          out.add(p);
        }
      }
      // The copies as Git objects: one commit on top of the parent snapshot's (objects first, the
      // ref last; a crash before leaves unreferenced objects only).
      String commit = layers.isEmpty() ? null : repo.commit(tag, layers, parent).name();
      // A leftover of a snapshot under this tag that was deleted or failed: its files go first.
      Trees.delete(target);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      tmp = null;
      return new Frozen(out, commit);
    } finally {
      if (tmp != null) {
        Trees.delete(tmp);
      }
    }
  }

  /** The preopens of a new branch: each frozen one copied to a new private directory of its own. */
  List<WasiState.Preopen> thaw(List<WasiState.Preopen> preopens) throws IOException {
    List<WasiState.Preopen> out = new ArrayList<>();
    try {
      for (WasiState.Preopen p : preopens) {
        String[] image = imageOf(p.hostPath());
        if (image != null) {
          out.add(new WasiState.Preopen(p.guestPath(), imageDir(image[0], image[1])));
        } else if (isFrozen(p.hostPath())) {
          if (!Files.isDirectory(p.hostPath(), LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(
                "the files of preopen '" + p.guestPath() + "' are missing: " + p.hostPath());
          }
          Path root = newPrivateRoot(List.of());
          Path sidecar = p.hostPath().resolveSibling(p.hostPath().getFileName() + IMAGE_SUFFIX);
          if (Files.exists(sidecar, LinkOption.NOFOLLOW_LINKS)) {
            String[] ref = readImageRef(sidecar);
            copyContents(p.hostPath(), root);
            out.add(new WasiState.Preopen(p.guestPath(), overlay(ref[0], ref[1], root)));
          } else {
            out.add(new WasiState.Preopen(p.guestPath(), root));
            copyContents(p.hostPath(), root);
          }
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

  /** Deletes the private directories among {@code preopens} (their sandbox has ended). */
  void release(List<WasiState.Preopen> preopens) {
    releaseDirs(preopens.stream().map(WasiState.Preopen::hostPath).toList());
  }

  /** Deletes the private directories among {@code dirs}. */
  void releaseDirs(java.util.Collection<Path> dirs) {
    for (Path p : dirs) {
      Mount m = mount(p);
      if (m != null && m.upper() != null) {
        mounts.remove(p.getFileSystem());
        try {
          p.getFileSystem().close();
          if (m.lower() != null) {
            m.lower().close();
          }
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
  Path remoteTreeDir(
      RemoteFiles files, org.eclipse.jgit.lib.ObjectId commit, org.eclipse.jgit.lib.ObjectId tree)
      throws IOException {
    Path upper = newPrivateRoot(List.of());
    java.nio.file.FileSystem lower = null;
    try {
      dev.spindle.image.Image image =
          dev.spindle.image.Image.ofTree(repo.directory(), files::newReader, commit, tree);
      lower =
          dev.spindle.image.nio.TreeFileSystems.open(
              image, repo.directory().resolve("remote").resolve(tree.name()));
      java.nio.file.FileSystem fs =
          dev.spindle.sandbox.overlay.OverlayFileSystems.newFileSystem(lower.getPath("/"), upper);
      mounts.put(fs, new Mount(null, tree.name(), upper, lower));
      return fs.getPath("/");
    } catch (IOException | RuntimeException e) {
      if (lower != null) {
        lower.close();
      }
      Trees.delete(upper);
      throw e;
    }
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

  /**
   * The host path a snapshot records for a read-only image directory: {@code
   * files/images/TAG/ROOT}.
   */
  private Path imageMarker(Mount m) {
    return images.resolve(m.tag()).resolve(m.root() == null ? "any" : m.root());
  }

  /** {@code [tag, root]} if {@code p} is such a marker, else null. */
  private String[] imageOf(Path p) {
    if (p.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return null;
    }
    Path n = p.toAbsolutePath().normalize();
    Path base = images.toAbsolutePath().normalize();
    if (n.getParent() == null
        || n.getParent().getParent() == null
        || !n.getParent().getParent().equals(base)) {
      return null;
    }
    String root = n.getFileName().toString();
    return new String[] {n.getParent().getFileName().toString(), root.equals("any") ? null : root};
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
   * Bytes of sandboxes' private directories ({@code live}) and of snapshots' copies ({@code
   * frozen}).
   */
  long[] bytes() {
    return new long[] {bytesBelow(live), bytesBelow(frozen)};
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

  /** The host directory holding a private preopen's bytes: itself, or an overlay's upper. */
  Path hostDirOf(Path p) {
    Mount m = mount(p);
    return m != null ? m.upper() : p;
  }

  /** Deletes snapshot {@code tag}'s files. */
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

  /** {@code frozen/<tag>} directories whose snapshot is gone. */
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

  private static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectory(to);
    copyContents(from, to);
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
