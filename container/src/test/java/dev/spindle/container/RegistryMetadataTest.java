package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageExtractor;
import dev.spindle.image.ImageStore;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.MetadataFixture;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Requires;
import dev.spindle.testing.TestRegistry;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Owners, mode bits, hard links, file capabilities and empty directories survive the way users move
 * images: a GNU {@code tar --xattrs} layer pushed by skopeo into a real registry on loopback,
 * imported by Spindle from {@code docker://}, extracted; the {@code find -printf} and {@code
 * getfattr} listings are the original tree's.
 */
@Requires({Tool.REGISTRY, Tool.SKOPEO, Tool.ROOT, Tool.ATTR})
class RegistryMetadataTest {
  @TempDir Path tmp;

  @Test
  void metadataRoundTripsThroughARegistry() throws Exception {
    Path src = MetadataFixture.build(tmp.resolve("src"));
    Path tar = tmp.resolve("layer.tar");
    MetadataFixture.run(
        tmp,
        "tar",
        "--xattrs",
        "--xattrs-include=*",
        "--numeric-owner",
        "--format=posix",
        "-cf",
        tar.toString(),
        "-C",
        src.toString(),
        ".");
    byte[] layer = Files.readAllBytes(tar);
    byte[] config =
        OciFixture.config(List.of("/bin/sh"), List.of(), List.of(), "/", "", List.of(layer));
    Path layout = OciFixture.ociLayout(tmp.resolve("layout"), config, List.of(layer));
    Path home = tmp.resolve("home");
    ImageStore store = new ImageStore(new SpindleHome(home));
    try (TestRegistry registry = TestRegistry.start(tmp.resolve("registry"))) {
      registry.push("oci:" + layout, "test/meta:v1"); // skopeo gzips the layer on the way in
      new OciImporter(store, Progress.NONE)
          .importImage(
              registry.ref("test/meta:v1"),
              Tag.of("meta"),
              MakeOptions.defaults(),
              new RegistryOptions(
                  TestRegistry.USER + ":" + TestRegistry.PASSWORD,
                  null,
                  null,
                  true,
                  new SpindleHome(home).registryStaging()));
    }
    Path file = store.path(Tag.of("meta"));
    assertThat(new ImageVerifier(Progress.NONE).verify(file).problems()).isEmpty();
    try (Image img = Image.open(file, AccessMode.INDEXED)) {
      Path out = tmp.resolve("out");
      ImageExtractor x = new ImageExtractor(img, Progress.NONE);
      x.extract(img.rootEntry(), out);
      assertThat(x.notRestored()).isEmpty();
      assertThat(MetadataFixture.listing(out)).isEqualTo(MetadataFixture.listing(src));
      assertThat(MetadataFixture.xattrs(out))
          .isEqualTo(MetadataFixture.xattrs(src))
          .contains("security.capability=" + MetadataFixture.CAP_NET_RAW);
    }
  }
}
