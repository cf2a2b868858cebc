package dev.spindle.sandbox.overlay;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The overlay's file operations over its {@link Layers}: finding an entry, opening (a write copies
 * up), creating, deleting (a lower entry leaves a whiteout), moving and linking. {@link
 * OverlayProvider} checks the path type and dispatches here.
 */
final class OverlayOperations {
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private OverlayOperations() {}

  static Layers layers(OverlayPath p) {
    return ((OverlayFileSystem) p.getFileSystem()).layers();
  }

  /** The absolute, normalised names of {@code p}. */
  static List<String> names(OverlayPath p) {
    ((OverlayFileSystem) p.getFileSystem()).checkOpen();
    return ((OverlayPath) p.toAbsolutePath().normalize()).names();
  }

  static Path existing(OverlayPath p) throws IOException {
    Path t = layers(p).find(names(p));
    if (t == null) {
      throw new NoSuchFileException(p.toString());
    }
    return t;
  }

  static SeekableByteChannel newByteChannel(
      OverlayPath p, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    Layers layers = layers(p);
    List<String> names = names(p);
    boolean write =
        options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
    Path found = layers.find(names);
    if (!write) {
      if (found == null) {
        throw new NoSuchFileException(p.toString());
      }
      return Files.newByteChannel(found, options, attrs);
    }
    if (found != null) {
      if (options.contains(StandardOpenOption.CREATE_NEW)) {
        throw new FileAlreadyExistsException(p.toString());
      }
      return Files.newByteChannel(layers.copyUp(p, names), options, attrs);
    }
    if (!options.contains(StandardOpenOption.CREATE)
        && !options.contains(StandardOpenOption.CREATE_NEW)) {
      throw new NoSuchFileException(p.toString());
    }
    makeWay(p, layers, names);
    return Files.newByteChannel(layers.upper(names), options, attrs);
  }

  private static void requireAbsent(OverlayPath p, Layers layers, List<String> names)
      throws IOException {
    if (layers.find(names) != null) {
      throw new FileAlreadyExistsException(p.toString());
    }
  }

  /**
   * Makes way for a new entry at {@code names} in the upper layer: the name is not a reserved
   * whiteout name, its parents are copied up, and a whiteout of a deleted lower entry there is
   * removed. Returns whether one was (a new directory must then hide the old one's contents).
   */
  private static boolean makeWay(OverlayPath p, Layers layers, List<String> names)
      throws IOException {
    Layers.checkNotReserved(p, names);
    layers.copyUpParents(p, names);
    return layers.removeWhiteout(names);
  }

  static void createDirectory(OverlayPath p, FileAttribute<?>... attrs) throws IOException {
    Layers layers = layers(p);
    List<String> names = names(p);
    requireAbsent(p, layers, names);
    boolean replacesDeleted = makeWay(p, layers, names);
    Files.createDirectory(layers.upper(names), attrs);
    if (replacesDeleted) {
      layers.markOpaque(names);
    }
  }

  static void delete(OverlayPath p) throws IOException {
    Layers layers = layers(p);
    List<String> names = names(p);
    Path found = existing(p);
    if (names.isEmpty()) {
      throw new FileSystemException(p.toString(), null, "cannot delete the root");
    }
    if (Files.isDirectory(found, NOFOLLOW) && !layers.list(names).isEmpty()) {
      throw new DirectoryNotEmptyException(p.toString());
    }
    boolean lower = layers.inLower(names);
    Path u = layers.upper(names);
    if (Files.isDirectory(u, NOFOLLOW)) {
      layers.deleteUpperDirectory(u);
    } else {
      Files.deleteIfExists(u);
    }
    if (lower) {
      layers.addWhiteout(p, names);
    }
  }

  /**
   * Renames within the upper layer. A directory that has lower entries cannot be renamed (as
   * overlayfs without {@code redirect_dir}): the caller gets EXDEV and may copy instead.
   */
  static void move(OverlayPath s, OverlayPath t, CopyOption... options) throws IOException {
    Layers layers = layers(s);
    List<String> from = names(s);
    List<String> to = names(t);
    Path found = existing(s);
    if (from.equals(to)) {
      return;
    }
    Layers.checkNotReserved(t, to);
    boolean sourceInLower = layers.inLower(from);
    if (sourceInLower && Files.isDirectory(found, NOFOLLOW)) {
      throw new FileSystemException(s.toString(), t.toString(), "Invalid cross-device link");
    }
    List<CopyOption> opts = Arrays.asList(options);
    boolean replace =
        opts.contains(StandardCopyOption.REPLACE_EXISTING)
            || opts.contains(StandardCopyOption.ATOMIC_MOVE);
    Path existingTarget = layers.find(to);
    if (existingTarget != null) {
      if (!replace) {
        throw new FileAlreadyExistsException(t.toString());
      }
      if (Files.isDirectory(found, NOFOLLOW) != Files.isDirectory(existingTarget, NOFOLLOW)) {
        throw Files.isDirectory(existingTarget, NOFOLLOW)
            ? new FileSystemException(s.toString(), t.toString(), "Is a directory")
            : new NotDirectoryException(t.toString());
      }
      delete(t);
    }
    Path upperSource = layers.copyUp(s, from);
    boolean targetInLower = layers.removeWhiteout(to) || layers.inLower(to);
    layers.copyUpParents(t, to);
    Files.move(upperSource, layers.upper(to), StandardCopyOption.ATOMIC_MOVE);
    if (targetInLower && Files.isDirectory(layers.upper(to), NOFOLLOW)) {
      layers.markOpaque(to);
    }
    if (sourceInLower) {
      layers.addWhiteout(s, from);
    }
  }

  static void createSymbolicLink(OverlayPath p, Path target, FileAttribute<?>... attrs)
      throws IOException {
    Layers layers = layers(p);
    List<String> names = names(p);
    requireAbsent(p, layers, names);
    makeWay(p, layers, names);
    Path u = layers.upper(names);
    Files.createSymbolicLink(u, u.getFileSystem().getPath(target.toString()), attrs);
  }

  static void createLink(OverlayPath p, OverlayPath e) throws IOException {
    Layers layers = layers(p);
    List<String> names = names(p);
    requireAbsent(p, layers, names);
    Layers.checkNotReserved(p, names);
    Path upperExisting = layers.copyUp(e, names(e));
    makeWay(p, layers, names);
    Files.createLink(layers.upper(names), upperExisting);
  }
}
