package dev.spindle.image.nio;

import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.PathResolver;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileOwnerAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every file operation of an image file system, as jimfs's {@code FileSystemView}: the provider
 * hands each call here after checking the path's type and that the file system is open. Lookups go
 * through {@link PathResolver} (symlinks followed in the middle, at the end unless {@code
 * NOFOLLOW_LINKS}) and fail with the exact NIO exception, naming the path as the caller gave it.
 */
final class FileOperations {
  private final ImageFileSystem fs;
  private final Image image;
  private final PathResolver resolver;
  private final FileSystemState state;
  private final FileStore store;
  private final FileTime time;
  private final long bufferLimit;

  FileOperations(
      ImageFileSystem fs,
      Image image,
      FileSystemState state,
      FileStore store,
      FileTime time,
      long bufferLimit) {
    this.fs = fs;
    this.image = image;
    this.resolver = new PathResolver(image);
    this.state = state;
    this.store = store;
    this.time = time;
    this.bufferLimit = bufferLimit;
  }

  // ---- lookups ----

  /** The entry at {@code path}, or the NIO exception saying why there is none. */
  private ImageEntry lookup(ImagePath path, boolean follow) throws IOException {
    try {
      return resolver
          .tryResolve(path.toAbsolutePath().toString(), follow)
          .orElseThrow(() -> new NoSuchFileException(path.toString()));
    } catch (NotDirectoryException e) {
      // A file where a directory was needed on the way: no such file, as jimfs and Linux's
      // ENOTDIR-on-lookup both mean (NotDirectoryException is for listing a non-directory).
      throw new NoSuchFileException(path.toString(), null, "not a directory: " + e.getFile());
    } catch (FileSystemException e) {
      if (e.getClass() == FileSystemException.class) { // the resolver's symlink loop
        throw new FileSystemException(path.toString(), null, e.getReason());
      }
      throw e;
    }
  }

  /** The entry at {@code path}, or empty for a miss of any kind; costs no exception on a miss. */
  private Optional<ImageEntry> find(ImagePath path, boolean follow) throws IOException {
    try {
      return resolver.tryResolve(path.toAbsolutePath().toString(), follow);
    } catch (FileSystemException e) { // not a directory on the way, or a loop: rare
      return Optional.empty();
    }
  }

  private ImageFileAttributes attributes(ImageEntry e) throws IOException {
    return new ImageFileAttributes(e, time, image.metadata(e), image.linkCount(e));
  }

  ImagePath toRealPath(ImagePath path, LinkOption... options) throws IOException {
    ImageEntry e = lookup(path, ReadOnlyOptions.follow(options));
    return ImagePath.parse(fs, "/" + e.path());
  }

  // ---- content ----

  SeekableByteChannel newByteChannel(ImagePath path, Set<? extends OpenOption> options)
      throws IOException {
    boolean follow = ReadOnlyOptions.check(options);
    ImageEntry e = lookup(path, follow);
    if (e.isSymlink()) {
      throw new FileSystemException(path.toString(), null, "is a symbolic link (NOFOLLOW_LINKS)");
    }
    if (!e.isRegularFile()) {
      throw new FileSystemException(
          path.toString(), null, e.isDirectory() ? "is a directory" : "is not a regular file");
    }
    BlobContent content =
        e.size() <= bufferLimit
            ? new BufferedBlob(image.read(e))
            : new StreamedBlob(() -> image.open(e), e.size());
    return state.register(new BlobChannel(content, state));
  }

  DirectoryStream<Path> newDirectoryStream(
      ImagePath dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
    ImageEntry e = lookup(dir, true);
    if (!e.isDirectory()) {
      throw new NotDirectoryException(dir.toString());
    }
    List<ImagePath> children = new ArrayList<>();
    for (ImageEntry child : image.list(e)) {
      children.add(dir.resolve(fs.getPath(child.name())));
    }
    return state.register(new ImageDirectoryStream(children, filter, state));
  }

  ImagePath readSymbolicLink(ImagePath link) throws IOException {
    ImageEntry e = lookup(link, false);
    if (!e.isSymlink()) {
      throw new NotLinkException(link.toString());
    }
    return ImagePath.parse(fs, image.readLink(e));
  }

  // ---- attributes ----

  ImageFileAttributes readAttributes(ImagePath path, LinkOption... options) throws IOException {
    return attributes(lookup(path, ReadOnlyOptions.follow(options)));
  }

  <A extends BasicFileAttributes> A readAttributes(
      ImagePath path, Class<A> type, LinkOption... options) throws IOException {
    checkAttributesType(type);
    return type.cast(readAttributes(path, options));
  }

  <A extends BasicFileAttributes> A readAttributesIfExists(
      ImagePath path, Class<A> type, LinkOption... options) throws IOException {
    checkAttributesType(type);
    Optional<ImageEntry> e = find(path, ReadOnlyOptions.follow(options));
    return e.isPresent() ? type.cast(attributes(e.get())) : null;
  }

  private static void checkAttributesType(Class<?> type) {
    if (type != BasicFileAttributes.class && type != PosixFileAttributes.class) {
      throw new UnsupportedOperationException("no attributes of type " + type.getName());
    }
  }

  Map<String, Object> readAttributes(ImagePath path, String attributes, LinkOption... options)
      throws IOException {
    return AttributeService.read(readAttributes(path, options), attributes);
  }

  /** A read-only view; it looks the path up when read, through an open-checked entry point. */
  <V extends FileAttributeView> V getFileAttributeView(
      ImagePath path, Class<V> type, LinkOption... options) {
    String name;
    if (type == BasicFileAttributeView.class) {
      name = "basic";
    } else if (type == FileOwnerAttributeView.class) {
      name = "owner";
    } else if (type == PosixFileAttributeView.class) {
      name = "posix";
    } else {
      return null;
    }
    return type.cast(
        new ImageAttributeView(name, () -> fs.operations().readAttributes(path, options)));
  }

  boolean exists(ImagePath path, LinkOption... options) throws IOException {
    return find(path, ReadOnlyOptions.follow(options)).isPresent();
  }

  // ---- access ----

  void checkAccess(ImagePath path, AccessMode... modes) throws IOException {
    ImageEntry e = lookup(path, true);
    for (AccessMode m : modes) {
      if (m == AccessMode.WRITE) {
        throw new AccessDeniedException(path.toString(), null, "read-only file system");
      }
      if (m == AccessMode.EXECUTE && !(e.isExecutable() || e.isDirectory())) {
        throw new AccessDeniedException(path.toString(), null, "not executable");
      }
    }
  }

  boolean isSameFile(ImagePath a, Path b) throws IOException {
    if (a.equals(b)) {
      return true;
    }
    if (!(b instanceof ImagePath other) || other.getFileSystem() != fs) {
      return false;
    }
    return lookup(a, true).path().equals(lookup(other, true).path());
  }

  /** A name starting with '.', as on Unix; no lookup, so it holds for missing files too. */
  boolean isHidden(ImagePath path) {
    ImagePath name = path.getFileName();
    return name != null && name.toString().startsWith(".");
  }

  FileStore getFileStore(ImagePath path) throws IOException {
    lookup(path, true);
    return store;
  }
}
