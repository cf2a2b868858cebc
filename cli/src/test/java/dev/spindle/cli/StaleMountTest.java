package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.fuse.MountPoints;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mount whose process was killed (-9) is reported by doctor with the command that clears it, and
 * that command clears it. The mount runs in a real child process.
 */
class StaleMountTest {
  @TempDir Path tmp;

  @Test
  @Requires(Tool.FUSE)
  void doctorNamesAStaleMountAndUmountClearsIt() throws Exception {
    Path home = tmp.resolve("home");
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("a.txt"), "a\n");
    CliRunner cli = new CliRunner(home);
    assertThat(cli.run("image", "make", src.toString(), "-t", "m", "-q").code()).isZero();
    Path dir = Files.createDirectories(tmp.resolve("mnt"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process mount =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "mount",
                "m",
                dir.toString(),
                "--home",
                home.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("mount.log").toFile())
            .start();
    try {
      // A JVM start on a loaded 2-core machine can take many seconds: wait up to a minute, or
      // until the mounting process has died.
      for (int i = 0; i < 1200 && mount.isAlive() && !MountPoints.isMounted(dir); i++) {
        Thread.sleep(50);
      }
      assertThat(MountPoints.isMounted(dir))
          .as(Files.readString(tmp.resolve("mount.log")))
          .isTrue();
      assertThat(Files.readString(dir.resolve("a.txt"))).isEqualTo("a\n");
      assertThat(cli.run("doctor").out()).containsPattern("mounts\\s+ok");

      mount.destroyForcibly(); // kill -9: the mount stays, its server is gone
      mount.waitFor(10, TimeUnit.SECONDS);
      assertThat(MountPoints.isStale(dir)).isTrue();
      CliRunner.Result doctor = cli.run("doctor");
      assertThat(doctor.code()).isEqualTo(1);
      assertThat(doctor.out())
          .contains("stale Spindle FUSE mount")
          .contains("spindle umount " + dir);

      assertThat(cli.run("umount", dir.toString()).code()).isZero();
      assertThat(MountPoints.isMounted(dir)).isFalse();
    } finally {
      mount.destroyForcibly();
      if (MountPoints.isMounted(dir)) {
        MountPoints.unmountFuse(dir);
      }
    }
  }
}
