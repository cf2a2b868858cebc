package dev.spindle.sandbox.overlay;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The overlay's {@code FileSystemProvider}: checks the path type, then asks {@link Layers}. */
final class OverlayProvider extends FileSystemProvider {
  static final OverlayProvider INSTANCE = new OverlayProvider();
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private OverlayProvider() {}

  @Override
  public String getScheme() {
    return "spindle-overlay";
  }

  @Override
  public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
    throw new UnsupportedOperationException("use OverlayFileSystems.newFileSystem(lower, upper)");
  }

  @Override
  public FileSystem getFileSystem(URI uri) {
    throw new UnsupportedOperationException("overlay file systems have no URI");
  }

  @Override
  public Path getPath(URI uri) {
    throw new UnsupportedOperationException("overlay file systems have no URI");
  }

  private static Layers layers(OverlayPath p) {
    return ((OverlayFileSystem) p.getFileSystem()).layers();
  }

  /** The absolute, normalised names of {@code p}. */
  private static List<String> names(OverlayPath p) {
    ((OverlayFileSystem) p.getFileSystem()).checkOpen();
    return ((OverlayPath) p.toAbsolutePath().normalize()).names();
  }

  private static Path existing(OverlayPath p) throws IOException {
    Path t = layers(p).find(names(p));
    if (t == null) {
      throw new NoSuchFileException(p.toString());
    }
    return t;
  }

  @Override
  public SeekableByteChannel newByteChannel(
      Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    OverlayPath p = OverlayPath.check(path);
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

  @Override
  public DirectoryStream<Path> newDirectoryStream(
      Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
    OverlayPath p = OverlayPath.check(dir);
    if (!Files.isDirectory(existing(p))) {
      throw new NotDirectoryException(p.toString());
    }
    List<Path> entries = new ArrayList<>();
    for (String name : layers(p).list(names(p))) {
      Path child = p.resolve(name);
      if (filter.accept(child)) {
        entries.add(child);
      }
    }
    return new DirectoryStream<>() {
      @Override
      public Iterator<Path> iterator() {
        return entries.iterator();
      }

      @Override
      public void close() {}
    };
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

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    OverlayPath p = OverlayPath.check(dir);
    Layers layers = layers(p);
    List<String> names = names(p);
    requireAbsent(p, layers, names);
    boolean replacesDeleted = makeWay(p, layers, names);
    Files.createDirectory(layers.upper(names), attrs);
    if (replacesDeleted) {
      layers.markOpaque(names);
    }
  }

  @Override
  public void delete(Path path) throws IOException {
    OverlayPath p = OverlayPath.check(path);
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

  @Override
  public void copy(Path source, Path target, CopyOption... options) throws IOException {
    OverlayPath s = OverlayPath.check(source);
    OverlayPath t = OverlayPath.check(target);
    Path from = existing(s);
    if (Files.isDirectory(from, NOFOLLOW)) {
      createDirectory(t);
      return;
    }
    boolean replace = Arrays.asList(options).contains(StandardCopyOption.REPLACE_EXISTING);
    if (layers(t).find(names(t)) != null) {
      if (!replace) {
        throw new FileAlreadyExistsException(t.toString());
      }
      delete(t);
    }
    try (var in = Files.newInputStream(from);
        var out =
            Files.newOutputStream(t, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      in.transferTo(out);
    }
  }

  /**
   * Renames within the upper layer. A directory that has lower entries cannot be renamed (as
   * overlayfs without {@code redirect_dir}): the caller gets EXDEV and may copy instead.
   */
  @Override
  public void move(Path source, Path target, CopyOption... options) throws IOException {
    OverlayPath s = OverlayPath.check(source);
    OverlayPath t = OverlayPath.check(target);
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

  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs)
      throws IOException {
    OverlayPath p = OverlayPath.check(link);
    Layers layers = layers(p);
    List<String> names = names(p);
    requireAbsent(p, layers, names);
    makeWay(p, layers, names);
    Path u = layers.upper(names);
    Files.createSymbolicLink(u, u.getFileSystem().getPath(target.toString()), attrs);
  }

  @Override
  public void createLink(Path link, Path existing) throws IOException {
    OverlayPath p = OverlayPath.check(link);
    OverlayPath e = OverlayPath.check(existing);
    Layers layers = layers(p);
    List<String> names = names(p);
    requireAbsent(p, layers, names);
    Layers.checkNotReserved(p, names);
    Path upperExisting = layers.copyUp(e, names(e));
    makeWay(p, layers, names);
    Files.createLink(layers.upper(names), upperExisting);
  }

  @Override
  public Path readSymbolicLink(Path link) throws IOException {
    OverlayPath p = OverlayPath.check(link);
    return OverlayPath.parse(
        (OverlayFileSystem) p.getFileSystem(), Files.readSymbolicLink(existing(p)).toString());
  }

  @Override
  public boolean isSameFile(Path a, Path b) throws IOException {
    if (a.equals(b)) {
      return true;
    }
    if (!(a instanceof OverlayPath pa && b instanceof OverlayPath pb)
        || pa.getFileSystem() != pb.getFileSystem()) {
      return false;
    }
    return Files.isSameFile(existing(pa), existing(pb));
  }

  @Override
  public boolean isHidden(Path path) {
    return false;
  }

  @Override
  public FileStore getFileStore(Path path) throws IOException {
    return Files.getFileStore(layers(OverlayPath.check(path)).upperRoot());
  }

  /** Write access is granted to every existing entry: writing copies it up. */
  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    Path found = existing(OverlayPath.check(path));
    AccessMode[] readOnly =
        Arrays.stream(modes).filter(m -> m != AccessMode.WRITE).toArray(AccessMode[]::new);
    found.getFileSystem().provider().checkAccess(found, readOnly);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <V extends FileAttributeView> V getFileAttributeView(
      Path path, Class<V> type, LinkOption... options) {
    OverlayPath p = OverlayPath.check(path);
    if (type != BasicFileAttributeView.class) {
      return null;
    }
    return (V)
        new BasicFileAttributeView() {
          @Override
          public String name() {
            return "basic";
          }

          @Override
          public BasicFileAttributes readAttributes() throws IOException {
            return Files.readAttributes(existing(p), BasicFileAttributes.class, options);
          }

          @Override
          public void setTimes(FileTime modified, FileTime access, FileTime create)
              throws IOException {
            Path u = layers(p).copyUp(p, names(p));
            Files.getFileAttributeView(u, BasicFileAttributeView.class, options)
                .setTimes(modified, access, create);
          }
        };
  }

  @Override
  public <A extends BasicFileAttributes> A readAttributes(
      Path path, Class<A> type, LinkOption... options) throws IOException {
    if (type != BasicFileAttributes.class && type != PosixFileAttributes.class) {
      throw new UnsupportedOperationException("overlay file systems have only basic attributes");
    }
    // POSIX attributes (permissions, for a file listing) are read, never written, from the layer
    // that holds the entry: owners of two layers need not agree, so there is no "posix" view.
    return Files.readAttributes(existing(OverlayPath.check(path)), type, options);
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
      throws IOException {
    checkBasic(attributes);
    return Files.readAttributes(existing(OverlayPath.check(path)), attributes, options);
  }

  @Override
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
      throws IOException {
    checkBasic(attribute);
    OverlayPath p = OverlayPath.check(path);
    Files.setAttribute(layers(p).copyUp(p, names(p)), attribute, value, options);
  }

  private static void checkBasic(String attributes) {
    int colon = attributes.indexOf(':');
    if (colon >= 0 && !attributes.substring(0, colon).equals("basic")) {
      throw new UnsupportedOperationException(
          "overlay file systems have only basic attributes: " + attributes);
    }
  }
}
