package dev.spindle.image.nio;

import java.nio.file.FileStore;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileOwnerAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Set;

/**
 * The single store of an image file system: read-only, its total space the image file's size
 * (compressed; the unpacked tree is larger) and nothing free, since nothing can be written.
 */
final class ImageFileStore extends FileStore {
  private static final Set<Class<? extends FileAttributeView>> VIEW_CLASSES =
      Set.of(
          BasicFileAttributeView.class, FileOwnerAttributeView.class, PosixFileAttributeView.class);

  private final String name;
  private final long imageSize;

  ImageFileStore(String name, long imageSize) {
    this.name = name;
    this.imageSize = imageSize;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String type() {
    return ImageUris.SCHEME;
  }

  @Override
  public boolean isReadOnly() {
    return true;
  }

  @Override
  public long getTotalSpace() {
    return imageSize;
  }

  @Override
  public long getUsableSpace() {
    return 0;
  }

  @Override
  public long getUnallocatedSpace() {
    return 0;
  }

  @Override
  public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
    return VIEW_CLASSES.contains(type);
  }

  @Override
  public boolean supportsFileAttributeView(String viewName) {
    return AttributeService.VIEWS.contains(viewName);
  }

  @Override
  public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
    return null;
  }

  @Override
  public Object getAttribute(String attribute) {
    throw new UnsupportedOperationException("a Spindle file store has no attribute " + attribute);
  }

  @Override
  public String toString() {
    return name + " (" + type() + ", read-only)";
  }
}
