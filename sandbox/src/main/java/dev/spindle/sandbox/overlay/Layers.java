package dev.spindle.sandbox.overlay;

import dev.spindle.store.Whiteouts;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where an overlay path lives: in the writable upper directory, in the read-only lower tree, or
 * nowhere. The upper layer is a plain host directory in the layout OCI image layers use, so that a
 * snapshot can capture it as files: a deleted lower entry {@code name} is a whiteout file {@code
 * .wh.name} beside it, and a directory that replaced a deleted one holds {@code .wh..wh..opq} (its
 * lower contents are hidden). Names starting {@code .wh.} are reserved and never shown to the
 * guest. Writes go to the upper layer only: a lower file is copied up whole on first open for
 * writing (as overlayfs does), its parent directories first.
 */
final class Layers {
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private final Path lower;
  private final Path upper;

  Layers(Path lower, Path upper) {
    this.lower = lower;
    this.upper = upper;
  }

  Path upperRoot() {
    return upper;
  }

  Path upper(List<String> names) {
    return resolve(upper, names);
  }

  private Path lower(List<String> names) {
    return resolve(lower, names);
  }

  private static Path resolve(Path root, List<String> names) {
    Path p = root;
    for (String n : names) {
      p = p.resolve(n);
    }
    return p;
  }

  static boolean reserved(List<String> names) {
    for (String n : names) {
      if (Whiteouts.is(n)) {
        return true;
      }
    }
    return false;
  }

  /** The layer's path for {@code names} (absolute, normalised), or null when it does not exist. */
  Path find(List<String> names) throws IOException {
    if (reserved(names)) {
      return null;
    }
    Path u = upper(names);
    if (Files.exists(u, NOFOLLOW)) {
      return u;
    }
    return inLower(names) ? lower(names) : null;
  }

  /** Whether the lower layer has {@code names} and nothing in the upper layer hides it. */
  boolean inLower(List<String> names) throws IOException {
    return lower != null && !names.isEmpty() && !lowerHidden(names) && exists(lower(names));
  }

  /**
   * Whether {@code p} (in the lower tree) exists: an error other than its absence (a damaged or
   * missing object of a Git tree) is thrown, naming it, rather than taken for "no such file".
   */
  private static boolean exists(Path p) throws IOException {
    try {
      Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, NOFOLLOW);
      return true;
    } catch (NoSuchFileException | NotDirectoryException e) {
      return false;
    }
  }

  /** A whiteout of the entry or of an ancestor, an opaque or non-directory ancestor in upper. */
  private boolean lowerHidden(List<String> names) {
    for (int i = 0; i < names.size(); i++) {
      Path parent = upper(names.subList(0, i));
      if (Files.exists(parent.resolve(Whiteouts.of(names.get(i))), NOFOLLOW)) {
        return true;
      }
      if (i < names.size() - 1) {
        Path u = parent.resolve(names.get(i));
        if (Files.exists(u, NOFOLLOW)
            && (!Files.isDirectory(u, NOFOLLOW)
                || Files.exists(u.resolve(Whiteouts.OPAQUE), NOFOLLOW))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The merged, sorted listing of a directory (whiteouts applied, markers left out). */
  Set<String> list(List<String> names) throws IOException {
    Set<String> out = new TreeSet<>();
    Set<String> hidden = new HashSet<>();
    Path u = upper(names);
    boolean opaque = false;
    if (Files.isDirectory(u, NOFOLLOW)) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(u)) {
        for (Path child : s) {
          String n = child.getFileName().toString();
          if (n.equals(Whiteouts.OPAQUE)) {
            opaque = true;
          } else if (Whiteouts.is(n)) {
            hidden.add(Whiteouts.hidden(n));
          } else {
            out.add(n);
          }
        }
      }
    }
    boolean lowerDir =
        names.isEmpty()
            ? lower != null
            : inLower(names) && Files.isDirectory(lower(names), NOFOLLOW);
    if (!opaque
        && lowerDir
        && (names.isEmpty() || !Files.exists(u, NOFOLLOW) || Files.isDirectory(u, NOFOLLOW))) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(lower(names))) {
        for (Path child : s) {
          String n = child.getFileName().toString();
          if (!hidden.contains(n) && !Whiteouts.is(n)) {
            out.add(n);
          }
        }
      }
    }
    return out;
  }

  /** Creates, in the upper layer, every ancestor directory of {@code names} that lives below. */
  void copyUpParents(Path overlayPath, List<String> names) throws IOException {
    for (int i = 1; i < names.size(); i++) {
      List<String> prefix = names.subList(0, i);
      Path u = upper(prefix);
      if (Files.exists(u, NOFOLLOW)) {
        continue;
      }
      Path source = find(prefix);
      if (source == null) {
        throw new NoSuchFileException(
            overlayPath.toString(), null, "no directory " + String.join("/", prefix));
      }
      if (!Files.isDirectory(source, NOFOLLOW)) {
        throw new NotDirectoryException(String.join("/", prefix));
      }
      Files.createDirectory(u);
    }
  }

  /** The upper-layer path of an existing entry, copying a lower file or directory up first. */
  Path copyUp(Path overlayPath, List<String> names) throws IOException {
    Path u = upper(names);
    if (names.isEmpty() || Files.exists(u, NOFOLLOW)) {
      return u;
    }
    Path source = find(names);
    if (source == null) {
      throw new NoSuchFileException(overlayPath.toString());
    }
    copyUpParents(overlayPath, names);
    if (Files.isSymbolicLink(source)) {
      Files.createSymbolicLink(
          u, u.getFileSystem().getPath(Files.readSymbolicLink(source).toString()));
    } else if (Files.isDirectory(source, NOFOLLOW)) {
      Files.createDirectory(u);
    } else {
      try (InputStream in = Files.newInputStream(source)) {
        Files.copy(in, u);
      }
      Files.setLastModifiedTime(u, Files.getLastModifiedTime(source));
      copyPermissions(source, u);
    }
    return u;
  }

  /**
   * The lower file's permission bits on its copy (an image's or a snapshot's executable stays
   * executable once written), plus the owner's read and write: a copy-up is made to be written. A
   * lower layer without POSIX attributes leaves the copy's defaults.
   */
  private static void copyPermissions(Path source, Path copy) throws IOException {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.readAttributes(source, PosixFileAttributes.class, NOFOLLOW).permissions();
    } catch (UnsupportedOperationException e) {
      return;
    }
    perms.add(PosixFilePermission.OWNER_READ);
    perms.add(PosixFilePermission.OWNER_WRITE);
    Files.setPosixFilePermissions(copy, perms);
  }

  /** Removes a whiteout of {@code names}; true when there was one. */
  boolean removeWhiteout(List<String> names) throws IOException {
    return Files.deleteIfExists(whiteout(names));
  }

  /** Hides the lower entry {@code names}. */
  void addWhiteout(Path overlayPath, List<String> names) throws IOException {
    copyUpParents(overlayPath, names);
    Files.createFile(whiteout(names));
  }

  /** Marks an upper directory as replacing, not merging with, the lower one of the same name. */
  void markOpaque(List<String> names) throws IOException {
    Path marker = upper(names).resolve(Whiteouts.OPAQUE);
    if (!Files.exists(marker, NOFOLLOW)) {
      Files.createFile(marker);
    }
  }

  /** Deletes an upper directory whose only entries are markers (the merged listing is empty). */
  void deleteUpperDirectory(Path dir) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path child : s) {
        Files.delete(child);
      }
    }
    Files.delete(dir);
  }

  private Path whiteout(List<String> names) {
    return upper(names.subList(0, names.size() - 1)).resolve(Whiteouts.of(names.getLast()));
  }

  static void checkNotReserved(Path overlayPath, List<String> names) throws IOException {
    if (reserved(names)) {
      throw new AccessDeniedException(
          overlayPath.toString(),
          null,
          "names starting '" + Whiteouts.PREFIX + "' are reserved for whiteouts");
    }
  }
}
