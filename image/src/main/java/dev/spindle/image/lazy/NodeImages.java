package dev.spindle.image.lazy;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.jgit.lib.ObjectId;

/**
 * A node's image routes as a puller sees them: the image file, its metadata image, one blob. Every
 * answer but 200 is an IOException naming the node, the route and what it said.
 */
final class NodeImages implements ImageOrigin {
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(10))
          .sslContext(
              dev.spindle.store.LazyTls.context()) // trust store read at the first https call
          .build();

  private final RemoteImage remote;

  NodeImages(RemoteImage remote) {
    this.remote = remote;
  }

  @Override
  public InputStream file() throws IOException {
    return get("/file");
  }

  @Override
  public InputStream metadata() throws IOException {
    return get("/metadata");
  }

  /** The image's signature file, or empty when the node holds it unsigned (404). */
  @Override
  public java.util.Optional<byte[]> signature() throws IOException {
    try (InputStream in = get("/signature")) {
      return java.util.Optional.of(in.readNBytes(64 << 10));
    } catch (NotFound e) {
      return java.util.Optional.empty();
    }
  }

  /** A 404: the node does not have what was asked. */
  static final class NotFound extends IOException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message);
    }
  }

  @Override
  public byte[] blob(ObjectId id, long size) throws IOException {
    // Bounded by the path index's size, not by what the node says: the answer is gzipped, so a
    // few kilobytes on the wire could otherwise inflate into an OutOfMemoryError.
    try (InputStream in = get("/objects/" + id.name())) {
      return ImageOrigin.readBlob(in, id, size, "node", remote.node().toString());
    }
  }

  private InputStream get(String what) throws IOException {
    String base = remote.node().toString().replaceAll("/+$", "");
    URI uri =
        URI.create(
            base + "/v1/images/" + URLEncoder.encode(remote.tag(), StandardCharsets.UTF_8) + what);
    HttpRequest.Builder rq =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofMinutes(5))
            .GET()
            .header("Accept-Encoding", "gzip"); // a node gzips blobs (they leave its PACK inflated)
    if (!remote.token().isEmpty()) {
      rq.header("Authorization", "Bearer " + remote.token());
    }
    HttpResponse<InputStream> r;
    try {
      r = HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching " + uri, e);
    }
    if (r.statusCode() != 200) {
      String body;
      try (InputStream in = r.body()) {
        body = new String(in.readNBytes(512), StandardCharsets.UTF_8);
      }
      String message =
          "node "
              + remote.node()
              + " answered "
              + r.statusCode()
              + " for GET "
              + uri.getPath()
              + ": "
              + body;
      throw r.statusCode() == 404 ? new NotFound(message) : new IOException(message);
    }
    boolean gzip =
        r.headers()
            .firstValue("Content-Encoding")
            .map(v -> v.equalsIgnoreCase("gzip"))
            .orElse(false);
    return gzip ? new java.util.zip.GZIPInputStream(r.body()) : r.body();
  }
}
