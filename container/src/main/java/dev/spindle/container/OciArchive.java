package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A container image as it arrives: {@code oci-layout:DIR} (an OCI image layout: oci-layout,
 * index.json, blobs/sha256/...) or {@code docker-archive:FILE.tar} (what {@code docker save}
 * writes: manifest.json, the config, layer tars). Reading gives the config's bytes and the layers
 * in order; every blob named by a digest is checked against it.
 */
final class OciArchive {
  private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final String INDEX_TYPE = "application/vnd.oci.image.index.v1+json";
  private static final String DOCKER_LIST_TYPE =
      "application/vnd.docker.distribution.manifest.list.v2+json";

  /** One layer: a name for messages, where its bytes are, the digest they must have (or null). */
  record Layer(String name, Path file, String digest) {
    /** The layer's bytes; at end of stream, throws if they do not match the digest. */
    InputStream open() throws IOException {
      InputStream in = Files.newInputStream(file);
      return digest == null ? in : new VerifyingStream(in, digest, name);
    }
  }

  /** The parts of an image: its config (verbatim) and layers, lowest first. */
  record Parts(byte[] config, List<Layer> layers) {}

  private OciArchive() {}

  /**
   * Reads {@code source}. A docker archive is unpacked into {@code scratch} first (its entries are
   * plain files; a tar has no random access).
   */
  static Parts read(String source, Path scratch) throws IOException {
    if (source.startsWith("oci-layout:")) {
      return readLayout(Path.of(source.substring("oci-layout:".length())));
    }
    if (source.startsWith("docker-archive:")) {
      Path tar = Path.of(source.substring("docker-archive:".length()));
      Path dir = Files.createDirectories(scratch.resolve("archive"));
      unpackPlain(tar, dir);
      return readDockerDir(dir, tar.toString());
    }
    throw new IllegalArgumentException(
        "image source must be oci-layout:DIR or docker-archive:FILE.tar, got: " + source);
  }

  private static Parts readLayout(Path dir) throws IOException {
    if (!Files.isRegularFile(dir.resolve("oci-layout"))) {
      throw new NoSuchFileException(
          dir.resolve("oci-layout").toString(), null, "not an OCI image layout");
    }
    JsonNode layoutVersion =
        json(Files.readAllBytes(dir.resolve("oci-layout")), "oci-layout")
            .path("imageLayoutVersion");
    if (!layoutVersion.asText().startsWith("1.")) {
      throw new IOException(dir + ": unsupported imageLayoutVersion " + layoutVersion);
    }
    JsonNode index = json(Files.readAllBytes(dir.resolve("index.json")), dir + "/index.json");
    JsonNode desc = pickManifest(index, dir + "/index.json", Platform.DEFAULT);
    JsonNode manifest = json(blob(dir, desc), "manifest " + desc.path("digest").asText());
    while (isIndex(desc, manifest)) { // an index of manifests (multi-platform): pick one
      desc = pickManifest(manifest, "index " + desc.path("digest").asText(), Platform.DEFAULT);
      manifest = json(blob(dir, desc), "manifest " + desc.path("digest").asText());
    }
    byte[] config = blob(dir, manifest.path("config"));
    List<Layer> layers = new ArrayList<>();
    for (JsonNode l : manifest.path("layers")) {
      String digest = digest(l, "layer");
      layers.add(new Layer(digest, blobPath(dir, digest), digest));
    }
    return new Parts(config, layers);
  }

  static boolean isIndex(JsonNode desc, JsonNode manifest) {
    String t = manifest.path("mediaType").asText(desc.path("mediaType").asText());
    return t.equals(INDEX_TYPE)
        || t.equals(DOCKER_LIST_TYPE)
        || (manifest.has("manifests") && !manifest.has("layers"));
  }

  /**
   * The manifest for {@code platform} of several, or the only one when it names no platform (a
   * single-image layout). An index of one other platform's image is refused, not run wrongly.
   */
  static JsonNode pickManifest(JsonNode index, String where, Platform platform) throws IOException {
    JsonNode ms = index.path("manifests");
    if (ms.size() == 1 && !ms.get(0).has("platform")) {
      return ms.get(0);
    }
    for (JsonNode m : ms) {
      if (platform.matches(m.path("platform"))) {
        return m;
      }
    }
    throw new IOException(where + ": " + ms.size() + " manifests and none for " + platform);
  }

  private static Parts readDockerDir(Path dir, String where) throws IOException {
    JsonNode all =
        json(Files.readAllBytes(dir.resolve("manifest.json")), where + ": manifest.json");
    if (all.size() != 1) {
      throw new IOException(
          where + ": holds " + all.size() + " images; import one at a time (docker save IMAGE)");
    }
    JsonNode m = all.get(0);
    String configName = m.path("Config").asText();
    byte[] config = Files.readAllBytes(inside(dir, configName, where));
    checkNamedDigest(configName, config, where);
    List<Layer> layers = new ArrayList<>();
    for (JsonNode l : m.path("Layers")) {
      String name = l.asText();
      layers.add(new Layer(name, inside(dir, name, where), digestFromName(name)));
    }
    return new Parts(config, layers);
  }

  /**
   * Newer docker saves blobs as blobs/sha256/HEX, older ones the config as HEX.json: both say the
   * hash.
   */
  private static String digestFromName(String name) {
    String hex = name.replaceFirst("^blobs/sha256/", "").replaceFirst("\\.json$", "");
    return hex.matches("[0-9a-f]{64}") ? "sha256:" + hex : null;
  }

  private static void checkNamedDigest(String name, byte[] bytes, String where) throws IOException {
    String d = digestFromName(name);
    if (d != null) {
      check(bytes, d, where + ": " + name);
    }
  }

  private static Path inside(Path dir, String name, String where) throws IOException {
    Path p = dir.resolve(name).normalize();
    if (!p.startsWith(dir) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          where + ": manifest names " + name + ", which is not a file of the archive");
    }
    return p;
  }

  static String digest(JsonNode desc, String what) throws IOException {
    String d = desc.path("digest").asText();
    if (!SHA256.matcher(d).matches()) {
      throw new IOException(what + " digest must be sha256:<64 hex>, got: '" + d + "'");
    }
    return d;
  }

  private static Path blobPath(Path layout, String digest) throws IOException {
    Path p = layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    if (!Files.isRegularFile(p)) {
      throw new NoSuchFileException(
          p.toString(), null, "blob " + digest + " missing from the layout");
    }
    return p;
  }

  /** A small blob (manifest, config), read whole and checked against its digest. */
  private static byte[] blob(Path layout, JsonNode desc) throws IOException {
    String d = digest(desc, "manifest or config");
    byte[] b = Files.readAllBytes(blobPath(layout, d));
    check(b, d, "blob " + d);
    return b;
  }

  static void check(byte[] bytes, String digest, String what) throws IOException {
    String actual = "sha256:" + Hashes.sha256Hex(bytes);
    if (!actual.equals(digest)) {
      throw new IOException(what + " is damaged: its sha256 is " + actual + ", expected " + digest);
    }
  }

  static JsonNode json(byte[] bytes, String what) throws IOException {
    try {
      return OciConfig.JSON.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      // Where, not what: Jackson's message quotes the input, which may come from a registry.
      var at = e.getLocation();
      throw new IOException(
          what
              + " is not valid JSON"
              + (at == null
                  ? ""
                  : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"),
          e);
    }
  }

  /** Unpacks the outer tar of a docker archive: plain files and directories only. */
  private static void unpackPlain(Path tar, Path dir) throws IOException {
    try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        Path p = dir.resolve(e.getName()).normalize();
        if (!p.startsWith(dir)) {
          throw new IOException(tar + ": entry climbs out of the archive: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(p);
        } else if (e.isFile()) {
          Files.createDirectories(p.getParent());
          Files.copy(in, p);
        } // symlinks in docker's own layout (old format) point at files already present: skipped
      }
    } catch (IllegalArgumentException malformed) {
      throw new IOException(tar + " is not a valid tar: " + malformed.getMessage(), malformed);
    }
  }

  /** Passes bytes through; at their end, checks they hash to the expected digest. */
  private static final class VerifyingStream extends DigestInputStream {
    private final String expected;
    private final String name;
    private boolean checked;

    VerifyingStream(InputStream in, String expected, String name) {
      super(in, Hashes.sha256());
      this.expected = expected;
      this.name = name;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b < 0) {
        verify();
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n < 0) {
        verify();
      }
      return n;
    }

    private void verify() throws IOException {
      if (checked) {
        return;
      }
      checked = true;
      String actual = "sha256:" + HexFormat.of().formatHex(getMessageDigest().digest());
      if (!actual.equals(expected)) {
        throw new IOException(
            "layer " + name + " is damaged: its sha256 is " + actual + ", expected " + expected);
      }
    }
  }
}
