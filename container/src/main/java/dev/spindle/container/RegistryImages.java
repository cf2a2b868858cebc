package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.image.trust.ImageSignatures;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Spindle images kept in an OCI registry as artifacts of their own media types, so a registry is a
 * distribution point with no Spindle node in between: an OCI image manifest whose {@code
 * artifactType} is {@value #IMAGE_TYPE}, config the empty descriptor, and as layers the image file
 * ({@value #IMAGE_TYPE}), its metadata image ({@value #METADATA_TYPE}: commit, trees, path index)
 * and, when signed, its signature ({@value #SIGNATURE_TYPE}). Container tools do not mistake it for
 * a runnable image; a pull takes it whole and stores it through {@link ImageStore#importFile},
 * which checks the node's policy against the signature and verifies the image before anything is
 * stored. A lazy pull takes the metadata image and the image file's header and IDX (by Range
 * requests on its blob); file contents come later, each by a Range request on the image blob
 * ({@link RegistryRanges}), checked against its Git id.
 */
public final class RegistryImages {
  static final String IMAGE_TYPE = "application/vnd.spindle.image.v1";
  static final String SIGNATURE_TYPE = "application/vnd.spindle.image.signature.v1";

  /** The image's commit, trees and path index, no blob: what a lazy pull takes now. */
  static final String METADATA_TYPE = "application/vnd.spindle.image.metadata.v1";

  /**
   * The remote file's header and IDX a lazy pull reads by range: bounds what a registry can make it
   * fetch.
   */
  private static final long MAX_IDX = 256L << 20;

  private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
  private static final String EMPTY_TYPE = "application/vnd.oci.empty.v1+json";
  private static final byte[] EMPTY = {'{', '}'};
  private static final int MAX_SIGNATURE = 64 << 10;

  /**
   * What a push sent: the manifest's digest, and bytes of blobs sent (those already there are not).
   */
  public record Pushed(String manifestDigest, long bytesSent, long imageBytes) {}

  private RegistryImages() {}

  /**
   * Pushes the image {@code file} (and its signature, if beside it) as {@code
   * docker://HOST/REPO:TAG}.
   */
  public static Pushed push(Path file, String destination, RegistryOptions o, Progress progress)
      throws IOException {
    RegistryRef ref = RegistryRef.parse(destination);
    if (ref.digest() != null) {
      throw new IllegalArgumentException(
          destination + ": push to a tag, not a digest (the digest is the result)");
    }
    Path sig = ImageSignatures.signatureOf(file);
    RegistryCredentials creds =
        RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
    try (RegistryClient client = new RegistryClient(ref, o.insecure(), creds, "pull,push")) {
      long sent = 0;
      long size = Files.size(file);
      String imageDigest = RegistryPull.sha256(file);
      progress.begin("pushing " + file.getFileName(), size);
      try {
        if (!client.hasBlob(imageDigest)) {
          client.putBlob(imageDigest, size, HttpRequest.BodyPublishers.ofFile(file));
          sent += size;
        }
        progress.advance(size);
      } finally {
        progress.end();
      }
      String emptyDigest = RegistryClient.sha256(EMPTY);
      if (!client.hasBlob(emptyDigest)) {
        client.putBlob(emptyDigest, EMPTY.length, HttpRequest.BodyPublishers.ofByteArray(EMPTY));
      }
      ObjectNode m = OciConfig.JSON.createObjectNode();
      m.put("schemaVersion", 2);
      m.put("mediaType", MANIFEST_TYPE);
      m.put("artifactType", IMAGE_TYPE);
      m.set("config", descriptor(EMPTY_TYPE, emptyDigest, EMPTY.length));
      m.withArray("layers")
          .add(
              descriptor(IMAGE_TYPE, imageDigest, size)
                  .set(
                      "annotations",
                      OciConfig.JSON
                          .createObjectNode()
                          .put("org.opencontainers.image.title", file.getFileName().toString())));
      Path meta = Files.createTempFile("spindle-push-", ".img");
      try {
        LazyImages.writeMetadata(file, meta);
        String md = RegistryPull.sha256(meta);
        long ms = Files.size(meta);
        if (!client.hasBlob(md)) {
          client.putBlob(md, ms, HttpRequest.BodyPublishers.ofFile(meta));
          sent += ms;
        }
        m.withArray("layers").add(descriptor(METADATA_TYPE, md, ms));
      } finally {
        Files.deleteIfExists(meta);
      }
      if (Files.isRegularFile(sig)) {
        byte[] s = Files.readAllBytes(sig);
        String d = RegistryClient.sha256(s);
        if (!client.hasBlob(d)) {
          client.putBlob(d, s.length, HttpRequest.BodyPublishers.ofByteArray(s));
          sent += s.length;
        }
        m.withArray("layers").add(descriptor(SIGNATURE_TYPE, d, s.length));
      }
      byte[] manifest = OciConfig.JSON.writeValueAsBytes(m);
      client.putManifest(ref.tag(), MANIFEST_TYPE, manifest);
      return new Pushed(RegistryClient.sha256(manifest), sent, size);
    }
  }

  /**
   * Pulls the Spindle image at {@code source} whole and stores it under {@code tag}: staged (and
   * resumable) like any blob, digest checked, then policy and verification as for an imported file.
   */
  public static VerifyReport pull(
      ImageStore store, Tag tag, String source, RegistryOptions o, Progress progress)
      throws IOException {
    RegistryRef ref = RegistryRef.parse(source);
    RegistryCredentials creds =
        RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
    Path dir = Files.createDirectories(o.staging().resolve("sha256"));
    Path tmp = Files.createTempDirectory(o.staging(), "pull-");
    try (RegistryClient client = new RegistryClient(ref, o.insecure(), creds, "pull")) {
      Artifact a = Artifact.read(client, ref);
      JsonNode image = a.image();
      JsonNode signature = a.signature();
      String d = OciArchive.digest(image, "image");
      long size = image.path("size").asLong(-1);
      if (size < 0) {
        throw new IOException(ref + ": the manifest gives the image no size");
      }
      long free = Files.getFileStore(dir).getUsableSpace();
      if (2 * size > free) { // staged, then copied into the store
        throw new IOException(
            ref
                + ": the image takes "
                + size
                + " bytes, twice that is needed and "
                + dir
                + " has "
                + free
                + " free");
      }
      progress.begin("pulling " + ref, size);
      Path staged;
      try {
        staged = RegistryPull.fetch(client, d, size, dir, progress);
      } finally {
        progress.end();
      }
      Path file = tmp.resolve(tag.value() + ImageStore.SUFFIX);
      Files.move(staged, file);
      if (signature != null) {
        String sd = OciArchive.digest(signature, "signature");
        Files.write(
            ImageSignatures.signatureOf(file),
            client.smallBlob(sd, signature.path("size").asLong(-1), MAX_SIGNATURE));
      }
      return store.importFile(file, tag, progress);
    } finally {
      Trees.delete(tmp);
    }
  }

  /** The layers of a Spindle image artifact (metadata and signature may be missing). */
  private record Artifact(JsonNode image, JsonNode metadata, JsonNode signature) {
    static Artifact read(RegistryClient client, RegistryRef ref) throws IOException {
      RegistryClient.Manifest m = client.manifest(ref.reference());
      JsonNode json = OciArchive.json(m.bytes(), "manifest of " + ref);
      JsonNode image = null;
      JsonNode metadata = null;
      JsonNode signature = null;
      for (JsonNode l : json.path("layers")) {
        String t = l.path("mediaType").asText();
        if (t.equals(IMAGE_TYPE) && image == null) {
          image = l;
        } else if (t.equals(METADATA_TYPE) && metadata == null) {
          metadata = l;
        } else if (t.equals(SIGNATURE_TYPE) && signature == null) {
          signature = l;
        }
      }
      if (!json.path("artifactType").asText().equals(IMAGE_TYPE) || image == null) {
        throw new IOException(
            ref + " is not a Spindle image ('spindle image import' takes container images)");
      }
      return new Artifact(image, metadata, signature);
    }

    Optional<byte[]> signatureBytes(RegistryClient client) throws IOException {
      if (signature == null) {
        return Optional.empty();
      }
      return Optional.of(
          client.smallBlob(
              OciArchive.digest(signature, "signature"),
              signature.path("size").asLong(-1),
              MAX_SIGNATURE));
    }
  }

  /**
   * Pulls the Spindle image at {@code source} lazily into {@code home} under {@code tag}: its
   * metadata image (staged, digest checked) and signature now, the header and IDX of the image file
   * by Range requests; file contents on first read. A registry ignoring Range is refused here,
   * before anything is stored.
   */
  public static VerifyReport pullLazy(
      SpindleHome home, Tag tag, String source, RegistryOptions o, Progress progress)
      throws IOException {
    RegistryRef ref = RegistryRef.parse(source);
    RegistryCredentials creds =
        RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
    Path dir = Files.createDirectories(o.staging().resolve("sha256"));
    try (RegistryClient client = new RegistryClient(ref, o.insecure(), creds, "pull")) {
      Artifact a = Artifact.read(client, ref);
      if (a.metadata() == null) {
        throw new IOException(
            ref
                + " was pushed without a metadata image, which lazy pulls need: push it again"
                + " with this Spindle, or pull it whole");
      }
      String d = OciArchive.digest(a.image(), "image");
      long size = a.image().path("size").asLong(-1);
      if (size < ImageHeader.SIZE) {
        throw new IOException(
            ref + ": the manifest gives the image " + size + " bytes, less than its header");
      }
      byte[] h = client.range(d, 0, ImageHeader.SIZE);
      ImageHeader header = ImageHeader.decode(ref + " image " + d, h, size);
      if (header.idxLength() > MAX_IDX) {
        throw new IOException(
            ref + ": the image's IDX is " + header.idxLength() + " bytes, more than " + MAX_IDX);
      }
      byte[] idx = client.range(d, header.idxOffset(), (int) header.idxLength());
      byte[] headerAndIdx = new byte[h.length + idx.length];
      System.arraycopy(h, 0, headerAndIdx, 0, h.length);
      System.arraycopy(idx, 0, headerAndIdx, h.length, idx.length);
      String md = OciArchive.digest(a.metadata(), "metadata image");
      long ms = a.metadata().path("size").asLong(-1);
      if (ms < 0) {
        throw new IOException(ref + ": the manifest gives the metadata image no size");
      }
      progress.begin("pulling " + ref + " (metadata)", ms);
      Path meta;
      try {
        meta = RegistryPull.fetch(client, md, ms, dir, progress);
      } finally {
        progress.end();
      }
      try {
        return LazyImages.pullLazyByRanges(
            home,
            tag,
            meta,
            a.signatureBytes(client),
            URI.create(RegistryRanges.source(ref, d, o.insecure())),
            o.creds() == null ? "" : o.creds(),
            headerAndIdx,
            size,
            ref.toString(),
            "sign it with a key this node trusts before 'image push', then pull again",
            progress);
      } finally {
        Files.deleteIfExists(meta);
      }
    }
  }

  private static ObjectNode descriptor(String mediaType, String digest, long size) {
    return OciConfig.JSON
        .createObjectNode()
        .put("mediaType", mediaType)
        .put("digest", digest)
        .put("size", size);
  }
}
