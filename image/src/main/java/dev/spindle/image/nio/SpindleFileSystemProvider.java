package dev.spindle.image.nio;

import dev.spindle.image.ImageHeader;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.spi.FileSystemProvider;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Spindle images as read-only {@link java.nio.file.FileSystem}s, with the outside contract of the
 * JDK's zipfs:
 *
 * <pre>{@code
 * try (FileSystem fs = FileSystems.newFileSystem(Path.of("app.img"))) {
 *   byte[] b = Files.readAllBytes(fs.getPath("/etc/config"));
 * }
 * }</pre>
 *
 * <ul>
 *   <li>{@code FileSystems.newFileSystem(path[, env])} finds this provider through {@code
 *       META-INF/services}; a file that does not start with the image magic (or cannot be read)
 *       gets {@link UnsupportedOperationException}, so the JDK tries the next provider.
 *   <li>URIs are {@code spindle:<file-uri>!/entry}: {@code FileSystems.newFileSystem(uri, env)},
 *       {@code FileSystems.getFileSystem(uri)}, {@code Path.of(uri)} (its file system must be open)
 *       and {@code Path.toUri()}.
 *   <li>Open file systems are keyed by the image file's real path: opening the same file again, by
 *       path or URI, throws {@link FileSystemAlreadyExistsException} until the first closes.
 *   <li>Everything that would write throws {@link ReadOnlyFileSystemException}; {@code
 *       checkAccess(WRITE)} throws {@link java.nio.file.AccessDeniedException}.
 * </ul>
 *
 * <p>Keys of {@code env} (unknown keys are an {@link IllegalArgumentException}):
 *
 * <table>
 *   <caption>Environment keys</caption>
 *   <tr><th>key</th><th>values</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code mode}</td><td>{@code "indexed"}, {@code "lazy"} or an {@code AccessMode}</td>
 *       <td>{@code indexed}</td><td>how paths are found: binary search in the image's path
 *       index, or a walk of the Git trees per lookup</td></tr>
 *   <tr><td>{@code bufferLimit}</td><td>bytes, a {@code Number} or decimal {@code String}</td>
 *       <td>8 MiB</td><td>files up to this size are inflated whole when a channel opens; larger
 *       ones are streamed, and a backward {@code position()} reopens the stream</td></tr>
 * </table>
 *
 * <p>This class only dispatches: it checks each path is one of an image file system ({@link
 * java.nio.file.ProviderMismatchException} otherwise) and hands the call to that file system's
 * operations, which first check it is open ({@link java.nio.file.ClosedFileSystemException}).
 */
public final class SpindleFileSystemProvider extends FileSystemProvider {
  private final ConcurrentMap<Path, ImageFileSystem> fileSystems = new ConcurrentHashMap<>();

  /** Called by the service loader; {@code FileSystems} keeps one instance per JVM. */
  public SpindleFileSystemProvider() {}

  @Override
  public String getScheme() {
    return ImageUris.SCHEME;
  }

  // ---- file systems ----

  @Override
  public FileSystem newFileSystem(Path path, Map<String, ?> env) throws IOException {
    if (path.getFileSystem().provider() == this || !hasImageMagic(path)) {
      throw new UnsupportedOperationException(path + " is not a Spindle image");
    }
    return register(path, Env.parse(env));
  }

  /** Unlike {@link #newFileSystem(Path, Map)}, a file that is not an image is an IOException. */
  @Override
  public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
    return register(ImageUris.parse(uri).imageFile(), Env.parse(env));
  }

  private FileSystem register(Path file, Env env) throws IOException {
    Path real = file.toRealPath();
    synchronized (fileSystems) { // one open per file, even when two threads race
      if (fileSystems.containsKey(real)) {
        throw new FileSystemAlreadyExistsException(real.toString());
      }
      ImageFileSystem fs = ImageFileSystem.open(this, real, env);
      fileSystems.put(real, fs);
      return fs;
    }
  }

  private static boolean hasImageMagic(Path file) {
    byte[] magic = ImageHeader.MAGIC;
    ByteBuffer b = ByteBuffer.allocate(magic.length);
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      while (b.hasRemaining() && ch.read(b) > 0) {}
    } catch (IOException e) {
      return false; // missing, a directory, unreadable: not ours to claim
    }
    return !b.hasRemaining() && Arrays.equals(b.array(), magic);
  }

  void removeFileSystem(Path imageFile, ImageFileSystem fs) {
    fileSystems.remove(imageFile, fs);
  }

  @Override
  public FileSystem getFileSystem(URI uri) {
    return openFileSystem(ImageUris.parse(uri).imageFile());
  }

  @Override
  public Path getPath(URI uri) {
    ImageUris.Parts parts = ImageUris.parse(uri);
    return openFileSystem(parts.imageFile()).getPath(parts.entry());
  }

  private ImageFileSystem openFileSystem(Path file) {
    ImageFileSystem fs;
    try {
      fs = fileSystems.get(file.toRealPath());
    } catch (IOException e) {
      fs = null;
    }
    if (fs == null) {
      throw new FileSystemNotFoundException("no open Spindle file system for " + file);
    }
    return fs;
  }

  // ---- dispatch ----

  private static FileOperations ops(Path path) {
    return ImagePath.check(path).getFileSystem().operations();
  }

  @Override
  public SeekableByteChannel newByteChannel(
      Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    return ops(path).newByteChannel(ImagePath.check(path), options);
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(
      Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
    return ops(dir).newDirectoryStream(ImagePath.check(dir), filter);
  }

  @Override
  public Path readSymbolicLink(Path link) throws IOException {
    return ops(link).readSymbolicLink(ImagePath.check(link));
  }

  @Override
  public boolean isSameFile(Path path, Path path2) throws IOException {
    return ops(path).isSameFile(ImagePath.check(path), path2);
  }

  @Override
  public boolean isHidden(Path path) {
    return ops(path).isHidden(ImagePath.check(path));
  }

  @Override
  public FileStore getFileStore(Path path) throws IOException {
    return ops(path).getFileStore(ImagePath.check(path));
  }

  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    ops(path).checkAccess(ImagePath.check(path), modes);
  }

  @Override
  public boolean exists(Path path, LinkOption... options) {
    try {
      return ops(path).exists(ImagePath.check(path), options);
    } catch (IOException e) {
      return false; // as Files.exists: a file we cannot read is not known to exist
    }
  }

  @Override
  public <V extends FileAttributeView> V getFileAttributeView(
      Path path, Class<V> type, LinkOption... options) {
    return ops(path).getFileAttributeView(ImagePath.check(path), type, options);
  }

  @Override
  public <A extends BasicFileAttributes> A readAttributes(
      Path path, Class<A> type, LinkOption... options) throws IOException {
    return ops(path).readAttributes(ImagePath.check(path), type, options);
  }

  @Override
  public <A extends BasicFileAttributes> A readAttributesIfExists(
      Path path, Class<A> type, LinkOption... options) throws IOException {
    return ops(path).readAttributesIfExists(ImagePath.check(path), type, options);
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
      throws IOException {
    return ops(path).readAttributes(ImagePath.check(path), attributes, options);
  }

  // ---- writes: all refused, after the same checks as reads ----

  private static ReadOnlyFileSystemException readOnly(Path path) {
    ops(path);
    return new ReadOnlyFileSystemException();
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) {
    throw readOnly(dir);
  }

  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) {
    throw readOnly(link);
  }

  @Override
  public void createLink(Path link, Path existing) {
    throw readOnly(link);
  }

  @Override
  public void delete(Path path) {
    throw readOnly(path);
  }

  @Override
  public void copy(Path source, Path target, CopyOption... options) {
    throw readOnly(target);
  }

  @Override
  public void move(Path source, Path target, CopyOption... options) {
    throw readOnly(source);
  }

  @Override
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options) {
    throw readOnly(path);
  }
}
