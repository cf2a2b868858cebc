package dev.spindle.remote;

import dev.spindle.bucket.Bucket;
import java.nio.file.Path;
import java.util.Map;

/**
 * A fallback page store named by one string, as a node's configuration gives it: a directory, or
 * {@code s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]} for an S3-compatible bucket ({@link
 * Bucket}).
 */
public final class PageStores {
  private PageStores() {}

  public static PageStore open(String spec, Map<String, String> env) {
    return Bucket.isBucket(spec)
        ? new S3PageStore(Bucket.open(spec, env, "page store"))
        : new DirectoryPageStore(Path.of(spec));
  }
}
