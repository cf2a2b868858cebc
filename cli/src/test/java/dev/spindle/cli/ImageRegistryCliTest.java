package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
  private static final String CREDS = "spindle:s3cret-pass";

  /** {@code htpasswd -nbB spindle s3cret-pass}, as in the container module's TestRegistry. */
  private static final String HTPASSWD =
      "spindle:$2y$05$mizC8V/opfqnK/cpv7nA0e/dwi7mFohhGk/OyCIrtoOXwwHi.SLlu\n";

  @TempDir static Path shared;
  private static Process registry;
  private static int port;

  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createDirectories(shared.resolve("registry"));
    Files.writeString(dir.resolve("htpasswd"), HTPASSWD);
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Files.writeString(
        dir.resolve("config.yml"),
        String.join(
            "\n",
            "version: 0.1",
            "log:",
            "  level: error",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            "    rootdirectory: " + dir.resolve("storage"),
            "http:",
            "  addr: 127.0.0.1:" + port,
            "auth:",
            "  htpasswd:",
            "    realm: spindle-test",
            "    path: " + dir.resolve("htpasswd"),
            ""));
    registry =
        new ProcessBuilder(
                "/usr/bin/docker-registry", "serve", dir.resolve("config.yml").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("registry.log").toFile())
            .start();
    HttpRequest ping =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/")).build();
    try (HttpClient http = HttpClient.newHttpClient()) {
      for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); ; Thread.sleep(50)) {
        try {
          if (http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode() == 401) {
            break;
          }
        } catch (IOException notYet) {
          // still starting
        }
        if (!registry.isAlive() || System.nanoTime() > end) {
          throw new IOException(
              "docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
        }
      }
    }
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (registry != null) {
      registry.toHandle().destroy(); // SIGTERM to this PID only
      if (!registry.waitFor(10, TimeUnit.SECONDS)) {
        registry.toHandle().destroyForcibly();
        registry.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void pushedThenPulledLazilyReadsWhatWasMadeFetchingOnlyWhatIsRead() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("small.txt"), "small\n");
    Files.writeString(src.resolve("large.txt"), "a large file's line\n".repeat(100_000));
    CliRunner a = new CliRunner(tmp.resolve("a"));
    assertThat(a.run("image", "make", src.toString(), "-t", "app").code()).isZero();
    String ref = "docker://127.0.0.1:" + port + "/spindle/cli:v1";
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
