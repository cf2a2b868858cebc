package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.image.trust.ImageSignatures;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spindle images through a real registry ({@link TestRegistry}) as OCI artifacts: pushed, read back
 * by skopeo as the registry holds them, pulled whole into another home byte for byte with their
 * signature; a tampered blob or a container image under the name is refused, nothing stored.
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
    return new RegistryOptions(
        CREDS, null, null, true, new SpindleHome(tmp.resolve(home)).registryStaging());
  }

  /**
   * A signed image of a few files, its content unique to {@code seed} (the registry shares blobs).
   */
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
    RegistryImages.Pushed p =
        RegistryImages.push(image, registry.ref("spindle/app:v1"), options("a"), Progress.NONE);
    assertThat(p.bytesSent()).isGreaterThan(Files.size(image));

    // What the registry holds, read by skopeo: an artifact of Spindle's types, not a container
    // image.
    JsonNode m =
        OciConfig.JSON.readTree(
            TestRegistry.run(
                List.of(
                    "skopeo",
                    "inspect",
                    "--raw",
                    "--tls-verify=false",
                    "--creds",
                    CREDS,
                    registry.ref("spindle/app:v1"))));
    assertThat(m.path("artifactType").asText()).isEqualTo(RegistryImages.IMAGE_TYPE);
    assertThat(m.path("layers").findValuesAsText("mediaType"))
        .containsExactly(
            RegistryImages.IMAGE_TYPE, RegistryImages.METADATA_TYPE, RegistryImages.SIGNATURE_TYPE);
    assertThat(registry.digest("spindle/app:v1")).isEqualTo(p.manifestDigest());

    ImageStore b = store("b");
    VerifyReport r =
        RegistryImages.pull(
            b, Tag.of("copy"), registry.ref("spindle/app:v1"), options("b"), Progress.NONE);
    assertThat(r.ok()).as(r.problems().toString()).isTrue();
    assertThat(Files.readAllBytes(b.path(Tag.of("copy")))).isEqualTo(Files.readAllBytes(image));
    assertThat(Files.readAllBytes(ImageSignatures.signatureOf(b.path(Tag.of("copy")))))
        .isEqualTo(Files.readAllBytes(ImageSignatures.signatureOf(image)));
    try (var s = Files.list(new SpindleHome(tmp.resolve("b")).registryStaging())) {
      assertThat(s.filter(q -> !q.getFileName().toString().equals("sha256")).toList())
          .as("no scratch left")
          .isEmpty();
    }

    RegistryImages.Pushed again =
        RegistryImages.push(image, registry.ref("spindle/app:v2"), options("a"), Progress.NONE);
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
    assertThatThrownBy(
            () ->
                RegistryImages.pull(
                    c,
                    Tag.of("t"),
                    registry.ref("spindle/tampered:v1"),
                    options("c"),
                    Progress.NONE))
        .hasMessageStartingWith("blob " + digest + " is damaged");
    assertThat(c.exists(Tag.of("t"))).isFalse();
  }

  @Test
  void aContainerImageIsNotTakenForASpindleImage() throws Exception {
    byte[] layer = new OciFixture.Layer().file("x", "x").tar();
    Path layout =
        OciFixture.ociLayout(
            tmp.resolve("layout"),
            OciFixture.config(List.of("/x"), List.of(), List.of(), "/", "", List.of(layer)),
            List.of(OciFixture.gzip(layer)));
    registry.push("oci:" + layout, "test/container:v1");
    ImageStore c = store("c");
    assertThatThrownBy(
            () ->
                RegistryImages.pull(
                    c, Tag.of("t"), registry.ref("test/container:v1"), options("c"), Progress.NONE))
        .hasMessage(
            registry.ref("test/container:v1")
                + " is not a Spindle image ('spindle image import' takes container images)");
    assertThat(c.exists(Tag.of("t"))).isFalse();
  }

  /**
   * Four 512 KiB files of random bytes (they do not compress, so the image is mostly them) and two
   * near-identical texts, the second stored as a delta of the first.
   */
  private Path lazyImage(ImageStore store, String seed) throws Exception {
    Path src = Files.createDirectories(tmp.resolve("lazy-" + seed));
    Random random = new Random(seed.hashCode());
    for (int i = 0; i < 4; i++) {
      byte[] b = new byte[512 << 10];
      random.nextBytes(b);
      Files.write(src.resolve("random" + i), b);
    }
    String text = ("a line of " + seed + " text\n").repeat(40_000);
    Files.writeString(src.resolve("text1"), text);
    Files.writeString(src.resolve("text2"), text + "one more line\n");
    store.make(src.toString(), Tag.of("app"), MakeOptions.defaults(), Progress.NONE);
    return store.path(Tag.of("app"));
  }

  private static byte[] read(Path image, String path) throws Exception {
    try (Image img = Image.open(image, AccessMode.INDEXED)) {
      return img.read(img.lookup(path).orElseThrow());
    }
  }

  @Test
  void aLazyPullMovesOnlyWhatIsRead() throws Exception {
    ImageStore a = store("a");
    Path image = lazyImage(a, "lazy");
    RegistryImages.push(image, registry.ref("spindle/lazy:v1"), options("a"), Progress.NONE);
    long size = Files.size(image);

    try (CuttingProxy counting = new CuttingProxy(registry.port, Long.MAX_VALUE)) {
      SpindleHome b = new SpindleHome(tmp.resolve("b"));
      String via = "docker://127.0.0.1:" + counting.port() + "/spindle/lazy:v1";
      VerifyReport r = RegistryImages.pullLazy(b, Tag.of("copy"), via, options("b"), Progress.NONE);
      assertThat(r.ok()).as(r.problems().toString()).isTrue();
      Path copy = new ImageStore(b).path(Tag.of("copy"));
      assertThat(LazyImages.isLazy(copy)).isTrue();
      long pulled = counting.toClient.get();
      assertThat(pulled)
          .as("a lazy pull moves the metadata, not the contents")
          .isLessThan(size / 8);

      assertThat(read(copy, "random2"))
          .isEqualTo(Files.readAllBytes(tmp.resolve("lazy-lazy/random2")));
      long oneFile = counting.toClient.get() - pulled;
      assertThat(oneFile)
          .as("one file read moves that file")
          .isBetween(512L << 10, (512L << 10) + (64 << 10));
      assertThat(read(copy, "text2"))
          .as("a delta and its base, by ranges")
          .isEqualTo(Files.readAllBytes(tmp.resolve("lazy-lazy/text2")));
      assertThat(counting.toClient.get())
          .as("all moved, of an image of " + size + " bytes")
          .isLessThan(size / 2);

      // Every file of the lazy image reads as the original's.
      try (Image whole = Image.open(image, AccessMode.INDEXED);
          Image lazy = Image.open(copy, AccessMode.INDEXED)) {
        for (String f : List.of("random0", "random1", "random2", "random3", "text1", "text2")) {
          assertThat(lazy.read(lazy.lookup(f).orElseThrow()))
              .as(f)
              .isEqualTo(whole.read(whole.lookup(f).orElseThrow()));
        }
      }
    }
  }

  @Test
  void aTamperedBlobReadLazilyIsAClearError() throws Exception {
    ImageStore a = store("a");
    Path image = lazyImage(a, "lazy-tampered");
    RegistryImages.push(
        image, registry.ref("spindle/lazy-tampered:v1"), options("a"), Progress.NONE);
    SpindleHome b = new SpindleHome(tmp.resolve("b"));
    VerifyReport r =
        RegistryImages.pullLazy(
            b,
            Tag.of("copy"),
            registry.ref("spindle/lazy-tampered:v1"),
            options("b"),
            Progress.NONE);
    assertThat(r.ok()).isTrue();
    // One byte of random1's content in the registry's copy of the image blob, flipped.
    byte[] original = Files.readAllBytes(tmp.resolve("lazy-lazy-tampered/random1"));
    Path data = registry.blobData(RegistryPull.sha256(image));
    byte[] blob = Files.readAllBytes(data);
    int at = indexOf(blob, java.util.Arrays.copyOfRange(original, 1000, 1064));
    assertThat(at).as("random1 is stored as is (random bytes do not deflate)").isPositive();
    blob[at + 10] ^= 1;
    Files.write(data, blob);
    Path copy = new ImageStore(b).path(Tag.of("copy"));
    assertThatThrownBy(() -> read(copy, "random1")).hasMessageContaining("nothing stored");
    assertThat(LazyImages.cacheStats(b).objects()).as("nothing cached").isZero();
  }

  @Test
  void aLazyPullOfAMissingTagIsAClearErrorAndStoresNothing() throws Exception {
    SpindleHome b = new SpindleHome(tmp.resolve("b"));
    assertThatThrownBy(
            () ->
                RegistryImages.pullLazy(
                    b,
                    Tag.of("copy"),
                    registry.ref("spindle/none:v9"),
                    options("b"),
                    Progress.NONE))
        .hasMessageContaining("404 not found");
    assertThat(new ImageStore(b).exists(Tag.of("copy"))).isFalse();
  }

  @Test
  void aWholePullBrokenMidBlobResumesAndOneThatCannotGoOnStoresNothing() throws Exception {
    ImageStore a = store("a");
    Path image = lazyImage(a, "resumed");
    RegistryImages.push(image, registry.ref("spindle/resumed:v1"), options("a"), Progress.NONE);
    ImageStore c = store("c");
    try (CuttingProxy gone = new CuttingProxy(registry.port, 1 << 20, true)) {
      assertThatThrownBy(
              () ->
                  RegistryImages.pull(
                      c,
                      Tag.of("t"),
                      "docker://127.0.0.1:" + gone.port() + "/spindle/resumed:v1",
                      options("c"),
                      Progress.NONE))
          .hasMessageContaining("the connection broke 4 times in a row");
    }
    assertThat(c.exists(Tag.of("t"))).as("nothing half-stored").isFalse();
    try (CuttingProxy cut = new CuttingProxy(registry.port, 1 << 20)) {
      VerifyReport r =
          RegistryImages.pull(
              c,
              Tag.of("t"),
              "docker://127.0.0.1:" + cut.port() + "/spindle/resumed:v1",
              options("c"),
              Progress.NONE);
      assertThat(r.ok()).isTrue();
      assertThat(cut.rangeAsked).as("resumed with a Range request").isTrue();
    }
    assertThat(Files.readAllBytes(c.path(Tag.of("t")))).isEqualTo(Files.readAllBytes(image));
  }

  @Test
  void aRegistryIgnoringRangeRefusesALazyPullClearlyAndStoresNothing() throws Exception {
    ImageStore a = store("a");
    Path image = lazyImage(a, "no-range");
    RegistryImages.push(image, registry.ref("spindle/no-range:v1"), options("a"), Progress.NONE);
    SpindleHome b = new SpindleHome(tmp.resolve("b"));
    try (CuttingProxy noRange = new CuttingProxy(registry.port, Long.MAX_VALUE)) {
      noRange.hideRange = true;
      assertThatThrownBy(
              () ->
                  RegistryImages.pullLazy(
                      b,
                      Tag.of("copy"),
                      "docker://127.0.0.1:" + noRange.port() + "/spindle/no-range:v1",
                      options("b"),
                      Progress.NONE))
          .hasMessageContaining(
              "the registry ignores Range requests, which lazy pulls need (pull whole, without --lazy)");
      // What the proxy sent is not asserted: on loopback the socket buffers take a blob of this
      // size whole before the client has read its status line, however soon it hangs up.
    }
    assertThat(new ImageStore(b).exists(Tag.of("copy"))).isFalse();
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
