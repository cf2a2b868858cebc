package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.testing.Requires;
import dev.spindle.testing.TestRegistry;
import dev.spindle.testing.Tool;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code image push --to docker://…} then {@code image pull --from docker://… --lazy} into a second
 * home, end to end through the CLI against Debian's docker-registry (htpasswd auth) on loopback:
 * the lazy image reads back what was made, and the object cache holds only what was read.
 */
@Requires(Tool.REGISTRY)
class ImageRegistryCliTest {
  private static final String CREDS = TestRegistry.USER + ":" + TestRegistry.PASSWORD;

  @TempDir static Path shared;
  private static TestRegistry registry;

  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    registry = TestRegistry.start(shared.resolve("registry"));
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void pushedThenPulledLazilyReadsWhatWasMadeFetchingOnlyWhatIsRead() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("small.txt"), "small\n");
    Files.writeString(src.resolve("large.txt"), "a large file's line\n".repeat(100_000));
    CliRunner a = new CliRunner(tmp.resolve("a"));
    assertThat(a.run("image", "make", src.toString(), "-t", "app").code()).isZero();
    String ref = registry.ref("spindle/cli:v1");
    CliRunner.Result pushed =
        a.run("image", "push", "app", "--to", ref, "--insecure", "--creds", CREDS);
    assertThat(pushed.code()).as(pushed.err()).isZero();

    CliRunner b = new CliRunner(tmp.resolve("b"));
    CliRunner.Result pulled =
        b.run(
            "image",
            "pull",
            "app",
            "--from",
            ref,
            "--lazy",
            "-t",
            "copy",
            "--insecure",
            "--creds",
            CREDS);
    assertThat(pulled.code()).as(pulled.err()).isZero();
    assertThat(pulled.out()).startsWith("pulled lazily " + ref + " as copy");
    assertThat(b.run("image", "cat", "copy", "small.txt").out()).isEqualTo("small\n");
    CliRunner.Result cache = b.run("image", "cache");
    assertThat(cache.out())
        .as("only small.txt was fetched")
        .containsPattern("objects +1\\n")
        .containsPattern("bytes +6 of");
    assertThat(b.run("image", "cat", "copy", "large.txt").out())
        .isEqualTo(Files.readString(src.resolve("large.txt")));
  }
}
