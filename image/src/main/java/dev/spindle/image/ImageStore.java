package dev.spindle.image;

import dev.spindle.store.AtomicFiles;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.TagStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** Images by tag under the Spindle home: {@code images/<tag>.img}, each written atomically. */
public final class ImageStore {
  public static final String SUFFIX = ".img";

  private final TagStore tags;

  public ImageStore(SpindleHome home) {
    this.tags = new TagStore(home.images(), SUFFIX);
  }

  public Path path(Tag tag) {
    return tags.path(tag);
  }

  public boolean exists(Tag tag) {
    return tags.exists(tag);
  }

  public List<Tag> list() throws IOException {
    return tags.list();
  }

  /** Removes the image and what lives beside it under the same tag (e.g. an OCI run config). */
  public boolean delete(Tag tag) throws IOException {
    boolean deleted = tags.delete(tag);
    Files.deleteIfExists(tags.directory().resolve(tag.value() + ".oci.json"));
    Files.deleteIfExists(RemoteImage.marker(tags.path(tag)));
    Files.deleteIfExists(ImageSignatures.signatureOf(tags.path(tag)));
    return deleted;
  }

  /** Makes an image of {@code source} under {@code tag}. */
  public ImageHeader make(String source, Tag tag, MakeOptions options, Progress progress)
      throws IOException {
    Files.createDirectories(tags.directory());
    return new ImageMaker(options, progress).make(source, tags.path(tag));
  }

  /**
   * Brings an image file in under {@code tag} after verifying it whole; a damaged file is refused
   * and nothing is stored.
   */
  public VerifyReport importFile(Path file, Tag tag, Progress progress) throws IOException {
    VerifyReport r = new ImageVerifier(progress).verify(file);
    if (r.ok()) {
      Files.createDirectories(tags.directory());
      AtomicFiles.copy(file, tags.path(tag));
      Files.deleteIfExists(RemoteImage.marker(tags.path(tag))); // a whole image now, not lazy
    }
    return r;
  }

  /** Writes the image under {@code tag} to {@code file} (one self-contained file). */
  public void export(Tag tag, Path file) throws IOException {
    AtomicFiles.copy(tags.require(tag), file);
  }

  /**
   * The image file a user named: a tag in this store, else a path to an image file. Says which
   * when neither exists.
   */
  public Path locate(String tagOrFile) throws IOException {
    if (Tag.isValid(tagOrFile) && tags.exists(Tag.of(tagOrFile))) {
      return tags.path(Tag.of(tagOrFile));
    }
    Path p = Path.of(tagOrFile);
    if (Files.isRegularFile(p)) {
      return p;
    }
    throw new NoSuchFileException(
        tagOrFile, null, "no image tagged '" + tagOrFile + "' in " + tags.directory()
            + " and no such file");
  }
}
