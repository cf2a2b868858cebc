package dev.spindle.image.nio;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The entries of one directory, listed when the stream opened (a tree never changes), filtered as
 * they are iterated. One iterator per stream, and none after close, as {@link DirectoryStream}
 * requires; closing stops an iteration in progress.
 */
final class ImageDirectoryStream implements DirectoryStream<Path> {
  private final List<ImagePath> children;
  private final Filter<? super Path> filter;
  private final FileSystemState state;
  private volatile boolean open = true;
  private boolean iterated;

  ImageDirectoryStream(
      List<ImagePath> children, Filter<? super Path> filter, FileSystemState state) {
    this.children = children;
    this.filter = filter;
    this.state = state;
  }

  @Override
  public synchronized Iterator<Path> iterator() {
    if (!open) {
      throw new IllegalStateException("directory stream closed");
    }
    if (iterated) {
      throw new IllegalStateException("iterator() already called on this directory stream");
    }
    iterated = true;
    return new Iterator<>() {
      private int next;
      private Path ahead;

      @Override
      public boolean hasNext() {
        while (ahead == null && open && next < children.size()) {
          Path p = children.get(next++);
          try {
            if (filter == null || filter.accept(p)) {
              ahead = p;
            }
          } catch (IOException e) {
            throw new DirectoryIteratorException(e);
          }
        }
        return ahead != null;
      }

      @Override
      public Path next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Path p = ahead;
        ahead = null;
        return p;
      }
    };
  }

  @Override
  public void close() {
    open = false;
    state.unregister(this);
  }
}
