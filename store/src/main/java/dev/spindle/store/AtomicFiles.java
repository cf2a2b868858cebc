package dev.spindle.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes files so that a crash never leaves a half-written file under the final name: the bytes go
 * to a temporary file in the same directory, which is fsynced, renamed over the target, and then
 * the directory itself is fsynced so the rename survives a power loss.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Something that writes a file's content. */
  @FunctionalInterface
  public interface Writer {
    void write(FileChannel out) throws IOException;
  }

  /** Writes {@code target} atomically with whatever {@code writer} puts into the channel. */
  public static void write(Path target, Writer writer) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        writer.write(ch);
        ch.force(true);
      }
      publish(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Writes {@code bytes} to {@code target} atomically. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(
        target,
        ch -> {
          java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
          while (b.hasRemaining()) {
            ch.write(b);
          }
        });
  }

  /** Copies {@code source} to {@code target} atomically. */
  public static void copy(Path source, Path target) throws IOException {
    write(
        target,
        out -> {
          try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
            long size = in.size();
            long pos = 0;
            while (pos < size) {
              pos += in.transferTo(pos, size - pos, out);
            }
          }
        });
  }

  /**
   * Renames a fully written, fsynced temporary file over {@code target}, then fsyncs the directory.
   * The temporary file must be in the same directory as the target.
   */
  public static void publish(Path tmp, Path target) throws IOException {
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename atomically onto " + target + ": " + e.getMessage(), e);
    }
    fsyncDirectory(target.toAbsolutePath().getParent());
  }

  /** Makes a directory's entries (new names, renames) durable. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
