package dev.spindle.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.MetadataFixture;
import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.image.make.Owners;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mounted image shows what its metadata records exactly as the original tree did: the real {@code
 * find -printf '%m %U %G %n %s %y %P'} and {@code getfattr -d -m -} (stat, getxattr, listxattr,
 * link counts, empty directories) give the same listings on both.
 */
@Requires({Tool.FUSE, Tool.ROOT, Tool.ATTR})
class ImageMountMetadataTest {
  @TempDir Path tmp;

  @Test
  void findAndGetfattrSeeTheMountAsTheOriginal() throws Exception {
    Path src = MetadataFixture.build(tmp.resolve("src"));
    Path file = tmp.resolve("meta.img");
    new ImageMaker(
            MakeOptions.defaults()
                .withOwners(Owners.FROM_FILES)
                .withDate(OffsetDateTime.parse("2026-01-02T03:04:05Z")),
            Progress.NONE)
        .make(src.toString(), file);
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Image image = Image.open(file, AccessMode.INDEXED);
        ImageMount mount = ImageMount.mount(image, mnt, MountOptions.defaults())) {
      assertThat(MetadataFixture.listing(mnt))
          .isEqualTo(MetadataFixture.listing(src))
          .contains("4755 0 0 1 4 f bin/ping", "1777 0 0 2 - d tmp", "755 0 0 3 4 f usr/bin/c");
      assertThat(MetadataFixture.xattrs(mnt))
          .isEqualTo(MetadataFixture.xattrs(src))
          .contains("security.capability=" + MetadataFixture.CAP_NET_RAW);
    }
    assertThat(MountPoints.isMounted(mnt)).as("mount left behind").isFalse();
  }
}
