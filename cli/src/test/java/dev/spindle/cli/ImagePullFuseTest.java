package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.fuse.ImageMount;
import dev.spindle.fuse.MountOptions;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A lazily pulled image mounted with FUSE: the kernel's reads fetch the blob from the node. */
class ImagePullFuseTest {
  @TempDir Path tmp;

  @Test
  @Requires(Tool.FUSE)
  void aLazyImageReadsThroughAFuseMount() throws Exception {
    Path nodeHome = tmp.resolve("node");
    Path src = Files.createDirectories(tmp.resolve("src/etc"));
    Files.writeString(src.resolve("motd"), "fetched on first read\n");
    Files.writeString(src.resolve("unread"), "stays on the node\n");
    assertThat(
            new CliRunner(nodeHome)
                .run("image", "make", src.getParent().toString(), "-t", "src")
                .code())
        .isZero();
    SpindleHome home = new SpindleHome(tmp.resolve("puller"));
    CliRunner cli = new CliRunner(home.root());
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(nodeHome)).listen("127.0.0.1:0"))) {
      CliRunner.Result pulled =
          cli.run("image", "pull", "src", "--from", node.url(), "--token", node.token(), "--lazy");
      assertThat(pulled.code()).as(pulled.err()).isZero();
      Path mnt = Files.createDirectories(tmp.resolve("mnt"));
      try (Image image = Image.open(new ImageStore(home).path(Tag.of("src")), AccessMode.INDEXED);
          ImageMount mount = ImageMount.mount(image, mnt, MountOptions.defaults())) {
        assertThat(Files.readString(mount.mountPoint().resolve("etc/motd")))
            .isEqualTo("fetched on first read\n");
        assertThat(Files.size(mount.mountPoint().resolve("etc/unread"))).isEqualTo(18);
      }
    }
    LazyImages.CacheStats s = LazyImages.cacheStats(home);
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.bytesFetched()).isEqualTo("fetched on first read\n".length());
  }
}
