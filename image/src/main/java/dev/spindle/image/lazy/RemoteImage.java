package dev.spindle.image.lazy;

import dev.spindle.store.AtomicFiles;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The marker beside a lazily pulled image ({@code <tag>.img.remote}): the node its blobs come from,
 * the tag there, the node's bearer token and the object cache its blobs land in. Its presence is
 * what makes an image lazy; it is written 0600 (a temp file's mode) because it holds the token.
 */
public record RemoteImage(URI node, String tag, String token, Path cache) {
  public static Path marker(Path image) {
    return image.resolveSibling(image.getFileName() + ".remote");
  }

  public static boolean isLazy(Path image) {
    return Files.exists(marker(image));
  }

  static RemoteImage read(Path image) throws IOException {
    Path m = marker(image);
    Properties p = new Properties();
    p.load(new StringReader(Files.readString(m, StandardCharsets.UTF_8)));
    String node = p.getProperty("node");
    String tag = p.getProperty("tag");
    if (node == null || tag == null) {
      throw new IOException(m + ": damaged remote marker (needs node and tag)");
    }
    String cache = p.getProperty("cache");
    if (cache == null) {
      throw new IOException(m + ": damaged remote marker (needs the object cache)");
    }
    return new RemoteImage(URI.create(node), tag, p.getProperty("token", ""), Path.of(cache));
  }

  void write(Path image) throws IOException {
    Properties p = new Properties();
    p.setProperty("node", node.toString());
    p.setProperty("tag", tag);
    p.setProperty("token", token);
    p.setProperty("cache", cache.toAbsolutePath().toString());
    StringWriter w = new StringWriter();
    p.store(w, "lazily pulled image: blobs are fetched from this node");
    AtomicFiles.write(marker(image), w.toString().getBytes(StandardCharsets.UTF_8));
  }
}
