package dev.spindle.sandbox.overlay;

import static dev.spindle.sandbox.overlay.OverlayOperations.existing;
import static dev.spindle.sandbox.overlay.OverlayOperations.layers;
import static dev.spindle.sandbox.overlay.OverlayOperations.names;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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

/**
 * The overlay's {@code FileSystemProvider}: checks the path type, then dispatches to {@link
 * OverlayOperations} (or, for reads of attributes, to the entry found in its {@link Layers}).
 */
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

  @Override
  public SeekableByteChannel newByteChannel(
      Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    return OverlayOperations.newByteChannel(OverlayPath.check(path), options, attrs);
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

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    OverlayOperations.createDirectory(OverlayPath.check(dir), attrs);
  }

  @Override
  public void delete(Path path) throws IOException {
    OverlayOperations.delete(OverlayPath.check(path));
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
    OverlayOperations.move(OverlayPath.check(source), OverlayPath.check(target), options);
  }

  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs)
      throws IOException {
    OverlayOperations.createSymbolicLink(OverlayPath.check(link), target, attrs);
  }

  @Override
  public void createLink(Path link, Path existing) throws IOException {
    OverlayOperations.createLink(OverlayPath.check(link), OverlayPath.check(existing));
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
