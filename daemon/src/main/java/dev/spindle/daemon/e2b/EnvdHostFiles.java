package dev.spindle.daemon.e2b;

import dev.spindle.sandbox.wasi.HostTree;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link EnvdFiles} over a host directory that is the sandbox's root: every use goes through the
 * sandbox module's {@link HostTree}, which reaches an object by its components without following
 * any link (the kernel's {@code openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)} where it has it),
 * so a guest that swaps a directory for a link between two calls gets an error, never the host's
 * files. The tree is opened per call: a call holds no fd once it returns. The tree is the guest's
 * {@code /} ({@link #EnvdHostFiles(Path)}), or is mounted at a directory of the guest, and a path
 * outside that directory is refused.
 */
final class EnvdHostFiles implements EnvdFiles {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private final Path root;
  private final EnvdPath mount;

  /** {@code root} is the guest's {@code /}. */
  EnvdHostFiles(Path root) {
    this(root, new EnvdPath(List.of()));
  }

  /** {@code root} is what the guest sees at {@code mount}. */
  EnvdHostFiles(Path root, EnvdPath mount) {
    this(root, mount, null);
  }

  /**
   * As above; what is created is given to {@code owner} (host uid, gid): a container sandbox's
   * root, so that files written from the host are its own inside its user namespace (host root's
   * would be nobody's there, and not writable by it). Null: left to whoever this process is.
   */
  EnvdHostFiles(Path root, EnvdPath mount, int[] owner) {
    this.root = root;
    this.mount = mount;
    this.owner = owner == null ? null : owner.clone();
  }

  private final int[] owner;

  /** Gives what {@code p} names (never a link's target) to {@link #owner}, if there is one. */
  private void own(Path p) throws IOException {
    if (owner != null) {
      Files.setAttribute(p, "unix:uid", owner[0], NOFOLLOW);
      Files.setAttribute(p, "unix:gid", owner[1], NOFOLLOW);
    }
  }

  /** The components below the tree's root of a guest path, which must be at or below the mount. */
  private List<String> host(EnvdPath path) {
    List<String> c = path.components();
    List<String> m = mount.components();
    if (c.size() < m.size() || !c.subList(0, m.size()).equals(m)) {
      throw EnvdError.invalid(
          "path " + path + " is outside the sandbox's writable tree, which is " + mount);
    }
    return c.subList(m.size(), c.size());
  }

  @Override
  public Entry stat(EnvdPath path) {
    try (HostTree t = open()) {
      return entry(t, path);
    } catch (IOException e) {
      throw failure(path, e);
    }
  }

  @Override
  public List<Entry> list(EnvdPath dir, int depth, int max) {
    try (HostTree t = open()) {
      Entry self = entry(t, dir);
      if (self.type() != Type.DIR) {
        throw EnvdError.invalid("path " + dir + " is not a directory");
      }
      List<Entry> out = new ArrayList<>();
      walk(t, dir, depth, max, out);
      return out;
    } catch (IOException e) {
      throw failure(dir, e);
    }
  }

  private void walk(HostTree t, EnvdPath dir, int depth, int max, List<Entry> out)
      throws IOException {
    for (String name : names(t, dir)) {
      if (out.size() == max) {
        throw EnvdError.invalid(
            "the directory "
                + dir
                + " holds more than "
                + max
                + " entries at this depth; list a smaller depth or a subdirectory");
      }
      Entry e;
      try {
        e = entry(t, dir.child(name));
      } catch (NoSuchFileException gone) {
        continue; // removed since the directory was read
      }
      out.add(e);
      if (e.type() == Type.DIR && depth > 1) {
        walk(t, e.path(), depth - 1, max, out);
      }
    }
  }

  /** A directory's names, sorted; the directory is opened exactly (a link there is an error). */
  private List<String> names(HostTree t, EnvdPath dir) throws IOException {
    List<String> names = new ArrayList<>();
    try (HostTree.Use u = t.exact(host(dir));
        DirectoryStream<Path> s = Files.newDirectoryStream(u.path())) {
      for (Path p : s) {
        names.add(p.getFileName().toString());
      }
    }
    names.sort(null);
    return names;
  }

  @Override
  public Opened read(EnvdPath path) {
    try (HostTree t = open();
        HostTree.Use u = t.exact(host(path))) {
      // The type is asked of the object exact() holds open, the one then opened: a file swapped
      // for a FIFO in between cannot make the open block.
      PosixFileAttributes a = Files.readAttributes(u.path(), PosixFileAttributes.class);
      if (a.isDirectory()) {
        throw EnvdError.invalid("path " + path + " is a directory; list it instead");
      }
      if (!a.isRegularFile()) {
        throw EnvdError.invalid("path " + path + " is not a regular file");
      }
      // The opened file is independent of the tree's fds, which close on return.
      return new Opened(Files.newInputStream(u.path()), a.size());
    } catch (IOException e) {
      throw failure(path, e);
    }
  }

  @Override
  public Entry write(EnvdPath path, byte[] data) {
    if (host(path).isEmpty()) {
      throw EnvdError.invalid("cannot write the root of the sandbox's tree as a file");
    }
    try (HostTree t = open()) {
      makeDirs(t, path.parent());
      if (exists(t, path) && entry(t, path).type() != Type.FILE) {
        throw EnvdError.invalid(
            "path "
                + path
                + " is not a regular file (a "
                + entry(t, path).type().name().toLowerCase(Locale.ROOT)
                + "); links are not followed");
      }
      try (HostTree.Use u = t.at(host(path));
          OutputStream out =
              Files.newOutputStream(
                  u.path(),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  NOFOLLOW)) {
        out.write(data);
        own(u.path());
      }
      return entry(t, path);
    } catch (IOException e) {
      throw failure(path, e);
    }
  }

  @Override
  public Entry makeDir(EnvdPath path) {
    try (HostTree t = open()) {
      if (exists(t, path)) {
        throw new EnvdError(EnvdError.Code.ALREADY_EXISTS, "directory " + path + " already exists");
      }
      makeDirs(t, path);
      return entry(t, path);
    } catch (IOException e) {
      throw failure(path, e);
    }
  }

  @Override
  public void remove(EnvdPath path) {
    if (host(path).isEmpty()) {
      throw EnvdError.invalid("cannot remove the root of the sandbox's tree");
    }
    try (HostTree t = open()) {
      removeTree(t, path);
    } catch (IOException e) {
      throw failure(path, e);
    }
  }

  private void removeTree(HostTree t, EnvdPath path) throws IOException {
    boolean dir;
    try (HostTree.Use u = t.at(host(path))) {
      dir = Files.readAttributes(u.path(), PosixFileAttributes.class, NOFOLLOW).isDirectory();
    }
    if (dir) {
      for (String name : names(t, path)) {
        try {
          removeTree(t, path.child(name));
        } catch (NoSuchFileException gone) {
          // removed meanwhile: what this call wanted
        }
      }
    }
    try (HostTree.Use u = t.at(host(path))) {
      Files.delete(u.path()); // unlink or rmdir: never follows a link
    }
  }

  @Override
  public Entry rename(EnvdPath from, EnvdPath to) {
    if (host(from).isEmpty() || host(to).isEmpty()) {
      throw EnvdError.invalid("cannot move the root of the sandbox's tree, nor move onto it");
    }
    try (HostTree t = open()) {
      entry(t, from); // not found before making the destination's parents
      makeDirs(t, to.parent());
      try (HostTree.Use a = t.at(host(from));
          HostTree.Use b = t.at(host(to))) {
        // rename(2): follows neither name, replaces a file at the destination as envd does.
        Files.move(a.path(), b.path(), StandardCopyOption.ATOMIC_MOVE);
      }
      return entry(t, to);
    } catch (IOException e) {
      throw failure(from, e);
    }
  }

  private HostTree open() throws IOException {
    return HostTree.open(root);
  }

  private boolean exists(HostTree t, EnvdPath path) throws IOException {
    try {
      entry(t, path);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  /**
   * Makes {@code dir} and its missing parents, one component at a time, each checked to be a
   * directory.
   */
  private void makeDirs(HostTree t, EnvdPath dir) throws IOException {
    List<String> c = host(dir);
    for (int i = 1; i <= c.size(); i++) {
      List<String> prefix = c.subList(0, i);
      try (HostTree.Use u = t.at(prefix)) {
        try {
          Files.createDirectory(u.path());
          own(u.path());
        } catch (FileAlreadyExistsException e) {
          if (!Files.readAttributes(u.path(), PosixFileAttributes.class, NOFOLLOW).isDirectory()) {
            throw new NotDirectoryException("/" + String.join("/", prefix));
          }
        }
      }
    }
  }

  private Entry entry(HostTree t, EnvdPath path) throws IOException {
    try (HostTree.Use u = t.at(host(path))) {
      PosixFileAttributes a = Files.readAttributes(u.path(), PosixFileAttributes.class, NOFOLLOW);
      Type type =
          a.isDirectory()
              ? Type.DIR
              : a.isRegularFile() ? Type.FILE : a.isSymbolicLink() ? Type.SYMLINK : Type.OTHER;
      String target = type == Type.SYMLINK ? Files.readSymbolicLink(u.path()).toString() : null;
      return new Entry(
          path.name(), path, type, a.size(), mode(a), a.lastModifiedTime().toInstant(), target);
    }
  }

  private static int mode(PosixFileAttributes a) {
    int m = 0;
    for (PosixFilePermission p : a.permissions()) {
      m |= 1 << (8 - p.ordinal()); // OWNER_READ is ordinal 0 (0400) ... OTHERS_EXECUTE is 8 (0001)
    }
    return m;
  }

  /** An I/O failure as the SDK should see it; the message names the path, never a host path. */
  static EnvdError failure(EnvdPath path, IOException e) {
    return switch (e) {
      case NoSuchFileException x -> EnvdError.notFound("no such file or directory: " + path);
      case FileAlreadyExistsException x ->
          new EnvdError(EnvdError.Code.ALREADY_EXISTS, "already exists: " + path);
      case NotDirectoryException x ->
          EnvdError.invalid("a component of " + path + " is not a directory");
      case DirectoryNotEmptyException x -> EnvdError.invalid("directory not empty: " + path);
      case AccessDeniedException x ->
          new EnvdError(EnvdError.Code.PERMISSION_DENIED, "permission denied: " + path);
      case FileSystemException x when x.getReason() != null && x.getReason().contains("No space") ->
          new EnvdError(
              EnvdError.Code.RESOURCE_EXHAUSTED,
              507,
              "not enough space in the sandbox to write " + path);
      case IOException x
          when !(x instanceof FileSystemException)
              && x.getMessage() != null
              && x.getMessage().contains("NOFOLLOW_LINKS") ->
          EnvdError.invalid(
              path + " is a symbolic link; links in the sandbox's tree are not followed");
      case FileSystemException x
          when x.getReason() != null && x.getReason().contains("symbolic link") ->
          EnvdError.invalid(
              "a symbolic link is on the way to "
                  + path
                  + "; links in the sandbox's tree are not followed");
      case FileSystemException x
          when x.getReason() != null && x.getReason().contains("Too many levels") ->
          EnvdError.invalid(
              path + " is a symbolic link; links in the sandbox's tree are not followed");
      case FileSystemException x
          when x.getReason() != null && x.getReason().contains("Is a directory") ->
          EnvdError.invalid(path + " is a directory");
      case FileSystemException x
          when x.getReason() != null && x.getReason().contains("Invalid argument") ->
          EnvdError.invalid("cannot do that with " + path + " (e.g. move a directory into itself)");
      default ->
          new EnvdError(
              EnvdError.Code.INTERNAL,
              "file operation on "
                  + path
                  + " failed: "
                  + e.getClass().getSimpleName()
                  + (e instanceof FileSystemException f && f.getReason() != null
                      ? " (" + f.getReason() + ")"
                      : ""));
    };
  }
}
