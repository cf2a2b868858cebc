package dev.spindle.container;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.store.Hashes;
import io.airlift.compress.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Container images written by tests: layer tars, an OCI layout, a docker-save archive. */
final class OciFixture {
  private OciFixture() {}

  /** Builds one layer tar in memory. */
  static final class Layer {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes);

    Layer() {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    Layer dir(String name) throws IOException {
      TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
      e.setMode(040755);
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
      return this;
    }

    Layer file(String name, String content) throws IOException {
      return file(name, content.getBytes(StandardCharsets.UTF_8), 0644);
    }

    Layer file(String name, byte[] content, int mode) throws IOException {
      TarArchiveEntry e = new TarArchiveEntry(name);
      e.setMode(0100000 | mode);
      e.setSize(content.length);
      tar.putArchiveEntry(e);
      tar.write(content);
      tar.closeArchiveEntry();
      return this;
    }

    Layer symlink(String name, String target) throws IOException {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
      e.setLinkName(target);
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
      return this;
    }

    Layer hardlink(String name, String target) throws IOException {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
      e.setLinkName(target);
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
      return this;
    }

    Layer fifo(String name) throws IOException {
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_FIFO);
      tar.putArchiveEntry(e);
      tar.closeArchiveEntry();
      return this;
    }

    /** The uncompressed tar. */
    byte[] tar() throws IOException {
      tar.finish();
      return bytes.toByteArray();
    }
  }

  static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(b);
    }
    return out.toByteArray();
  }

  static byte[] zstd(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZstdOutputStream z = new ZstdOutputStream(out)) {
      z.write(b);
    }
    return out.toByteArray();
  }

  static String digest(byte[] b) {
    return "sha256:" + Hashes.sha256Hex(b);
  }

  /** An image config: entrypoint, cmd, env, working dir, user, and the layers' diff ids. */
  static byte[] config(
      List<String> entrypoint,
      List<String> cmd,
      List<String> env,
      String workdir,
      String user,
      List<byte[]> uncompressedLayers)
      throws IOException {
    ObjectNode c = OciConfig.JSON.createObjectNode();
    c.put("created", "2025-05-06T07:08:09Z");
    c.put("architecture", "amd64");
    c.put("os", "linux");
    ObjectNode cfg = c.putObject("config");
    entrypoint.forEach(cfg.putArray("Entrypoint")::add);
    cmd.forEach(cfg.putArray("Cmd")::add);
    env.forEach(cfg.putArray("Env")::add);
    cfg.put("WorkingDir", workdir);
    cfg.put("User", user);
    ObjectNode rootfs = c.putObject("rootfs").put("type", "layers");
    for (byte[] l : uncompressedLayers) {
      rootfs.withArray("diff_ids").add(digest(l));
    }
    return OciConfig.JSON.writeValueAsBytes(c);
  }

  /** Writes an OCI image layout with these blobs as layers (as given: plain or gzip). */
  static Path ociLayout(Path dir, byte[] config, List<byte[]> layerBlobs) throws IOException {
    Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
    Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    ObjectNode m = OciConfig.JSON.createObjectNode();
    m.put("schemaVersion", 2);
    m.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
    m.set("config", descriptor(blobs, "application/vnd.oci.image.config.v1+json", config));
    for (byte[] l : layerBlobs) {
      m.withArray("layers").add(descriptor(blobs, layerType(l), l));
    }
    byte[] manifest = OciConfig.JSON.writeValueAsBytes(m);
    ObjectNode index = OciConfig.JSON.createObjectNode();
    index.put("schemaVersion", 2);
    index
        .withArray("manifests")
        .add(descriptor(blobs, "application/vnd.oci.image.manifest.v1+json", manifest));
    Files.write(dir.resolve("index.json"), OciConfig.JSON.writeValueAsBytes(index));
    return dir;
  }

  /** The media type for a layer blob, by its magic number, as a registry client would label it. */
  static String layerType(byte[] l) {
    boolean gz = (l[0] & 0xff) == 0x1f;
    boolean zst = (l[0] & 0xff) == 0x28 && (l[1] & 0xff) == 0xb5;
    return "application/vnd.oci.image.layer.v1.tar" + (gz ? "+gzip" : zst ? "+zstd" : "");
  }

  static ObjectNode descriptor(Path blobs, String mediaType, byte[] blob) throws IOException {
    String d = digest(blob);
    Files.write(blobs.resolve(d.substring(7)), blob);
    ObjectNode n = OciConfig.JSON.createObjectNode();
    n.put("mediaType", mediaType).put("digest", d).put("size", blob.length);
    return n;
  }

  /** Writes what {@code docker save} writes (the classic layout: HEX.json, ID/layer.tar). */
  static Path dockerArchive(Path file, byte[] config, List<byte[]> layers) throws IOException {
    String configName = digest(config).substring(7) + ".json";
    ObjectNode m = OciConfig.JSON.createObjectNode();
    m.put("Config", configName);
    m.putArray("RepoTags").add("test:latest");
    Layer outer = new Layer();
    outer.file(configName, config, 0644);
    for (int i = 0; i < layers.size(); i++) {
      String name = "layer" + i + "/layer.tar";
      m.withArray("Layers").add(name);
      outer.dir("layer" + i).file(name, layers.get(i), 0644);
    }
    outer.file("manifest.json", OciConfig.JSON.writeValueAsBytes(List.of(m)), 0644);
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(outer.tar());
    }
    return file;
  }
}
