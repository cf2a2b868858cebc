package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.BusyboxRoot;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Importing OCI layouts and docker archives written by the test. */
class OciImporterTest {
  private static final List<String> ENTRYPOINT = List.of("/bin/sh", "-c");
  private static final List<String> CMD =
      List.of("echo from-cmd; cat /etc/motd; ls /data; pwd; echo $GREETING; cat /keep/k2");
  private static final List<String> ENV = List.of("PATH=/bin", "GREETING=hi");

  @TempDir Path tmp;
  ImageStore store;
  byte[] layer1;
  byte[] layer2;
  byte[] config;

  @BeforeEach
  void layers() throws IOException {
    store = new ImageStore(new SpindleHome(tmp.resolve("home")));
    byte[] busybox =
        Files.isReadable(BusyboxRoot.BUSYBOX)
            ? Files.readAllBytes(BusyboxRoot.BUSYBOX)
            : "#!/bin/false\n".getBytes(StandardCharsets.UTF_8);
    OciFixture.Layer l1 =
        new OciFixture.Layer()
            .dir("bin")
            .dir("etc")
            .dir("data")
            .dir("keep")
            .file("bin/busybox", busybox, 0755);
    for (String applet : List.of("sh", "cat", "ls", "echo", "pwd")) {
      l1.symlink("bin/" + applet, "busybox");
    }
    layer1 =
        l1.file("etc/motd", "one\n")
            .file("etc/old", "old\n")
            .file("data/a", "a")
            .file("data/b", "b")
            .file("keep/k", "kept\n")
            .hardlink("keep/k2", "keep/k")
            .fifo("keep/fifo")
            .file(
                "etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
            .file("etc/group", "root:x:0:\nstaff:x:50:\n")
            .tar();
    layer2 =
        new OciFixture.Layer()
            .file("etc/motd", "two\n")
            .file("etc/.wh.old", "")
            .file("data/.wh..wh..opq", "")
            .file("data/c", "c")
            .dir("new")
            .file("new/file", "n")
            .tar();
    config = OciFixture.config(ENTRYPOINT, CMD, ENV, "/data", "", List.of(layer1, layer2));
  }

  OciImporter.Result importAs(String source, String tag) throws IOException {
    return new OciImporter(store, Progress.NONE)
        .importImage(source, Tag.of(tag), MakeOptions.defaults());
  }

  @Test
  void ociLayoutLayersApplyInOrderWithWhiteoutsAndOpaqueDirectories() throws IOException {
    Path layout =
        OciFixture.ociLayout(
            tmp.resolve("layout"), config, List.of(layer1, OciFixture.gzip(layer2)));
    OciImporter.Result r = importAs("oci-layout:" + layout, "app");
    assertThat(r.layers()).isEqualTo(2);
    assertThat(r.skipped()).as("the FIFO").isEqualTo(1);
    try (Image img = Image.open(store.path(Tag.of("app")), AccessMode.INDEXED)) {
      assertThat(text(img, "etc/motd")).isEqualTo("two\n");
      assertThat(img.lookup("etc/old")).as("whited out").isEmpty();
      assertThat(img.list(img.require("data"))).extracting(ImageEntry::name).containsExactly("c");
      assertThat(text(img, "keep/k2")).isEqualTo("kept\n");
      assertThat(img.lookup("keep/fifo")).isEmpty();
      assertThat(text(img, "new/file")).isEqualTo("n");
      assertThat(img.readLink(img.require("bin/sh"))).isEqualTo("busybox");
      assertThat(img.require("bin/busybox").isExecutable()).isTrue();
      assertThat(img.require("etc/motd").isExecutable()).isFalse();
      assertThat(img.commit().date().toInstant()).hasToString("2025-05-06T07:08:09Z");
    }
    OciImageConfig c = OciImageConfig.readFor(store.path(Tag.of("app"))).orElseThrow();
    assertThat(c).isEqualTo(r.config());
    assertThat(c.imageId()).isEqualTo(OciFixture.digest(config));
    assertThat(c.command()).containsExactly("/bin/sh", "-c", CMD.getFirst());
    assertThat(c.env()).isEqualTo(ENV);
    assertThat(c.workingDir()).isEqualTo("/data");
    assertThat(OciImageConfig.sidecarOf(store.path(Tag.of("app")))).hasFileName("app.oci.json");
  }

  @Test
  void aDockerArchiveOfTheSameLayersGivesTheSameImage() throws IOException {
    Path layout =
        OciFixture.ociLayout(
            tmp.resolve("layout"), config, List.of(layer1, OciFixture.gzip(layer2)));
    Path archive =
        OciFixture.dockerArchive(tmp.resolve("saved.tar"), config, List.of(layer1, layer2));
    OciImporter.Result oci = importAs("oci-layout:" + layout, "from-oci");
    OciImporter.Result docker = importAs("docker-archive:" + archive, "from-docker");
    assertThat(docker.header().root()).isEqualTo(oci.header().root());
    assertThat(docker.config()).isEqualTo(oci.config());
  }

  @Test
  void zstdLayersGiveTheSameImageAsPlainAndGzipOnes() throws IOException {
    Path plain =
        OciFixture.ociLayout(
            tmp.resolve("plain"), config, List.of(layer1, OciFixture.gzip(layer2)));
    Path zstd =
        OciFixture.ociLayout(
            tmp.resolve("zstd"), config, List.of(OciFixture.zstd(layer1), OciFixture.zstd(layer2)));
    OciImporter.Result a = importAs("oci-layout:" + plain, "plain");
    OciImporter.Result b = importAs("oci-layout:" + zstd, "zstd");
    assertThat(b.header().root()).isEqualTo(a.header().root());
  }

  @Test
  void aDamagedLayerIsRefusedAndNothingIsStored() throws IOException {
    Path layout = OciFixture.ociLayout(tmp.resolve("layout"), config, List.of(layer1, layer2));
    Path blob = layout.resolve("blobs/sha256").resolve(OciFixture.digest(layer2).substring(7));
    byte[] b = Files.readAllBytes(blob);
    b[b.length - 2000] ^= 1; // inside the file content, the tar stays readable
    Files.write(blob, b);
    assertThatThrownBy(() -> importAs("oci-layout:" + layout, "bad"))
        .hasMessageContaining("layer " + OciFixture.digest(layer2) + " is damaged");
    assertThat(store.exists(Tag.of("bad"))).isFalse();
    assertThat(OciImageConfig.sidecarOf(store.path(Tag.of("bad")))).doesNotExist();
  }

  @Test
  void aDiffIdThatDoesNotMatchIsRefused() throws IOException {
    byte[] other =
        OciFixture.config(ENTRYPOINT, CMD, ENV, "/", "", List.of(layer2, layer1)); // swapped
    Path archive =
        OciFixture.dockerArchive(tmp.resolve("saved.tar"), other, List.of(layer1, layer2));
    assertThatThrownBy(() -> importAs("docker-archive:" + archive, "bad"))
        .hasMessageContaining(
            "is damaged: its uncompressed sha256 is " + OciFixture.digest(layer1));
  }

  @Test
  void symlinksResolveInsideTheRootAsInAChroot(@TempDir Path outside) throws IOException {
    // An absolute symlink in a lower layer must not let a later layer write on the host; a
    // relative one (usrmerge's bin -> usr/bin) is written through, as Docker does.
    byte[] l1 =
        new OciFixture.Layer()
            .symlink("lib", outside.toString())
            .dir("usr")
            .dir("usr/bin")
            .file("usr/bin/old", "old\n")
            .symlink("bin", "usr/bin")
            .symlink("up", "../../..")
            .tar();
    byte[] l2 =
        new OciFixture.Layer()
            .file("lib/x", "inside\n")
            .file("bin/new", "new\n")
            .file("up/y", "y")
            .tar();
    byte[] cfg = OciFixture.config(List.of(), List.of("sh"), List.of(), "", "", List.of(l1, l2));
    importAs("oci-layout:" + OciFixture.ociLayout(tmp.resolve("l"), cfg, List.of(l1, l2)), "safe");
    assertThat(outside.resolve("x")).doesNotExist();
    assertThat(tmp.resolve("y")).doesNotExist();
    try (Image img = Image.open(store.path(Tag.of("safe")), AccessMode.LAZY)) {
      assertThat(img.readLink(img.require("lib"))).isEqualTo(outside.toString());
      assertThat(text(img, outside + "/x")).as("re-rooted").isEqualTo("inside\n");
      assertThat(img.readLink(img.require("bin"))).isEqualTo("usr/bin");
      assertThat(img.list(img.require("usr/bin")))
          .extracting(ImageEntry::name)
          .containsExactly("new", "old");
      assertThat(text(img, "y")).as("'..' stops at the root").isEqualTo("y");
    }
    byte[] evil = new OciFixture.Layer().file("../evil", "x").tar();
    byte[] cfg2 = OciFixture.config(List.of(), List.of("sh"), List.of(), "", "", List.of(evil));
    Path layout = OciFixture.ociLayout(tmp.resolve("e"), cfg2, List.of(evil));
    assertThatThrownBy(() -> importAs("oci-layout:" + layout, "evil"))
        .hasMessageContaining("climbs out of the root: ../evil");
    assertThat(tmp.resolve("evil")).doesNotExist();
  }

  @Test
  void tarSlipVariantsNeitherWriteOutsideNorBringHostFilesIn(@TempDir Path outside)
      throws IOException {
    Files.writeString(outside.resolve("secret"), "HOST SECRET\n");
    Files.writeString(outside.resolve("victim"), "keep\n");
    // Each layer tries one way out; each must either be refused naming the entry or be re-rooted.
    List<byte[]> attempts =
        List.of(
            new OciFixture.Layer().hardlink("h", outside.resolve("secret").toString()).tar(),
            new OciFixture.Layer()
                .hardlink("h", "../../../../../../../.." + outside.resolve("secret"))
                .tar(),
            new OciFixture.Layer()
                .symlink("out", outside.toString())
                .hardlink("h", "out/secret")
                .tar(),
            new OciFixture.Layer()
                .symlink("out", outside.toString())
                .file("out/victim", "PWNED\n")
                .tar(),
            new OciFixture.Layer().file(outside.resolve("victim").toString(), "PWNED\n").tar(),
            new OciFixture.Layer()
                .symlink("out", outside.toString())
                .file("out/.wh.victim", "")
                .tar(),
            new OciFixture.Layer().dir("d").file("d/../../victim", "PWNED\n").tar());
    int i = 0;
    for (byte[] layer : attempts) {
      String tag = "slip" + i++;
      byte[] cfg = OciFixture.config(List.of(), List.of("sh"), List.of(), "", "", List.of(layer));
      Path layout = OciFixture.ociLayout(tmp.resolve(tag), cfg, List.of(layer));
      try {
        importAs("oci-layout:" + layout, tag);
      } catch (IOException | RuntimeException refused) {
        assertThat(refused.getMessage()).as(tag).isNotBlank();
        continue;
      }
      try (Image img = Image.open(store.path(Tag.of(tag)), AccessMode.LAZY)) {
        if (img.lookup("h").isPresent()) {
          assertThat(text(img, "h"))
              .as(tag + ": a hard link never carries a host file in")
              .doesNotContain("HOST SECRET");
        }
      }
    }
    assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("keep\n");
    assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("HOST SECRET\n");
    try (var files = Files.list(outside)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("secret", "victim");
    }
  }

  @Test
  void unknownSourcesAreNamed() {
    assertThatThrownBy(() -> importAs("registry:docker.io/library/busybox", "x"))
        .hasMessageContaining("oci-layout:DIR or docker-archive:FILE.tar");
    assertThatThrownBy(() -> importAs("oci-layout:" + tmp.resolve("missing"), "x"))
        .hasMessageContaining("oci-layout");
  }

  @Test
  void usersResolveThroughTheImagesPasswdAndGroup() throws IOException {
    importAs(
        "oci-layout:"
            + OciFixture.ociLayout(tmp.resolve("layout"), config, List.of(layer1, layer2)),
        "u");
    try (Image img = Image.open(store.path(Tag.of("u")), AccessMode.INDEXED)) {
      assertThat(ImageUsers.resolve(img, "")).containsExactly(0, 0);
      assertThat(ImageUsers.resolve(img, "nobody")).containsExactly(65534, 65534);
      assertThat(ImageUsers.resolve(img, "nobody:staff")).containsExactly(65534, 50);
      assertThat(ImageUsers.resolve(img, "1000:50")).containsExactly(1000, 50);
      assertThat(ImageUsers.resolve(img, "1000")).containsExactly(1000, 0);
      assertThatThrownBy(() -> ImageUsers.resolve(img, "ghost"))
          .hasMessageContaining("user 'ghost' is not in the image's /etc/passwd");
      assertThatThrownBy(() -> ImageUsers.resolve(img, "0:wheel"))
          .hasMessageContaining("group 'wheel'");
    }
  }

  @Test
  @Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC})
  void runningWithoutACommandUsesEntrypointCmdEnvAndWorkingDir() throws Exception {
    importAs(
        "oci-layout:"
            + OciFixture.ociLayout(tmp.resolve("layout"), config, List.of(layer1, layer2)),
        "app");
    Path file = store.path(Tag.of("app"));
    OciImageConfig c = OciImageConfig.readFor(file).orElseThrow();
    Path state = tmp.resolve("state");
    try (Image img = Image.open(file, AccessMode.INDEXED)) {
      Container ct =
          new ContainerRuntime(state)
              .start(img, c.applyTo(ContainerSpec.of(c.command())), MountOptions.defaults());
      try (ct) {
        String out = new String(ct.stdout().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(ct.waitFor()).isZero();
        assertThat(out).isEqualTo("from-cmd\ntwo\nc\n/data\nhi\nkept\n");
      }
      assertThat(MountPoints.list()).noneMatch(m -> m.startsWith(state));
      assertThat(Cgroups.existing(ct.id())).isEmpty();
    }
  }

  private static String text(Image img, String path) throws IOException {
    return new String(img.read(img.require(path)), StandardCharsets.UTF_8);
  }
}
