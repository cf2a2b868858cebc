package dev.spindle.image.nio;

/** The file system over the image's path index. */
final class IndexedImageFileSystemTest extends AbstractImageFileSystemTest {
  @Override
  String mode() {
    return "indexed";
  }
}
