package dev.spindle.image;

import dev.spindle.store.Bucket;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;

/**
 * Where a pulled image comes from, as a puller sees it: a node's image routes ({@link NodeImages})
 * or a bucket an image was pushed to ({@link BucketImages}). The whole image, its metadata image,
 * its signature, one blob; every failure names the source.
 */
interface ImageOrigin {
  InputStream file() throws IOException;

  InputStream metadata() throws IOException;

  /** The signature file, or empty when the image is unsigned there. */
  Optional<byte[]> signature() throws IOException;

  byte[] blob(ObjectId id) throws IOException;

  /** The origin a marker names: {@code s3://…} is a bucket, anything else a node. */
  static ImageOrigin of(RemoteImage remote) {
    String source = remote.node().toString();
    return Bucket.isBucket(source)
        ? new BucketImages(Bucket.open(source, System.getenv(), "image source"), remote.tag())
        : new NodeImages(remote);
  }
}
