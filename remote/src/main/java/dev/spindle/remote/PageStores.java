package dev.spindle.remote;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A fallback page store named by one string, as a node's configuration gives it: a directory, or
 * {@code s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]} for an S3-compatible bucket, its keys from
 * {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY} (never from the string, which ends
 * up in process lists and logs).
 */
public final class PageStores {
  private PageStores() {}

  public static PageStore open(String spec, Map<String, String> env) {
    if (!spec.startsWith("s3://")) {
      return new DirectoryPageStore(Path.of(spec));
    }
    URI u;
    try {
      u = new URI(spec);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("page store '" + spec + "' is not a URI: " + e.getMessage());
    }
    String bucket = u.getHost();
    if (bucket == null || bucket.isEmpty()) {
      throw new IllegalArgumentException("page store '" + spec + "' names no bucket: s3://BUCKET[/PREFIX]?endpoint=URL");
    }
    Map<String, String> q = query(spec, u.getRawQuery());
    String endpoint = q.get("endpoint");
    if (endpoint == null) {
      throw new IllegalArgumentException("page store '" + spec + "' needs ?endpoint=URL (the S3 API to talk to)");
    }
    String access = env.get("AWS_ACCESS_KEY_ID");
    String secret = env.get("AWS_SECRET_ACCESS_KEY");
    if (access == null || secret == null) {
      throw new IllegalArgumentException("page store '" + spec + "' needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    String path = u.getPath() == null ? "" : u.getPath().replaceFirst("^/+", "");
    String prefix = path.isEmpty() || path.endsWith("/") ? path : path + "/";
    return new S3PageStore(S3PageStore.client(URI.create(endpoint), q.getOrDefault("region", "us-east-1"), access,
        secret), bucket, prefix);
  }

  private static Map<String, String> query(String spec, String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null) {
      return q;
    }
    for (String kv : raw.split("&")) {
      int eq = kv.indexOf('=');
      String k = eq < 0 ? kv : kv.substring(0, eq);
      if (!k.equals("endpoint") && !k.equals("region")) {
        throw new IllegalArgumentException("page store '" + spec + "': unknown parameter '" + k
            + "' (known: endpoint, region)");
      }
      q.put(k, java.net.URLDecoder.decode(eq < 0 ? "" : kv.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
    }
    return q;
  }
}
