package dev.spindle.store;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Files by tag in one directory, each {@code <tag><suffix>}. A tag appears only once its file is
 * whole: files are written with {@link AtomicFiles}, and leftovers of interrupted writes (hidden
 * {@code .tmp} files) are never listed.
 */
public final class TagStore {
  private final Path dir;
  private final String suffix;

  public TagStore(Path dir, String suffix) {
    this.dir = dir;
    this.suffix = suffix;
  }

  public Path directory() {
    return dir;
  }

  public Path path(Tag tag) {
    return dir.resolve(tag.value() + suffix);
  }

  public boolean exists(Tag tag) {
    return Files.isRegularFile(path(tag));
  }

  /** The file under {@code tag}, or a {@link NoSuchFileException} naming the tag. */
  public Path require(Tag tag) throws NoSuchFileException {
    Path p = path(tag);
    if (!Files.isRegularFile(p)) {
      throw new NoSuchFileException(p.toString(), null, "no image tagged '" + tag + "' in " + dir);
    }
    return p;
  }

  /** Writes the file for {@code tag} atomically (replacing any earlier one). */
  public Path write(Tag tag, AtomicFiles.Writer writer) throws IOException {
    Files.createDirectories(dir);
    Path p = path(tag);
    AtomicFiles.write(p, writer);
    return p;
  }

  public boolean delete(Tag tag) throws IOException {
    boolean deleted = Files.deleteIfExists(path(tag));
    if (deleted) {
      AtomicFiles.fsyncDirectory(dir);
    }
    return deleted;
  }

  /** Tags present, sorted. */
  public List<Tag> list() throws IOException {
    List<Tag> tags = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return tags;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + suffix)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        String t = name.substring(0, name.length() - suffix.length());
        if (Tag.isValid(t) && Files.isRegularFile(p)) {
          tags.add(new Tag(t));
        }
      }
    }
    tags.sort((a, b) -> a.value().compareTo(b.value()));
    return tags;
  }
}
