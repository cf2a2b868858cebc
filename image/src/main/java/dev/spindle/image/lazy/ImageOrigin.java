package dev.spindle.image.lazy;

import dev.spindle.bucket.Bucket;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;

/**
 * Where a pulled image comes from, as a puller sees it: a node's image routes ({@link NodeImages})
 * or a bucket an image was pushed to ({@link BucketImages}), or, for reads of a lazy image only, a
 * remote image file read by byte ranges ({@link PackRangeOrigin}). The whole image, its metadata
 * image, its signature, one blob; every failure names the source.
 */
interface ImageOrigin {
  InputStream file() throws IOException;

  InputStream metadata() throws IOException;

  /** The signature file, or empty when the image is unsigned there. */
  Optional<byte[]> signature() throws IOException;

  /**
   * The blob {@code id}, which the path index says is {@code size} bytes (negative: unknown). An
   * origin never reads more than one byte past {@code size}: what it sends is untrusted, and a
   * gzipped answer can inflate to any size (see {@link #readBlob}).
   */
  byte[] blob(ObjectId id, long size) throws IOException;

  /** The most a blob can be: one byte less than the largest array the JVM allocates. */
  long MAX_BLOB = Integer.MAX_VALUE - 9;

  /**
   * Reads blob {@code id} from {@code in}, failing as soon as {@code in} holds more than {@code
   * size} bytes (negative: unknown, so at most {@link #MAX_BLOB}). Reading stops one byte past the
   * limit and the buffer grows only with what arrives, so a gzip bomb (a megabyte inflating to
   * gigabytes) or an oversized answer costs at most {@code size + 1} bytes of memory, and fails
   * before anything is hashed or stored. {@code sender} is "node" or "bucket", {@code where} the
   * node's address or the object's key, for the message.
   */
  static byte[] readBlob(InputStream in, ObjectId id, long size, String sender, String where)
      throws IOException {
    if (size > MAX_BLOB) {
      throw new IOException(
          "object "
              + id.name()
              + ": "
              + size
              + " bytes is more than a blob read into memory can be");
    }
    long limit = size < 0 ? MAX_BLOB : size;
    byte[] b = in.readNBytes((int) limit + 1);
    if (b.length > limit) {
      throw new IOException(
          "object "
              + id.name()
              + ": the "
              + sender
              + " sent more than "
              + limit
              + " bytes"
              + (size >= 0 ? ", its size in the image's path index" : "")
              + " ("
              + where
              + "); nothing stored");
    }
    return b;
  }

  /**
   * The origin the marker of {@code image} names: {@code s3://…} is a bucket, {@code docker://…} a
   * registry read by byte ranges ({@link PackRangeOrigin}), anything else a node.
   */
  static ImageOrigin of(RemoteImage remote, java.nio.file.Path image) throws IOException {
    String source = remote.node().toString();
    if (source.startsWith("docker://")) {
      return PackRangeOrigin.open(remote, image);
    }
    return of(remote);
  }

  /** The origin of a pull from a node or bucket. */
  static ImageOrigin of(RemoteImage remote) {
    String source = remote.node().toString();
    return Bucket.isBucket(source)
        ? new BucketImages(Bucket.open(source, System.getenv(), "image source"), remote.tag())
        : new NodeImages(remote);
  }
}
