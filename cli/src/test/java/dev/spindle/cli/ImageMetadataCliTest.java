package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code image make --owner/--no-owners} and what {@code image stat} then shows. */
class ImageMetadataCliTest {
  @TempDir Path tmp;

  private CliRunner.Result run(String... args) {
    return new CliRunner(tmp.resolve("home")).run(args);
  }

  @Test
  void ownersAreNamedOrLeftOutAndStatShowsThem() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("key"), "k");
    Files.setPosixFilePermissions(src.resolve("key"), PosixFilePermissions.fromString("rw-------"));
    Files.createDirectories(src.resolve("empty"));

    CliRunner.Result made =
        run("image", "make", src.toString(), "-t", "named", "--owner", "1000:50");
    assertThat(made.code()).as(made.err()).isZero();
    assertThat(run("image", "stat", "named", "key").out())
        .contains("access: 0600")
        .contains("owner: 1000:50")
        .contains("links: 1");
    assertThat(run("image", "stat", "named", "empty").out()).contains("type: directory");

    assertThat(run("image", "make", src.toString(), "-t", "none", "--no-owners").code()).isZero();
    assertThat(run("image", "stat", "none", "key").out()).contains("owner: not recorded (root)");

    CliRunner.Result both =
        run("image", "make", src.toString(), "-t", "x", "--owner", "1:1", "--no-owners");
    assertThat(both.code()).isNotZero();
    assertThat(both.err()).contains("--owner and --no-owners contradict each other");
    CliRunner.Result bad = run("image", "make", src.toString(), "-t", "y", "--owner", "root");
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err()).contains("--owner must be UID:GID");
  }
}
