package dev.spindle.image;

import dev.spindle.image.make.Owners;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes an image's tree (or a subtree) to a host directory: files with their executable bit,
 * symlinks as symlinks. Names are checked before they touch the host, so a crafted image cannot
 * write outside the target ('..', '.', '/' or NUL in a name is refused).
 *
 * <p>Nothing below the target is ever followed or overwritten: a verified image cannot hold two
 * entries of one name, but an unverified one can (a symlink {@code x} to a directory outside, then
 * a directory {@code x}), and so can a target that already holds a symlink. So each directory is
 * created one component at a time after an lstat, an existing entry is refused unless it is a real
 * directory, and files are created with {@code O_CREAT|O_EXCL|O_NOFOLLOW}. The target itself, and
 * the directories above it, are the caller's choice and are taken as they are.
 *
 * <p>An image that records metadata ({@link MetadataTable}) gets it back: empty directories, hard
 * links (one file, several names), every mode bit, and, when the extracting process is root, owners
 * and every extended attribute. Modes and owners are set last, children before their directory (a
 * 0555 directory is filled first), owner before mode before attributes (chown clears setuid bits
 * and file capabilities). What could not be restored is counted in {@link #notRestored}, never
 * silently dropped.
 */
public final class ImageExtractor {
  private static final Set<PosixFilePermission> EXECUTABLE =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> REGULAR =
      PosixFilePermissions.fromString("rw-r--r--");
  private static final Set<OpenOption> NEW_FILE =
      Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

  private final Image image;
  private final Progress progress;
  private long files;
  private long bytes;
  private final boolean root = Owners.runningAsRoot();
  private final java.util.List<Restore> restores = new java.util.ArrayList<>();
  private final java.util.Map<Integer, Path> linked = new java.util.HashMap<>();
  private final java.util.Map<String, Integer> notRestored = new java.util.TreeMap<>();

  private record Restore(Path path, EntryMetadata meta) {}

  public ImageExtractor(Image image, Progress progress) {
    this.image = image;
    this.progress = progress;
  }

  /** Extracts {@code from} (a directory or a file of the image) into {@code target}. */
  public void extract(ImageEntry from, Path target) throws IOException {
    progress.begin("Extracting", 0);
    if (from.isDirectory()) {
      Files.createDirectories(target);
      remember(from, target);
      extractTree(from, target);
    } else {
      Files.createDirectories(target.toAbsolutePath().getParent());
      extractOne(from, target);
    }
    restoreMetadata();
    progress.end();
  }

  /**
   * What this extraction could not restore, as lines for the user ("owners (not root): 12
   * entries"), empty when everything came back.
   */
  public java.util.List<String> notRestored() {
    return notRestored.entrySet().stream()
        .map(e -> e.getKey() + ": " + e.getValue() + (e.getValue() == 1 ? " entry" : " entries"))
        .toList();
  }

  private void remember(ImageEntry e, Path t) {
    if (image.metadata().isPresent()) {
      restores.add(new Restore(t, image.metadata(e)));
    }
  }

  private void restoreMetadata() throws IOException {
    boolean owners = image.metadata().map(MetadataTable::ownersRecorded).orElse(false);
    for (int i = restores.size() - 1; i >= 0; i--) {
      Restore r = restores.get(i);
      EntryMetadata m = r.meta();
      boolean symlink = m.type() == EntryMetadata.S_IFLNK;
      if (owners) {
        if (root) {
          Files.setAttribute(r.path(), "unix:uid", m.uid(), LinkOption.NOFOLLOW_LINKS);
          Files.setAttribute(r.path(), "unix:gid", m.gid(), LinkOption.NOFOLLOW_LINKS);
        } else {
          notRestored.merge("owners (only root can set them)", 1, Integer::sum);
        }
      }
      if (!symlink) { // Linux has no mode on a symlink: always 0777
        Files.setAttribute(r.path(), "unix:mode", m.permissions(), LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(r.path(), "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & EntryMetadata.PERMISSIONS) != m.permissions()) {
          notRestored.merge(
              "mode bits "
                  + Integer.toOctalString(m.permissions())
                  + " (kernel refused "
                  + Integer.toOctalString(m.permissions() & ~mode & EntryMetadata.PERMISSIONS)
                  + ")",
              1,
              Integer::sum);
        }
      }
      for (EntryMetadata.Xattr x : m.xattrs()) {
        int err = Xattrs.set(r.path(), x);
        if (err != 0) {
          String ns = x.name().substring(0, x.name().indexOf('.') + 1);
          notRestored.merge(
              "extended attributes " + ns + "* (errno " + err + (root ? "" : ", not root") + ")",
              1,
              Integer::sum);
        }
      }
    }
  }

  public long files() {
    return files;
  }

  public long bytes() {
    return bytes;
  }

  private void extractTree(ImageEntry dir, Path target) throws IOException {
    for (ImageEntry e : image.list(dir)) {
      String name = e.name();
      if (name.isEmpty()
          || name.equals(".")
          || name.equals("..")
          || name.indexOf('/') >= 0
          || name.indexOf('\0') >= 0) {
        throw new IOException("image damaged: unsafe name '" + name + "' in " + dir.path());
      }
      Path t = target.resolve(name);
      if (e.isDirectory()) {
        createDirectory(e, t);
        remember(e, t);
        extractTree(e, t);
      } else {
        extractOne(e, t);
      }
    }
  }

  /**
   * Creates directory {@code t} for {@code e}, or takes the real directory already there. A symlink
   * there is refused: descending into it would write wherever it points.
   */
  private static void createDirectory(ImageEntry e, Path t) throws IOException {
    BasicFileAttributes a = lstat(t);
    if (a == null) {
      try {
        Files.createDirectory(t); // mkdir(2): fails on anything there, a symlink included
        return;
      } catch (FileAlreadyExistsException raced) {
        a = lstat(t);
        if (a == null) {
          throw raced;
        }
      }
    }
    if (a.isSymbolicLink()) {
      throw new FileSystemException(
          t.toString(),
          null,
          "is a symbolic link; extracting /" + e.path() + " will not follow it");
    }
    if (!a.isDirectory()) {
      throw new FileAlreadyExistsException(
          t.toString(), null, "exists; extracting /" + e.path() + " will not overwrite it");
    }
  }

  private static BasicFileAttributes lstat(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private void extractOne(ImageEntry e, Path t) throws IOException {
    try {
      int link = image.metadata(e).link();
      Path first = link == 0 ? null : linked.get(link);
      if (first != null) {
        Files.createLink(t, first); // link(2): another name of the file, attributes already set
        files++;
        return;
      }
      if (link != 0) {
        linked.put(link, t);
      }
      remember(e, t);
      if (e.isSymlink()) {
        // symlink(2) never follows the link path; the link's target is not looked at.
        Files.createSymbolicLink(t, Path.of(image.readLink(e)));
      } else if (e.isRegularFile()) {
        Set<PosixFilePermission> perms = e.isExecutable() ? EXECUTABLE : REGULAR;
        try (InputStream in = image.open(e);
            OutputStream out =
                Channels.newOutputStream(
                    Files.newByteChannel(
                        t, NEW_FILE, PosixFilePermissions.asFileAttribute(perms)))) {
          bytes += in.transferTo(out);
        }
        // Again, as the umask may have taken bits away at creation; NOFOLLOW so that a link put
        // there since is refused, not chmod-ed through.
        Files.getFileAttributeView(t, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setPermissions(perms);
      } else {
        return; // a submodule (gitlink) has no content in the image
      }
    } catch (FileAlreadyExistsException already) {
      throw new FileAlreadyExistsException(
          t.toString(), null, "exists; extracting /" + e.path() + " will not overwrite it");
    }
    files++;
    progress.advance(1);
  }
}
