package dev.spindle.image.nio;

/** The file system walking Git trees per lookup. */
final class LazyImageFileSystemTest extends AbstractImageFileSystemTest {
  @Override
  String mode() {
    return "lazy";
  }
}
