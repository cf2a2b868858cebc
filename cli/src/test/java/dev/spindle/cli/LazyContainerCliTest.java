package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.image.lazy.LazyImages;
import dev.spindle.store.SpindleHome;
import dev.spindle.testing.BusyboxRoot;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real runc container over a lazily pulled image whose object cache is far smaller than what the
 * run reads: objects are evicted while the container runs (the busybox binary among them, once
 * read), files still read back whole, and the run succeeds. And {@code container run --from}: the
 * pull and the run in one process, the pull only when the store lacks the tag.
 */
class LazyContainerCliTest {
  private static final int FILES = 4;
  private static final int SIZE = 96 * 1024;

  @TempDir Path tmp;

  @Test
  @Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC})
  void aContainerRunsOverALazyImageWhileATightCacheEvicts() throws Exception {
    Path root = BusyboxRoot.make(tmp.resolve("rootfs"), "sh", "cat", "wc", "test");
    Path data = Files.createDirectories(root.resolve("data"));
    Random r = new Random(8);
    StringBuilder files = new StringBuilder();
    for (int i = 0; i < FILES; i++) {
      byte[] b = new byte[SIZE];
      for (int k = 0; k < SIZE; k++) {
        b[k] = (byte) ('a' + r.nextInt(26)); // text: no file shares content with another
      }
      Files.write(data.resolve("f" + i), b);
      files.append(" /data/f").append(i);
    }
    Path nodeHome = tmp.resolve("node");
    assertThat(
            new CliRunner(nodeHome).run("image", "make", root.toString(), "-t", "app", "-q").code())
        .isZero();
    SpindleHome home = new SpindleHome(tmp.resolve("puller"));
    CliRunner cli = new CliRunner(home.root());
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(nodeHome)).listen("127.0.0.1:0"))) {
      // A cap of two files: the binary and the four files cannot all stay.
      CliRunner.Result pulled =
          cli.run(
              "image",
              "pull",
              "app",
              "--from",
              node.url(),
              "--token",
              node.token(),
              "--lazy",
              "--cache-size",
              (2 * SIZE / 1024) + "K");
      assertThat(pulled.code()).as(pulled.err()).isZero();
      // Twice over the files: the second pass reads what the first evicted (the kernel's page cache
      // may serve some of it), and the byte count must be whole.
      String script =
          "n=$(cat" + files + files + " | wc -c); test \"$n\" -eq " + (2L * FILES * SIZE);
      CliRunner.Result ran = cli.run("container", "run", "app", "--", "sh", "-c", script);
      assertThat(ran.code()).as(ran.err()).isZero();
    }
    LazyImages.CacheStats s = LazyImages.cacheStats(home);
    assertThat(s.evictions()).as("%s", s).isPositive();
    assertThat(s.bytes()).isLessThanOrEqualTo(2L * SIZE);
    assertThat(s.bytesFetched())
        .isGreaterThanOrEqualTo((long) FILES * SIZE + Files.size(BusyboxRoot.BUSYBOX));
  }

  @Test
  @Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC})
  void runPullsWhatTheStoreLacksInTheSameProcessAndOnlyThen() throws Exception {
    Path root = BusyboxRoot.make(tmp.resolve("rootfs"), "sh", "cat", "test");
    Files.writeString(Files.createDirectories(root.resolve("data")).resolve("hello"), "hello");
    Path nodeHome = tmp.resolve("node");
    assertThat(
            new CliRunner(nodeHome).run("image", "make", root.toString(), "-t", "app", "-q").code())
        .isZero();
    Path profile = Files.writeString(tmp.resolve("hot.txt"), "/bin/busybox\n/data/hello\n");
    SpindleHome home = new SpindleHome(tmp.resolve("puller"));
    CliRunner cli = new CliRunner(home.root());
    String check = "test \"$(cat /data/hello)\" = hello";
    String url;
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(nodeHome)).listen("127.0.0.1:0"))) {
      url = node.url();
      CliRunner.Result lazy =
          cli.run(
              "container",
              "run",
              "app",
              "--from",
              url,
              "--token",
              node.token(),
              "--lazy",
              "--prefetch",
              profile.toString(),
              "--",
              "sh",
              "-c",
              check);
      assertThat(lazy.code()).as(lazy.err()).isZero();
      assertThat(LazyImages.isLazy(home.images().resolve("app.img"))).isTrue();

      CliRunner.Result wholePull =
          new CliRunner(tmp.resolve("puller2"))
              .run(
                  "container",
                  "run",
                  "app",
                  "--from",
                  url,
                  "--token",
                  node.token(),
                  "--",
                  "sh",
                  "-c",
                  check);
      assertThat(wholePull.code()).as(wholePull.err()).isZero();
      assertThat(LazyImages.isLazy(tmp.resolve("puller2/images/app.img"))).isFalse();
    }
    // The node is gone: the image is in the store, so --from is not asked again, and what the
    // first run read is in the object cache.
    CliRunner.Result again =
        cli.run(
            "container",
            "run",
            "app",
            "--from",
            url,
            "--lazy",
            "--token",
            "x",
            "--",
            "sh",
            "-c",
            check);
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(cli.run("container", "run", "app", "--lazy", "--", "true").err())
        .contains("--lazy and --token go with --from");
  }
}
