package dev.spindle.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.image.ImageSignatures;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Spindle images kept in an OCI registry as artifacts of their own media types, so a registry is
 * a distribution point with no Spindle node in between: an OCI image manifest whose {@code
 * artifactType} is {@value #IMAGE_TYPE}, config the empty descriptor, and as layers the image
 * file ({@value #IMAGE_TYPE}) and, when signed, its signature ({@value #SIGNATURE_TYPE}). Container
 * tools do not mistake it for a runnable image; a pull takes it whole and stores it through
 * {@link ImageStore#importFile}, which checks the node's policy against the signature and
 * verifies the image before anything is stored.
 */
public final class RegistryImages {
  static final String IMAGE_TYPE = "application/vnd.spindle.image.v1";
  static final String SIGNATURE_TYPE = "application/vnd.spindle.image.signature.v1";
  private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
  private static final String EMPTY_TYPE = "application/vnd.oci.empty.v1+json";
  private static final byte[] EMPTY = {'{', '}'};
  private static final int MAX_SIGNATURE = 64 << 10;

  /** What a push sent: the manifest's digest, and bytes of blobs sent (those already there are not). */
  public record Pushed(String manifestDigest, long bytesSent, long imageBytes) {}

  private RegistryImages() {}

  /** Pushes the image {@code file} (and its signature, if beside it) as {@code docker://HOST/REPO:TAG}. */
  public static Pushed push(Path file, String destination, RegistryOptions o, Progress progress) throws IOException {
    RegistryRef ref = RegistryRef.parse(destination);
    if (ref.digest() != null) {
      throw new IllegalArgumentException(destination + ": push to a tag, not a digest (the digest is the result)");
    }
    Path sig = ImageSignatures.signatureOf(file);
    RegistryCredentials creds = RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
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
      m.withArray("layers").add(descriptor(IMAGE_TYPE, imageDigest, size)
          .set("annotations", OciConfig.JSON.createObjectNode()
              .put("org.opencontainers.image.title", file.getFileName().toString())));
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
  public static VerifyReport pull(ImageStore store, Tag tag, String source, RegistryOptions o, Progress progress)
      throws IOException {
    RegistryRef ref = RegistryRef.parse(source);
    RegistryCredentials creds = RegistryCredentials.resolve(o.creds(), o.dockerConfig(), ref.host());
    Path dir = Files.createDirectories(o.staging().resolve("sha256"));
    Path tmp = Files.createTempDirectory(o.staging(), "pull-");
    try (RegistryClient client = new RegistryClient(ref, o.insecure(), creds, "pull")) {
      RegistryClient.Manifest m = client.manifest(ref.reference());
      JsonNode json = OciArchive.json(m.bytes(), "manifest of " + ref);
      JsonNode image = null;
      JsonNode signature = null;
      for (JsonNode l : json.path("layers")) {
        String t = l.path("mediaType").asText();
        if (t.equals(IMAGE_TYPE) && image == null) {
          image = l;
        } else if (t.equals(SIGNATURE_TYPE) && signature == null) {
          signature = l;
        }
      }
      if (!json.path("artifactType").asText().equals(IMAGE_TYPE) || image == null) {
        throw new IOException(ref + " is not a Spindle image ('spindle image import' takes container images)");
      }
      String d = OciArchive.digest(image, "image");
      long size = image.path("size").asLong(-1);
      if (size < 0) {
        throw new IOException(ref + ": the manifest gives the image no size");
      }
      long free = Files.getFileStore(dir).getUsableSpace();
      if (2 * size > free) { // staged, then copied into the store
        throw new IOException(ref + ": the image takes " + size + " bytes, twice that is needed and " + dir
            + " has " + free + " free");
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
        Files.write(ImageSignatures.signatureOf(file),
            client.smallBlob(sd, signature.path("size").asLong(-1), MAX_SIGNATURE));
      }
      return store.importFile(file, tag, progress);
    } finally {
      Trees.delete(tmp);
    }
  }

  private static ObjectNode descriptor(String mediaType, String digest, long size) {
    return OciConfig.JSON.createObjectNode().put("mediaType", mediaType).put("digest", digest).put("size", size);
  }
}
