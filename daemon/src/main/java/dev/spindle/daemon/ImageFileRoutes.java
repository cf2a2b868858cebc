package dev.spindle.daemon;

import dev.spindle.image.lazy.LazyImages;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An image's bytes, for other nodes pulling it: the whole file (with {@code Range}), its metadata
 * image (what a lazy pull stores) and one blob by id (what a lazy image fetches on first read).
 */
final class ImageFileRoutes {
  private static final String OCTETS = "application/octet-stream";

  private final Catalog catalog;

  /** Body bytes answered by these routes, as sent (a gzipped blob counts compressed). */
  private final java.util.concurrent.atomic.LongAdder bytesServed =
      new java.util.concurrent.atomic.LongAdder();

  ImageFileRoutes(Catalog catalog) {
    this.catalog = catalog;
  }

  long bytesServed() {
    return bytesServed.sum();
  }

  void register(Router r) {
    r.add("GET", "/v1/images/{tag}/file", this::file);
    r.add("GET", "/v1/images/{tag}/metadata", this::metadata);
    r.add("GET", "/v1/images/{tag}/objects/{id}", this::object);
    r.add("GET", "/v1/images/{tag}/signature", this::signature);
  }

  /** The image's signature file ('spindle image sign'), for pullers whose node requires one. */
  private void signature(Exchange x) throws IOException {
    Path sig = dev.spindle.image.trust.ImageSignatures.signatureOf(image(x));
    if (!Files.isRegularFile(sig)) {
      throw ApiError.notFound("image '" + x.param("tag") + "' is unsigned on this node");
    }
    byte[] body = Files.readAllBytes(sig);
    x.text("text/plain; charset=utf-8", body);
    bytesServed.add(body.length);
  }

  /** The image file of a tag; only whole images are served (a lazily pulled one has no blobs). */
  private Path image(Exchange x) {
    String t = x.param("tag");
    if (!Tag.isValid(t)) {
      throw ApiError.badRequest("bad_tag", "tag '" + t + "' must match [A-Za-z0-9_-]{1,64}");
    }
    Path p = catalog.images().path(Tag.of(t));
    if (!Files.isRegularFile(p) || LazyImages.isLazy(p)) {
      throw ApiError.notFound("no whole image tagged '" + t + "' on this node");
    }
    return p;
  }

  private void file(Exchange x) throws IOException {
    Path p = image(x);
    FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
    try {
      long size = ch.size();
      ByteRange range = ByteRange.parse(x.request.getHeaders().get("Range"), size);
      x.headers.put("Accept-Ranges", "bytes");
      if (range == null) {
        x.stream(200, OCTETS, Channels.newInputStream(ch), size);
        bytesServed.add(size);
        return;
      }
      x.headers.put("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + size);
      ch.position(range.first());
      InputStream in = Channels.newInputStream(ch);
      x.stream(206, OCTETS, in, range.length());
      bytesServed.add(range.length());
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private void metadata(Exchange x) throws IOException {
    Path p = image(x);
    Path tmp = Files.createTempFile("spindle-metadata-", ".img");
    try {
      LazyImages.writeMetadata(p, tmp);
      long size = Files.size(tmp);
      // Unlinked at once on Linux: nothing is left behind whatever happens to the request.
      x.stream(200, OCTETS, Files.newInputStream(tmp, StandardOpenOption.DELETE_ON_CLOSE), size);
      bytesServed.add(size);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  private void object(Exchange x) throws IOException {
    Path p = image(x);
    String id = x.param("id");
    if (!LazyImages.isObjectId(id)) {
      throw ApiError.badRequest("bad_id", "'" + id + "' is not a Git object id (40 hex digits)");
    }
    byte[] blob =
        LazyImages.readBlob(p, id)
            .orElseThrow(
                () -> ApiError.notFound("image '" + x.param("tag") + "' holds no blob " + id));
    // Blobs leave the PACK inflated (a puller checks them by id); gzip gives back what the PACK's
    // zlib saved, for pullers that ask.
    byte[] body = blob;
    String accept = x.request.getHeaders().get("Accept-Encoding");
    if (accept != null && accept.contains("gzip") && blob.length > 512) {
      java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream(blob.length / 2);
      try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(z)) {
        gz.write(blob);
      }
      if (z.size() < blob.length) {
        body = z.toByteArray();
        x.headers.put("Content-Encoding", "gzip");
      }
    }
    x.headers.put("Vary", "Accept-Encoding");
    x.text(OCTETS, body);
    bytesServed.add(body.length);
  }
}
