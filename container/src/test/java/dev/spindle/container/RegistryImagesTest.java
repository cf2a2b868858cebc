package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spindle.image.ImageSignatures;
import dev.spindle.image.ImageStore;
import dev.spindle.image.MakeOptions;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spindle images through a real registry ({@link TestRegistry}) as OCI artifacts: pushed, read
 * back by skopeo as the registry holds them, pulled whole into another home byte for byte with
 * their signature; a tampered blob or a container image under the name is refused, nothing stored.
 */
class RegistryImagesTest {
  private static final String CREDS = TestRegistry.USER + ":" + TestRegistry.PASSWORD;
  @TempDir static Path shared;
  static TestRegistry registry;

  @TempDir Path tmp;

  @BeforeAll
  static void startRegistry() throws Exception {
    TestRegistry.assumeInstalled();
    registry = TestRegistry.start(shared.resolve("registry"));
  }

  @AfterAll
  static void stopRegistry() throws InterruptedException {
    if (registry != null) {
      registry.close();
    }
  }

  private ImageStore store(String name) {
    return new ImageStore(new SpindleHome(tmp.resolve(name)));
  }

  private RegistryOptions options(String home) {
    return new RegistryOptions(CREDS, null, null, true, RegistryOptions.stagingIn(tmp.resolve(home)));
  }

  /** A signed image of a few files, its content unique to {@code seed} (the registry shares blobs). */
  private Path signedImage(ImageStore store, String seed) throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src-" + seed).resolve("etc"));
    Files.writeString(src.resolve("motd"), "hello " + seed + "\n");
    Files.writeString(src.resolve("big"), ("line of " + seed + "\n").repeat(20_000));
    store.make(src.getParent().toString(), Tag.of("app"), MakeOptions.defaults(), Progress.NONE);
    Path key = tmp.resolve("key-" + seed);
    ImageSignatures.newKey(key);
    ImageSignatures.sign(store.path(Tag.of("app")), key);
    return store.path(Tag.of("app"));
  }

  @Test
  void anImagePushedIsPulledWholeWithItsSignature() throws Exception {
    ImageStore a = store("a");
    Path image = signedImage(a, "round-trip");
    RegistryImages.Pushed p = RegistryImages.push(image, registry.ref("spindle/app:v1"), options("a"), Progress.NONE);
    assertThat(p.bytesSent()).isGreaterThan(Files.size(image));

    // What the registry holds, read by skopeo: an artifact of Spindle's types, not a container image.
    JsonNode m = OciConfig.JSON.readTree(TestRegistry.run(List.of("skopeo", "inspect", "--raw",
        "--tls-verify=false", "--creds", CREDS, registry.ref("spindle/app:v1"))));
    assertThat(m.path("artifactType").asText()).isEqualTo(RegistryImages.IMAGE_TYPE);
    assertThat(m.path("layers").findValuesAsText("mediaType"))
        .containsExactly(RegistryImages.IMAGE_TYPE, RegistryImages.SIGNATURE_TYPE);
    assertThat(registry.digest("spindle/app:v1")).isEqualTo(p.manifestDigest());

    ImageStore b = store("b");
    VerifyReport r = RegistryImages.pull(b, Tag.of("copy"), registry.ref("spindle/app:v1"), options("b"), Progress.NONE);
    assertThat(r.ok()).as(r.problems().toString()).isTrue();
    assertThat(Files.readAllBytes(b.path(Tag.of("copy")))).isEqualTo(Files.readAllBytes(image));
    assertThat(Files.readAllBytes(ImageSignatures.signatureOf(b.path(Tag.of("copy")))))
        .isEqualTo(Files.readAllBytes(ImageSignatures.signatureOf(image)));
    try (var s = Files.list(RegistryOptions.stagingIn(tmp.resolve("b")))) {
      assertThat(s.filter(q -> !q.getFileName().toString().equals("sha256")).toList()).as("no scratch left").isEmpty();
    }

    RegistryImages.Pushed again = RegistryImages.push(image, registry.ref("spindle/app:v2"), options("a"), Progress.NONE);
    assertThat(again.bytesSent()).as("blobs the registry holds are not sent").isZero();
    assertThat(again.manifestDigest()).isEqualTo(p.manifestDigest());
  }

  @Test
  void aTamperedImageBlobIsRefusedAndNothingIsStored() throws Exception {
    ImageStore a = store("a");
    Path image = signedImage(a, "tampered");
    RegistryImages.push(image, registry.ref("spindle/tampered:v1"), options("a"), Progress.NONE);
    String digest = RegistryPull.sha256(image);
    Path data = registry.blobData(digest);
    byte[] b = Files.readAllBytes(data);
    b[b.length / 2] ^= 1;
    Files.write(data, b);
    ImageStore c = store("c");
    assertThatThrownBy(() -> RegistryImages.pull(c, Tag.of("t"), registry.ref("spindle/tampered:v1"), options("c"),
        Progress.NONE)).hasMessageStartingWith("blob " + digest + " is damaged");
    assertThat(c.exists(Tag.of("t"))).isFalse();
  }

  @Test
  void aContainerImageIsNotTakenForASpindleImage() throws Exception {
    byte[] layer = new OciFixture.Layer().file("x", "x").tar();
    Path layout = OciFixture.ociLayout(tmp.resolve("layout"),
        OciFixture.config(List.of("/x"), List.of(), List.of(), "/", "", List.of(layer)), List.of(OciFixture.gzip(layer)));
    registry.push("oci:" + layout, "test/container:v1");
    ImageStore c = store("c");
    assertThatThrownBy(() -> RegistryImages.pull(c, Tag.of("t"), registry.ref("test/container:v1"), options("c"),
        Progress.NONE)).hasMessage(registry.ref("test/container:v1")
            + " is not a Spindle image ('spindle image import' takes container images)");
    assertThat(c.exists(Tag.of("t"))).isFalse();
  }
}
