package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.TestRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulling from a real registry on loopback ({@link TestRegistry}) what skopeo pushed there: the
 * image must have the root that importing the same OCI layout directly gives; bad credentials, a
 * missing tag, a tampered blob and a broken connection each end clearly, with nothing stored.
 */
class RegistryImportTest {
  @TempDir static Path shared;
  static TestRegistry registry;
  static byte[] layer1;
  static byte[] layer2;
  static byte[] layer3;
  static byte[] config;
  static Path layout;

  @TempDir Path tmp;
  ImageStore store;
  Path home;

  @BeforeAll
  static void startRegistry() throws Exception {
    TestRegistry.assumeInstalled();
    registry = TestRegistry.start(shared.resolve("registry"));
    // Three layers, one per compression: skopeo gzips the plain one on the way in, keeps the
    // others.
    layer1 =
        new OciFixture.Layer()
            .dir("etc")
            .dir("data")
            .file("etc/motd", "one\n")
            .file("etc/old", "old\n")
            .file("data/a", "a")
            .file("bin/tool", "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), 0755)
            .symlink("bin/alias", "tool")
            .tar();
    layer2 =
        new OciFixture.Layer()
            .file("etc/motd", "two\n")
            .file("etc/.wh.old", "")
            .file("data/b", "b")
            .tar();
    layer3 = new OciFixture.Layer().dir("new").file("new/file", "n").file("data/.wh.a", "").tar();
    config =
        OciFixture.config(
            List.of("/bin/tool"),
            List.of(),
            List.of("PATH=/bin"),
            "/",
            "",
            List.of(layer1, layer2, layer3));
    layout =
        OciFixture.ociLayout(
            shared.resolve("layout"),
            config,
            List.of(layer1, OciFixture.gzip(layer2), OciFixture.zstd(layer3)));
    registry.push("oci:" + layout, "test/app:v1");
  }

  @AfterAll
  static void stopRegistry() throws InterruptedException {
    if (registry != null) {
      registry.close();
    }
  }

  @BeforeEach
  void newHome() {
    home = tmp.resolve("home");
    store = new ImageStore(new SpindleHome(home));
  }

  RegistryOptions options(String creds) {
    return new RegistryOptions(creds, null, null, true, new SpindleHome(home).registryStaging());
  }

  OciImporter.Result pull(String source, String tag, RegistryOptions o) throws IOException {
    return new OciImporter(store, Progress.NONE)
        .importImage(source, Tag.of(tag), MakeOptions.defaults(), o);
  }

  ObjectId directRoot(Path dir) throws IOException {
    return new OciImporter(store, Progress.NONE)
        .importImage("oci-layout:" + dir, Tag.of("direct"), MakeOptions.defaults())
        .header()
        .root();
  }

  @Test
  void whatSkopeoPushedImportsToTheRootOfTheLayoutItself() throws Exception {
    ObjectId direct = directRoot(layout);
    // Credentials from Docker's config.json, as `docker login` leaves them.
    Path dockerConfig = tmp.resolve("docker/config.json");
    Files.createDirectories(dockerConfig.getParent());
    String auth =
        Base64.getEncoder()
            .encodeToString(
                (TestRegistry.USER + ":" + TestRegistry.PASSWORD).getBytes(StandardCharsets.UTF_8));
    Files.writeString(
        dockerConfig, "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}");
    OciImporter.Result r =
        pull(
            registry.ref("test/app:v1"),
            "app",
            new RegistryOptions(
                null, dockerConfig, null, true, new SpindleHome(home).registryStaging()));
    assertThat(r.layers()).isEqualTo(3);
    assertThat(r.header().root()).isEqualTo(direct);
    assertThat(r.config().imageId())
        .as("skopeo keeps the config")
        .isEqualTo(OciFixture.digest(config));
    try (Image img = Image.open(store.path(Tag.of("app")), AccessMode.INDEXED)) {
      assertThat(new String(img.read(img.require("etc/motd")), StandardCharsets.UTF_8))
          .isEqualTo("two\n");
      assertThat(img.lookup("data/a")).isEmpty();
    }
    assertThat(staged()).as("staged blobs go once the image is made").isEmpty();

    String manifest =
        TestRegistry.run(
            List.of(
                "skopeo",
                "inspect",
                "--raw",
                "--tls-verify=false",
                "--creds",
                TestRegistry.USER + ":" + TestRegistry.PASSWORD,
                registry.ref("test/app:v1")));
    assertThat(manifest)
        .as("the registry holds each compression")
        .contains("tar+gzip")
        .contains("tar+zstd");
    String digest = registry.digest("test/app:v1");
    OciImporter.Result byDigest =
        pull(
            registry.ref("test/app@" + digest),
            "app-by-digest",
            options(TestRegistry.USER + ":" + TestRegistry.PASSWORD));
    assertThat(byDigest.header().root()).isEqualTo(direct);
  }

  @Test
  void bearerTokensAreFetchedFromTheRealmTheChallengeNames() throws Exception {
    try (TokenFront front = new TokenFront(registry)) {
      OciImporter.Result r =
          pull(
              "docker://" + front.host() + "/test/app:v1",
              "token",
              options(TestRegistry.USER + ":" + TestRegistry.PASSWORD));
      assertThat(r.header().root()).isEqualTo(directRoot(layout));
      assertThat(front.scopes)
          .as("our scope, not the challenge's")
          .containsOnly("repository:test/app:pull");
      assertThatThrownBy(
              () ->
                  pull(
                      "docker://" + front.host() + "/test/app:v1",
                      "bad",
                      options(TestRegistry.USER + ":wrong")))
          .hasMessage(
              "registry "
                  + front.host()
                  + ": token: 401 unauthorized: the registry refused the"
                  + " credentials for spindle");
      assertThat(store.exists(Tag.of("bad"))).isFalse();
    }
  }

  @Test
  void aMultiPlatformIndexGivesThePlatformAskedFor() throws Exception {
    Path multi = shared.resolve("multi");
    byte[] amd = new OciFixture.Layer().file("arch", "amd64\n").tar();
    byte[] arm = new OciFixture.Layer().file("arch", "arm64\n").tar();
    OciFixture.ociLayout(
        multi.resolve("amd64"), config(amd, "amd64"), List.of(OciFixture.gzip(amd)));
    OciFixture.ociLayout(
        multi.resolve("arm64"), config(arm, "arm64"), List.of(OciFixture.gzip(arm)));
    Path index =
        indexOf(
            multi.resolve("index"),
            multi.resolve("amd64"),
            "amd64",
            multi.resolve("arm64"),
            "arm64");
    registry.push("oci:" + index, "test/multi:v1", "--all");
    String creds = TestRegistry.USER + ":" + TestRegistry.PASSWORD;

    pull(registry.ref("test/multi:v1"), "default", options(creds));
    pull(
        registry.ref("test/multi:v1"),
        "arm",
        new RegistryOptions(
            creds, null, "linux/arm64", true, new SpindleHome(home).registryStaging()));
    assertThat(text("default", "arch")).isEqualTo("amd64\n");
    assertThat(text("arm", "arch")).isEqualTo("arm64\n");
    assertThatThrownBy(
            () ->
                pull(
                    registry.ref("test/multi:v1"),
                    "s390x",
                    new RegistryOptions(
                        creds, null, "linux/s390x", true, new SpindleHome(home).registryStaging())))
        .hasMessageContaining("none for linux/s390x");
    assertThat(store.exists(Tag.of("s390x"))).isFalse();
  }

  @Test
  void badOrMissingCredentialsAreRefusedAndNothingIsStored() {
    assertThatThrownBy(
            () -> pull(registry.ref("test/app:v1"), "bad", options(TestRegistry.USER + ":wrong")))
        .hasMessage(
            "registry "
                + registry.host()
                + ": manifest "
                + registry.ref("test/app:v1")
                + ": 401 unauthorized: the registry refused the credentials for spindle");
    assertThatThrownBy(() -> pull(registry.ref("test/app:v1"), "bad", options(null)))
        .hasMessageContaining("401 unauthorized: the registry needs credentials");
    assertThat(store.exists(Tag.of("bad"))).isFalse();
    assertThat(OciImageConfig.sidecarOf(store.path(Tag.of("bad")))).doesNotExist();
  }

  @Test
  void aMissingTagIsNotFound() {
    assertThatThrownBy(
            () ->
                pull(
                    registry.ref("test/app:nope"),
                    "missing",
                    options(TestRegistry.USER + ":" + TestRegistry.PASSWORD)))
        .hasMessage(
            "registry "
                + registry.host()
                + ": manifest "
                + registry.ref("test/app:nope")
                + ": 404 not found");
    assertThat(store.exists(Tag.of("missing"))).isFalse();
  }

  @Test
  void plainHttpNeedsInsecure() {
    assertThatThrownBy(
            () ->
                pull(
                    registry.ref("test/app:v1"),
                    "tls",
                    new RegistryOptions(
                        TestRegistry.USER + ":" + TestRegistry.PASSWORD,
                        null,
                        null,
                        false,
                        new SpindleHome(home).registryStaging())))
        .hasMessageContaining("registry " + registry.host() + ": ");
    assertThat(store.exists(Tag.of("tls"))).isFalse();
  }

  @Test
  void aTamperedBlobIsRefusedByNameAndNothingIsStored() throws Exception {
    // Its own layer: the registry shares blobs between repositories, the other tests must not see
    // this one.
    byte[] unique =
        OciFixture.gzip(new OciFixture.Layer().file("payload", random(200_000, 7), 0644).tar());
    byte[] cfg =
        OciFixture.config(
            List.of("/payload"),
            List.of(),
            List.of(),
            "/",
            "",
            List.of(new OciFixture.Layer().file("payload", random(200_000, 7), 0644).tar()));
    Path dir = OciFixture.ociLayout(tmp.resolve("tampered"), cfg, List.of(unique));
    registry.push("oci:" + dir, "test/tampered:v1");
    String digest = OciFixture.digest(unique);
    Path data = registry.blobData(digest);
    byte[] b = Files.readAllBytes(data);
    b[b.length / 2] ^= 1;
    Files.write(data, b);
    assertThatThrownBy(
            () ->
                pull(
                    registry.ref("test/tampered:v1"),
                    "tampered",
                    options(TestRegistry.USER + ":" + TestRegistry.PASSWORD)))
        .hasMessageStartingWith("blob " + digest + " is damaged: its sha256 is sha256:");
    assertThat(store.exists(Tag.of("tampered"))).isFalse();
    assertThat(staged()).as("a damaged blob is not kept to resume").isEmpty();
  }

  @Test
  void aConnectionBrokenMidBlobResumesWithARangeRequest() throws Exception {
    byte[] big = new OciFixture.Layer().file("big", random(2 << 20, 11), 0644).tar();
    byte[] cfg = OciFixture.config(List.of("/big"), List.of(), List.of(), "/", "", List.of(big));
    Path dir = OciFixture.ociLayout(tmp.resolve("big"), cfg, List.of(OciFixture.gzip(big)));
    registry.push("oci:" + dir, "test/big:v1");
    ObjectId direct = directRoot(dir);
    try (CuttingProxy proxy = new CuttingProxy(registry.port, 1 << 20)) {
      OciImporter.Result r =
          pull(
              "docker://127.0.0.1:" + proxy.port() + "/test/big:v1",
              "big",
              options(TestRegistry.USER + ":" + TestRegistry.PASSWORD));
      assertThat(proxy.cut).isTrue();
      assertThat(proxy.rangeAsked).as("resumed, not restarted").isTrue();
      assertThat(r.header().root()).isEqualTo(direct);
    }
  }

  @Test
  void aDownloadThatCannotGoOnFailsCleanlyAndTheNextRunResumesIt() throws Exception {
    byte[] big = new OciFixture.Layer().file("big", random(2 << 20, 13), 0644).tar();
    byte[] cfg = OciFixture.config(List.of("/big"), List.of(), List.of(), "/", "", List.of(big));
    Path dir = OciFixture.ociLayout(tmp.resolve("down"), cfg, List.of(OciFixture.gzip(big)));
    registry.push("oci:" + dir, "test/down:v1");
    String digest = OciFixture.digest(OciFixture.gzip(big));
    try (CuttingProxy gone = new CuttingProxy(registry.port, 1 << 20, true)) {
      assertThatThrownBy(
              () ->
                  pull(
                      "docker://127.0.0.1:" + gone.port() + "/test/down:v1",
                      "down",
                      options(TestRegistry.USER + ":" + TestRegistry.PASSWORD)))
          .hasMessageStartingWith("blob " + digest + ": the connection broke 4 times in a row; ")
          .hasMessageContaining("and the same import resumes there");
    }
    assertThat(store.exists(Tag.of("down"))).isFalse();
    assertThat(staged())
        .extracting(p -> p.getFileName().toString())
        .containsExactly(digest.substring(7) + ".part");
    try (CuttingProxy up = new CuttingProxy(registry.port, Long.MAX_VALUE)) {
      OciImporter.Result r =
          pull(
              "docker://127.0.0.1:" + up.port() + "/test/down:v1",
              "down",
              options(TestRegistry.USER + ":" + TestRegistry.PASSWORD));
      assertThat(up.rangeAsked).as("the second run resumed the staged part").isTrue();
      assertThat(r.header().root()).isEqualTo(directRoot(dir));
    }
    assertThat(staged()).isEmpty();
  }

  private List<Path> staged() throws IOException {
    Path dir = new SpindleHome(home).registryStaging().resolve("sha256");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  private String text(String tag, String path) throws IOException {
    try (Image img = Image.open(store.path(Tag.of(tag)), AccessMode.INDEXED)) {
      return new String(img.read(img.require(path)), StandardCharsets.UTF_8);
    }
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] config(byte[] layer, String arch) throws IOException {
    ObjectNode c =
        (ObjectNode)
            OciConfig.JSON.readTree(
                OciFixture.config(
                    List.of("/bin/sh"), List.of(), List.of(), "/", "", List.of(layer)));
    c.put("architecture", arch);
    return OciConfig.JSON.writeValueAsBytes(c);
  }

  /**
   * An OCI layout whose index lists the single manifests of two layouts, each with its platform.
   */
  private static Path indexOf(Path dir, Path a, String archA, Path b, String archB)
      throws IOException {
    Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
    Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    ObjectNode index = OciConfig.JSON.createObjectNode();
    index.put("schemaVersion", 2);
    index.put("mediaType", "application/vnd.oci.image.index.v1+json");
    for (var part : List.of(java.util.Map.entry(a, archA), java.util.Map.entry(b, archB))) {
      try (Stream<Path> s = Files.list(part.getKey().resolve("blobs/sha256"))) {
        for (Path p : s.toList()) {
          Files.copy(
              p, blobs.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      ObjectNode desc =
          (ObjectNode)
              OciConfig.JSON
                  .readTree(part.getKey().resolve("index.json").toFile())
                  .path("manifests")
                  .get(0);
      desc.putObject("platform").put("os", "linux").put("architecture", part.getValue());
      index.withArray("manifests").add(desc);
    }
    byte[] indexBlob = OciConfig.JSON.writeValueAsBytes(index);
    Files.write(blobs.resolve(OciFixture.digest(indexBlob).substring(7)), indexBlob);
    ObjectNode top = OciConfig.JSON.createObjectNode();
    top.put("schemaVersion", 2);
    top.withArray("manifests")
        .add(
            OciConfig.JSON
                .createObjectNode()
                .put("mediaType", "application/vnd.oci.image.index.v1+json")
                .put("digest", OciFixture.digest(indexBlob))
                .put("size", indexBlob.length));
    Files.write(dir.resolve("index.json"), OciConfig.JSON.writeValueAsBytes(top));
    return dir;
  }
}
