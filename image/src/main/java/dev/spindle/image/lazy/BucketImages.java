package dev.spindle.image.lazy;

import dev.spindle.bucket.Bucket;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageWriter;
import dev.spindle.image.trust.ImageSignatures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;

/**
 * Images in an S3-compatible bucket, laid out for whole and lazy pulls without a node:
 *
 * <pre>
 *   images/TAG.img            the whole image
 *   images/TAG.metadata.img   its metadata image (commit, trees, path index), what a lazy pull takes
 *   images/TAG.img.sig        its signature, when it is signed
 *   objects/ID                each file's content by Git blob id, shared by every image pushed there
 * </pre>
 *
 * A lazy reader fetches {@code objects/ID} and checks it hashes to ID, as it checks a node's.
 */
final class BucketImages implements ImageOrigin {
  private final Bucket bucket;
  private final String tag;

  BucketImages(Bucket bucket, String tag) {
    this.bucket = bucket;
    this.tag = tag;
  }

  /** What a push did: blobs uploaded (the rest were there), bytes of those, the image's size. */
  record Pushed(int blobs, int blobsPresent, long blobBytes, long imageBytes) {}

  /**
   * Pushes the whole image {@code file} as {@code tag}: blobs first, then the metadata image and
   * signature, the image last, so a puller that finds an image finds everything it needs.
   */
  Pushed push(Path file, Progress progress) throws IOException {
    if (RemoteImage.isLazy(file)) {
      throw new IOException(
          file + " is a lazily pulled image (its blobs are not here): pull it whole first");
    }
    int blobs = 0;
    int present = 0;
    long bytes = 0;
    try (Image img = Image.open(file, AccessMode.INDEXED)) {
      List<ImageEntry> all;
      try (ObjectReader reader = img.repository().newObjectReader()) {
        all = ImageWriter.entries(reader, img.root());
      }
      for (ImageEntry e : all) {
        if (!e.isRegularFile() && !e.isSymlink()) {
          continue;
        }
        String key = "objects/" + e.id().name();
        if (bucket.contains(key)) {
          present++;
          continue;
        }
        byte[] b = img.read(e);
        bucket.put(key, b);
        blobs++;
        bytes += b.length;
      }
    }
    Path meta = Files.createTempFile("spindle-push-", ".img");
    try {
      LazyImages.writeMetadata(file, meta);
      bucket.put("images/" + tag + ".metadata.img", meta);
    } finally {
      Files.deleteIfExists(meta);
    }
    Path sig = ImageSignatures.signatureOf(file);
    if (Files.isRegularFile(sig)) {
      bucket.put("images/" + tag + ".img.sig", Files.readAllBytes(sig));
    }
    bucket.put("images/" + tag + ".img", file);
    return new Pushed(blobs, present, bytes, Files.size(file));
  }

  @Override
  public InputStream file() throws IOException {
    return require("images/" + tag + ".img");
  }

  @Override
  public InputStream metadata() throws IOException {
    return require("images/" + tag + ".metadata.img");
  }

  @Override
  public Optional<byte[]> signature() throws IOException {
    return bucket.get("images/" + tag + ".img.sig");
  }

  @Override
  public byte[] blob(ObjectId id, long size) throws IOException {
    // Streamed and bounded, not Bucket.get: whoever can write the bucket could put a huge object
    // under a small blob's key, and reading it whole would exhaust the reader's memory.
    String key = "objects/" + id.name();
    try (InputStream in =
        bucket.stream(key)
            .orElseThrow(
                () ->
                    new NoSuchFileException(
                        bucket.where(key),
                        null,
                        "the bucket holds no blob "
                            + id.name()
                            + " (was the image pushed whole?)"))) {
      return ImageOrigin.readBlob(in, id, size, "bucket", bucket.where(key));
    }
  }

  private InputStream require(String key) throws IOException {
    return bucket.stream(key)
        .orElseThrow(
            () ->
                new NoSuchFileException(
                    bucket.where(key),
                    null,
                    "no image '"
                        + tag
                        + "' in the bucket ('spindle image push "
                        + tag
                        + " --to …')"));
  }
}
