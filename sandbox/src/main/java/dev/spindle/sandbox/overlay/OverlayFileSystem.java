package dev.spindle.sandbox.overlay;

import java.nio.file.ClosedFileSystemException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.List;
import java.util.Set;

/** An overlay: holds its layers and whether it is open; the provider does the work. */
final class OverlayFileSystem extends FileSystem {
  private final Layers layers;
  private volatile boolean open = true;

  OverlayFileSystem(Layers layers) {
    this.layers = layers;
  }

  Layers layers() {
    return layers;
  }

  void checkOpen() {
    if (!open) {
      throw new ClosedFileSystemException();
    }
  }

  @Override
  public FileSystemProvider provider() {
    return OverlayProvider.INSTANCE;
  }

  /** Closing only stops further use: channels handed out belong to the layers' providers. */
  @Override
  public void close() {
    open = false;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return List.of(getPath("/"));
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    try {
      return List.of(java.nio.file.Files.getFileStore(layers.upperRoot()));
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  /** Only "basic": inode numbers and owners of two layers would not agree. */
  @Override
  public Set<String> supportedFileAttributeViews() {
    return Set.of("basic");
  }

  @Override
  public Path getPath(String first, String... more) {
    return OverlayPath.parse(this, first, more);
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    PathMatcher m = FileSystems.getDefault().getPathMatcher(syntaxAndPattern);
    return p -> m.matches(Path.of(p.toString()));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    throw new UnsupportedOperationException("overlay file systems have no user lookup");
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("overlay file systems cannot be watched");
  }
}
