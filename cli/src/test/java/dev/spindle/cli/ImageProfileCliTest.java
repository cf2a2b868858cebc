package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.fuse.AccessTraces;
import dev.spindle.testing.BusyboxRoot;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** profile a real container run (runc over FUSE), then debloat the image by that profile. */
class ImageProfileCliTest {
  @TempDir Path tmp;

  @Test
  @Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC})
  void profilesARunAndPutsItsFilesFirst() throws Exception {
    Path root = BusyboxRoot.make(tmp.resolve("rootfs"), "sh", "cat");
    Path etc = Files.createDirectories(root.resolve("etc"));
    Files.writeString(etc.resolve("motd"), "welcome\n");
    for (int i = 0; i < 5; i++) {
      Files.writeString(etc.resolve("unused" + i), "never opened " + i + "\n");
    }
    Path home = tmp.resolve("home");
    CliRunner cli = new CliRunner(home);
    assertThat(cli.run("image", "make", root.toString(), "-t", "app").code()).isZero();

    Path profile = tmp.resolve("app.profile");
    CliRunner.Result ran =
        cli.run(
            "image", "profile", "app", "-o", profile.toString(), "--", "sh", "-c", "cat /etc/motd");
    assertThat(ran.code()).as(ran.out() + ran.err()).isZero();
    assertThat(AccessTraces.paths(profile)).containsExactly("/bin/busybox", "/etc/motd");

    CliRunner.Result slim =
        cli.run("image", "debloat", "app", "--profile", profile.toString(), "-t", "slim");
    assertThat(slim.code()).as(slim.err()).isZero();
    // cold: the five unused files and the two symlinks (sh, cat), never opened as themselves
    assertThat(slim.out()).contains("hot: 2 files").contains("cold: 7 files");
    assertThat(cli.run("image", "verify", "slim").code()).isZero();
    assertThat(cli.run("image", "cat", "slim", "etc/unused3").out()).isEqualTo("never opened 3\n");

    // A run that opens a cold file works, and says so.
    CliRunner.Result cold =
        cli.run(
            "container",
            "run",
            "slim",
            "--hot",
            profile.toString(),
            "--",
            "sh",
            "-c",
            "cat /etc/motd /etc/unused3 > /dev/null");
    assertThat(cold.code()).as(cold.err()).isZero();
    assertThat(cold.err())
        .contains("opened 3 image files, 1 of them cold (not in " + profile + ")");
  }
}
