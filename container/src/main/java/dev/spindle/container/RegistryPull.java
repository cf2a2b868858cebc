package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spindle.image.Progress;
import dev.spindle.store.Hashes;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pulls an image's parts from a registry: the manifest (through an index to the platform's), the
 * config and the layer blobs, each checked against its digest. Layers are staged as files ({@code
 * STAGING/sha256/HEX}, while arriving {@code HEX.part}): a broken connection is resumed with a
 * Range request, a few times in the same run, and from where it stopped by a later run. The staged
 * files then take the path of any OCI layout's layers ({@link OciArchive.Parts}), so layers are
 * applied by the one {@link LayerApplier}.
 */
final class RegistryPull {
  private static final int MAX_CONFIG = 16 << 20;

  /** Tries in a row that bring no byte before a broken blob download is given up. */
  private static final int TRIES = 4;

  private static final Set<String> MANIFEST =
      Set.of(
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.v2+json");
  private static final Set<String> LAYER =
      Set.of(
          "application/vnd.oci.image.layer.v1.tar",
          "application/vnd.oci.image.layer.v1.tar+gzip",
          "application/vnd.oci.image.layer.v1.tar+zstd",
          "application/vnd.docker.image.rootfs.diff.tar.gzip",
          "application/vnd.docker.image.rootfs.diff.tar");

  /** What a pull gave: the parts to apply; the staged blobs go once the image is made. */
  record Pulled(OciArchive.Parts parts, String manifestDigest, List<Path> staged) {
    void discard() throws IOException {
      for (Path p : staged) {
        Files.deleteIfExists(p);
      }
    }
  }

  private RegistryPull() {}

  static Pulled pull(RegistryRef ref, RegistryOptions o, Progress progress) throws IOException {
    Platform platform = o.platform() == null ? Platform.DEFAULT : Platform.parse(o.platform());
    RegistryCredentials creds =
        RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
    try (RegistryClient client = new RegistryClient(ref, o.insecure(), creds, "pull")) {
      RegistryClient.Manifest m = client.manifest(ref.reference());
      JsonNode json = OciArchive.json(m.bytes(), "manifest of " + ref);
      JsonNode desc = json; // an index names no media type for itself in some registries
      if (OciArchive.isIndex(desc, json)) {
        desc = OciArchive.pickManifest(json, ref.toString(), platform);
        String d = OciArchive.digest(desc, "manifest");
        m = client.manifest(d);
        json = OciArchive.json(m.bytes(), "manifest " + d);
        if (OciArchive.isIndex(desc, json)) {
          throw new IOException("manifest " + d + " of " + ref + " is an index inside an index");
        }
      }
      String type = json.path("mediaType").asText(m.mediaType());
      if (!MANIFEST.contains(type) || json.path("schemaVersion").asInt() != 2) {
        throw new IOException(
            "manifest "
                + m.digest()
                + " of "
                + ref
                + " is not an image manifest"
                + " (OCI, or Docker schema 2) of a media type Spindle reads");
      }
      JsonNode cd = json.path("config");
      String configDigest = OciArchive.digest(cd, "config");
      byte[] config = client.smallBlob(configDigest, cd.path("size").asLong(-1), MAX_CONFIG);
      checkPlatform(OciArchive.json(config, "image config " + configDigest), platform, ref);
      List<JsonNode> layers = new ArrayList<>();
      json.path("layers").forEach(layers::add);
      long total = 0;
      for (JsonNode l : layers) {
        String d = OciArchive.digest(l, "layer");
        if (!LAYER.contains(l.path("mediaType").asText())) {
          throw new IOException(
              "layer "
                  + d
                  + " of "
                  + ref
                  + " is of a media type Spindle cannot apply"
                  + " (tar, tar+gzip, tar+zstd; foreign layers are not fetched)");
        }
        long size = l.path("size").asLong(-1);
        if (size < 0) {
          throw new IOException("layer " + d + " of " + ref + ": the manifest gives it no size");
        }
        total += size;
      }
      Path dir = Files.createDirectories(o.staging().resolve("sha256"));
      long free = Files.getFileStore(dir).getUsableSpace();
      if (total > free) {
        throw new IOException(
            ref + ": its layers take " + total + " bytes, " + dir + " has " + free + " free");
      }
      List<OciArchive.Layer> parts = new ArrayList<>();
      List<Path> staged = new ArrayList<>();
      progress.begin("pulling " + ref, total);
      try {
        for (JsonNode l : layers) {
          String d = l.path("digest").asText();
          Path p = fetch(client, d, l.path("size").asLong(), dir, progress);
          staged.add(p);
          parts.add(new OciArchive.Layer(d, p, d));
        }
      } finally {
        progress.end();
      }
      return new Pulled(new OciArchive.Parts(config, parts), m.digest(), staged);
    }
  }

  /** A single-platform image for another platform would import, then fail to run: said now. */
  private static void checkPlatform(JsonNode config, Platform platform, RegistryRef ref)
      throws IOException {
    boolean other =
        config.has("os")
            && config.has("architecture")
            && (!config.path("os").asText().equals(platform.os())
                || !config.path("architecture").asText().equals(platform.architecture())
                || (platform.variant() != null
                    && config.has("variant")
                    && !config.path("variant").asText().equals(platform.variant())));
    if (other) {
      throw new IOException(
          ref
              + " is an image for another platform than "
              + platform
              + " (--platform OS/ARCH chooses)");
    }
  }

  /**
   * Fetches blob {@code digest} of {@code size} bytes into {@code dir}; returns the complete,
   * checked file. Bytes an earlier try left ({@code HEX.part}) are hashed again and continued with
   * a Range request; a registry that ignores the range is read from the start.
   */
  static Path fetch(RegistryClient client, String digest, long size, Path dir, Progress progress)
      throws IOException {
    String hex = digest.substring("sha256:".length());
    Path done = dir.resolve(hex);
    Path part = dir.resolve(hex + ".part");
    try (FileChannel ch =
            FileChannel.open(
                part,
                StandardOpenOption.CREATE,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock = ch.tryLock()) {
      if (lock == null) {
        throw new IOException(
            "blob " + digest + " is being fetched by another process into " + dir);
      }
      if (Files.isRegularFile(done)) {
        if (Files.size(done) == size && sha256(done).equals(digest)) {
          Files.delete(part);
          progress.advance(size);
          return done;
        }
        Files.delete(done);
      }
      MessageDigest md = Hashes.sha256();
      long have = ch.size();
      if (have > size) {
        ch.truncate(0);
        have = 0;
      }
      hashPrefix(ch, have, md);
      progress.advance(have);
      int fruitless = 0;
      while (have < size) {
        Map<String, String> range = have > 0 ? Map.of("Range", "bytes=" + have + "-") : Map.of();
        long before = have;
        HttpResponse<InputStream> r;
        try {
          r = client.get("blobs/" + digest, range);
        } catch (InterruptedIOException e) {
          throw e;
        } catch (
            IOException
                unreachable) { // a connection refused or reset before an answer: one more try
          fruitless = giveUpAfter(fruitless + 1, digest, have, size, dir, unreachable);
          continue;
        }
        try (InputStream in = r.body()) {
          int s = r.statusCode();
          if (s == 200 && have > 0) { // the range was ignored: the whole blob comes
            progress.advance(-have);
            ch.truncate(0);
            md.reset();
            have = 0;
            before = 0;
          } else if (s == 206) {
            String cr = r.headers().firstValue("Content-Range").orElse("");
            if (!cr.startsWith("bytes " + have + "-")) {
              throw new IOException(
                  "blob " + digest + ": the registry answered a range request with another range");
            }
          } else if (s != 200) {
            throw client.failure("blob " + digest, s);
          }
          ch.position(have);
          have = copy(in, ch, md, have, size, digest, progress);
        }
        if (have < size) {
          fruitless = giveUpAfter(have > before ? 1 : fruitless + 1, digest, have, size, dir, null);
        }
      }
      ch.force(true);
      String actual = "sha256:" + HexFormat.of().formatHex(md.digest());
      if (!actual.equals(digest)) {
        Files.delete(part); // not resumable: which bytes are wrong is unknown
        throw new IOException("blob " + digest + " is damaged: its sha256 is " + actual);
      }
      Files.move(part, done, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return done;
    }
  }

  /**
   * After {@code fruitless} tries in a row that brought nothing, waits a little longer each time (a
   * registry restarting, a flaky link), or gives up at {@value #TRIES}, saying what is kept.
   */
  private static int giveUpAfter(
      int fruitless, String digest, long have, long size, Path dir, IOException cause)
      throws IOException {
    if (fruitless >= TRIES) {
      throw new IOException(
          "blob "
              + digest
              + ": the connection broke "
              + TRIES
              + " times in a row; "
              + have
              + " of "
              + size
              + " bytes are staged in "
              + dir
              + ", and the same import resumes there",
          cause);
    }
    try {
      Thread.sleep(250L * (fruitless - 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted fetching blob " + digest);
    }
    return fruitless;
  }

  /**
   * Copies the body into the file until it ends or breaks; returns how many bytes the file has. A
   * body longer than the manifest's size is refused: the size bounds what a registry can write.
   */
  private static long copy(
      InputStream in,
      FileChannel ch,
      MessageDigest md,
      long have,
      long size,
      String digest,
      Progress progress)
      throws IOException {
    byte[] buf = new byte[1 << 16];
    while (true) {
      int n;
      try {
        n = in.read(buf);
      } catch (IOException broken) {
        return have; // resumed by the caller from here
      }
      if (n < 0) {
        return have;
      }
      if (have + n > size) {
        throw new IOException(
            "blob "
                + digest
                + ": the registry sent more than the "
                + size
                + " bytes the manifest gives it");
      }
      ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      md.update(buf, 0, n);
      have += n;
      progress.advance(n);
    }
  }

  private static void hashPrefix(FileChannel ch, long length, MessageDigest md) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(1 << 16);
    for (long pos = 0; pos < length; ) {
      b.clear().limit((int) Math.min(b.capacity(), length - pos));
      int n = ch.read(b, pos);
      if (n < 0) {
        break;
      }
      md.update(b.array(), 0, n);
      pos += n;
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md = Hashes.sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return "sha256:" + HexFormat.of().formatHex(md.digest());
  }
}
