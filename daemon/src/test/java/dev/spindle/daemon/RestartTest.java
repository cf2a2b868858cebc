package dev.spindle.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.client.SpindleClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a real daemon process, then a restart on the same home. */
class RestartTest {
  @TempDir Path tmp;

  @Test
  void readyStateSurvivesDamageIsFoundAndInFlightWorkFails() throws Exception {
    Path home = tmp.resolve("home");
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "some content that will be damaged\n");
    String token;
    try (HangingGitServer git = new HangingGitServer();
        DaemonProcess first = DaemonProcess.start(home, "--peer", git.url())) {
      SpindleClient c = first.client();
      token = first.token();
      c.makeImage(new MakeImage(src.toString(), "keep"));
      c.makeImage(new MakeImage(src.toString(), "damaged"));
      assertThat(c.makeImage(new MakeImage(git.url(), "interrupted", null, false)).status())
          .isEqualTo("writing");
      // What an interrupted image write and an interrupted snapshot write leave on disk.
      Files.writeString(home.resolve("images/.partial.img.123.tmp"), "half");
      Files.createDirectories(home.resolve("snapshots/.writing-snap1-123"));
      Files.writeString(home.resolve("snapshots/.writing-snap1-123/memory.bin"), "half");
      first.kill9();
    }
    Path damaged = home.resolve("images/damaged.img");
    java.nio.file.attribute.FileTime mtime = Files.getLastModifiedTime(damaged);
    byte[] b = Files.readAllBytes(damaged);
    b[200] ^= 1;
    Files.write(damaged, b);
    // Same size, modification time set back: only the change time (and the bytes) tell.
    Files.setLastModifiedTime(damaged, mtime);

    try (DaemonProcess second = DaemonProcess.start(home)) {
      assertThat(second.token()).as("the token is kept").isEqualTo(token);
      SpindleClient c = second.client();
      Map<String, ImageInfo> all =
          c.images().stream().collect(Collectors.toMap(ImageInfo::tag, i -> i));
      assertThat(all.get("keep").status()).isEqualTo("ready");
      assertThat(all.get("keep").root()).matches("[0-9a-f]{40}");
      assertThat(all.get("damaged").status()).isEqualTo("failed");
      assertThat(all.get("damaged").error()).startsWith("damaged:").contains("at byte");
      assertThat(all.get("interrupted").status()).isEqualTo("failed");
      assertThat(all.get("interrupted").error()).contains("interrupted");
      assertThat(all.get("snap1").kind()).isEqualTo("snapshot");
      assertThat(all.get("snap1").status()).isEqualTo("failed");
      assertThat(home.resolve("images/.partial.img.123.tmp")).doesNotExist();
      assertThat(home.resolve("snapshots/.writing-snap1-123")).doesNotExist();
      assertThat(second.startupLines)
          .anyMatch(l -> l.equals("recovered: interrupted: was writing, now failed"));
      // A failed tag does not hold its name.
      assertThat(c.makeImage(new MakeImage(src.toString(), "interrupted")).status())
          .isEqualTo("ready");
    }
  }

  @Test
  void imagesMadeWithoutTheDaemonAreAdoptedAtStart() throws Exception {
    Path home = tmp.resolve("home");
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "x\n");
    new dev.spindle.image.ImageStore(new dev.spindle.store.SpindleHome(home).create())
        .make(
            src.toString(),
            dev.spindle.store.Tag.of("embedded"),
            dev.spindle.image.make.MakeOptions.defaults(),
            dev.spindle.image.Progress.NONE);
    try (DaemonProcess node = DaemonProcess.start(home)) {
      ImageInfo i = node.client().image("embedded");
      assertThat(i.status()).isEqualTo("ready");
      assertThat(i.objects()).isEqualTo(3);
    }
  }
}
