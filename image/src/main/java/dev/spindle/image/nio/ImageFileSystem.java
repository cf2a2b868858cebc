package dev.spindle.image.nio;

import dev.spindle.image.Image;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * An open image as a read-only file system. It holds its parts (the image, the lifecycle state, the
 * operations, the store) and checks it is open; the work is in {@link FileOperations}.
 */
final class ImageFileSystem extends FileSystem {
  private final SpindleFileSystemProvider provider;
  private final Path imageFile; // real path: the key in the provider's registry
  private final Image image;
  private final FileSystemState state = new FileSystemState();
  private final ImageFileStore store;
  private final FileOperations operations;
  private final ImagePath root;
  private final AtomicBoolean imageClosed = new AtomicBoolean();

  private ImageFileSystem(
      SpindleFileSystemProvider provider, Path imageFile, Image image, long size, Env env)
      throws IOException {
    this.provider = provider;
    this.imageFile = imageFile;
    this.image = image;
    this.store = new ImageFileStore(imageFile.toString(), size);
    FileTime time = FileTime.from(image.commit().date().toInstant());
    this.operations = new FileOperations(this, image, state, store, time, env.bufferLimit());
    this.root = ImagePath.root(this);
  }

  /** Opens {@code imageFile} (a real path); Image.open checks its header; closes it on failure. */
  static ImageFileSystem open(SpindleFileSystemProvider provider, Path imageFile, Env env)
      throws IOException {
    Image image = Image.open(imageFile, env.mode());
    try {
      return new ImageFileSystem(provider, imageFile, image, Files.size(imageFile), env);
    } catch (IOException | RuntimeException e) {
      image.close();
      throw e;
    }
  }

  /**
   * A file system over an open tree image ({@link Image#ofTree}), not in the provider's registry
   * (no URI finds it); {@code name} stands for the image file in its store name and URIs. Closing
   * it closes the image.
   */
  static ImageFileSystem ofTree(SpindleFileSystemProvider provider, Path name, Image image)
      throws IOException {
    return new ImageFileSystem(provider, name, image, 0, Env.parse(Map.of()));
  }

  Path imageFile() {
    return imageFile;
  }

  /** The operations, once the file system is checked open: the entry point of every file call. */
  FileOperations operations() {
    state.checkOpen();
    return operations;
  }

  @Override
  public SpindleFileSystemProvider provider() {
    return provider;
  }

  /** Closes what it handed out, then the image, then leaves the registry, whatever fails. */
  @Override
  public void close() throws IOException {
    try {
      state.close();
    } finally {
      closeImage();
    }
  }

  private void closeImage() throws IOException {
    if (!imageClosed.compareAndSet(false, true)) {
      return;
    }
    try {
      image.close();
    } finally {
      provider.removeFileSystem(imageFile, this);
    }
  }

  @Override
  public boolean isOpen() {
    return state.isOpen();
  }

  @Override
  public boolean isReadOnly() {
    return true;
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    state.checkOpen();
    return List.of(root);
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    state.checkOpen();
    return List.of(store);
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return AttributeService.VIEWS;
  }

  /** Pure: a path is a value, made without touching the image, so it works after close too. */
  @Override
  public ImagePath getPath(String first, String... more) {
    return ImagePath.parse(this, first, more);
  }

  /** {@code glob:} (see {@link Globs}) or {@code regex:} over the path's string form. */
  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    state.checkOpen();
    int colon = syntaxAndPattern.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("expected syntax:pattern, got: " + syntaxAndPattern);
    }
    String syntax = syntaxAndPattern.substring(0, colon).toLowerCase(Locale.ROOT);
    String pattern = syntaxAndPattern.substring(colon + 1);
    Pattern p =
        switch (syntax) {
          case "glob" -> Pattern.compile(Globs.toRegex(pattern));
          case "regex" -> Pattern.compile(pattern);
          default -> throw new UnsupportedOperationException("no path matcher syntax " + syntax);
        };
    return path -> p.matcher(path.toString()).matches();
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    state.checkOpen();
    throw new UnsupportedOperationException("an image has one owner, root");
  }

  @Override
  public WatchService newWatchService() {
    state.checkOpen();
    throw new UnsupportedOperationException("an image never changes: nothing to watch");
  }

  @Override
  public String toString() {
    return ImageUris.SCHEME + ":" + imageFile;
  }
}
