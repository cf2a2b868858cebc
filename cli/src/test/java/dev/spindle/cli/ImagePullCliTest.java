package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.store.SpindleHome;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spindle image pull} (whole and --lazy) and {@code image cache} against a node on loopback.
 */
class ImagePullCliTest {
  @TempDir Path tmp;

  @Test
  void pullsWholeAndLazilyAndReadsTheLazyImage() throws Exception {
    Path nodeHome = tmp.resolve("node");
    Path src = Files.createDirectories(tmp.resolve("src/docs"));
    Files.writeString(src.resolve("readme.txt"), "read me\n");
    Files.writeString(src.resolve("other.txt"), "not read\n");
    assertThat(
            new CliRunner(nodeHome)
                .run("image", "make", src.getParent().toString(), "-t", "src")
                .code())
        .isZero();
    CliRunner cli = new CliRunner(tmp.resolve("puller"));
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(nodeHome)).listen("127.0.0.1:0"))) {
      String url = node.url();
      CliRunner.Result lazy =
          cli.run(
              "image",
              "pull",
              "src",
              "--from",
              url,
              "--token",
              node.token(),
              "--lazy",
              "-t",
              "app",
              "--cache-size",
              "1M");
      assertThat(lazy.code()).as(lazy.err()).isZero();
      assertThat(lazy.out()).contains("pulled lazily src from " + url + " as app");
      assertThat(cli.run("image", "cat", "app", "docs/readme.txt").out()).isEqualTo("read me\n");

      Path profile = tmp.resolve("profile");
      Files.writeString(profile, "{\"path\":\"/docs/other.txt\"}\n/not/there\n");
      CliRunner.Result hot =
          cli.run(
              "image",
              "pull",
              "src",
              "--from",
              url,
              "--token",
              node.token(),
              "--lazy",
              "-t",
              "hot",
              "--prefetch",
              profile.toString());
      assertThat(hot.code()).as(hot.err()).isZero();
      assertThat(hot.out()).contains("prefetched 1 files of " + profile);
      CliRunner.Result verify = cli.run("image", "verify", "app");
      assertThat(verify.code()).as(verify.out() + verify.err()).isZero();

      CliRunner.Result whole =
          cli.run("image", "pull", "src", "--from", url, "--token", node.token());
      assertThat(whole.code()).as(whole.err()).isZero();
      assertThat(cli.run("image", "verify", "src").code()).isZero();

      CliRunner.Result wrong =
          cli.run("image", "pull", "src", "--from", url, "--token", "bad", "-t", "x");
      assertThat(wrong.code()).isEqualTo(1);
      assertThat(wrong.err()).contains("401");
    }
    CliRunner.Result cache = cli.run("image", "cache");
    assertThat(cache.out()).contains("objects  2").contains("bytes    17 of " + (1 << 20));
  }

  @Test
  void signsAndVerifiesWithAKeyAndRefusesAnotherKeyOrNone() throws Exception {
    CliRunner cli = new CliRunner(tmp.resolve("home"));
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "x\n");
    assertThat(cli.run("image", "make", src.toString(), "-t", "app").code()).isZero();
    Path key = tmp.resolve("key");
    assertThat(cli.run("key", "new", key.toString()).out()).contains("public " + key + ".pub");
    CliRunner.Result unsigned = cli.run("image", "verify", "app", "--key", key + ".pub");
    assertThat(unsigned.code()).isEqualTo(1);
    assertThat(unsigned.err()).contains("is unsigned");

    assertThat(cli.run("image", "sign", "app", "--key", key.toString()).code()).isZero();
    CliRunner.Result ok = cli.run("image", "verify", "app", "--key", key + ".pub");
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).contains("signed by key ").contains("ok");

    Path other = tmp.resolve("other");
    assertThat(cli.run("key", "new", other.toString()).code()).isZero();
    CliRunner.Result wrong = cli.run("image", "verify", "app", "--key", other + ".pub");
    assertThat(wrong.code()).isEqualTo(1);
    assertThat(wrong.err()).contains("not by the trusted key");
  }
}
