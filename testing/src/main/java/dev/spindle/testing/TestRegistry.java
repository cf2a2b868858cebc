package dev.spindle.testing;

import dev.spindle.store.Hashes;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CNCF distribution server (Debian's {@code docker-registry}) on 127.0.0.1, with htpasswd auth
 * and storage in a test's directory, and {@code skopeo} to put images into it: the oracle of what a
 * registry holds is what skopeo pushed. Stopped by its PID on {@link #close}.
 */
public final class TestRegistry implements AutoCloseable {
  public static final String USER = "spindle";
  public static final String PASSWORD = "s3cret-pass";

  /** {@code htpasswd -nbB spindle s3cret-pass}, made once: the tests need no apache2-utils. */
  private static final String HTPASSWD =
      "spindle:$2y$05$mizC8V/opfqnK/cpv7nA0e/dwi7mFohhGk/OyCIrtoOXwwHi.SLlu\n";

  private static final Path REGISTRY = Path.of("/usr/bin/docker-registry");

  public final Path dir;
  public final int port;
  private final Process process;

  private TestRegistry(Path dir, int port, Process process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
  }

  /** Skips the calling tests when the server or skopeo is not installed, and fails them in CI. */
  public static void assumeInstalled() {
    Requirements.require(Tool.REGISTRY);
    Requirements.require(Tool.SKOPEO);
  }

  public static TestRegistry start(Path dir) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("htpasswd"), HTPASSWD);
    int port;
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
    Process p =
        new ProcessBuilder(REGISTRY.toString(), "serve", dir.resolve("config.yml").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("registry.log").toFile())
            .start();
    TestRegistry r = new TestRegistry(dir, port, p);
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpRequest ping =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/")).build();
      for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20); ; Thread.sleep(50)) {
        try {
          if (http.send(ping, HttpResponse.BodyHandlers.discarding()).statusCode() == 401) {
            return r;
          }
        } catch (IOException notYet) {
          // still starting
        }
        if (!p.isAlive() || System.nanoTime() > end) {
          r.close();
          throw new IOException(
              "docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
        }
      }
    }
  }

  public String host() {
    return "127.0.0.1:" + port;
  }

  /** {@code docker://127.0.0.1:PORT/REPO}. */
  public String ref(String repoAndTag) {
    return "docker://" + host() + "/" + repoAndTag;
  }

  /** Pushes with skopeo: {@code skopeo copy [EXTRA] SOURCE docker://HOST/REPO:TAG}. */
  public void push(String source, String repoAndTag, String... extra) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "skopeo",
                "--insecure-policy",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                "--dest-creds",
                USER + ":" + PASSWORD));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of(source, ref(repoAndTag)));
    run(cmd);
  }

  /** The digest of the manifest (or index) a tag names, as skopeo reads it. */
  public String digest(String repoAndTag) throws Exception {
    return run(
        List.of(
            "skopeo",
            "--insecure-policy",
            "inspect",
            "--tls-verify=false",
            "--creds",
            USER + ":" + PASSWORD,
            "--raw",
            ref(repoAndTag)),
        true);
  }

  /** Where the registry keeps a blob's bytes (the filesystem driver's layout). */
  public Path blobData(String digest) {
    String hex = digest.substring("sha256:".length());
    return dir.resolve("storage/docker/registry/v2/blobs/sha256")
        .resolve(hex.substring(0, 2))
        .resolve(hex)
        .resolve("data");
  }

  public static String run(List<String> cmd) throws Exception {
    return run(cmd, false);
  }

  /**
   * Runs a command to its end; with {@code digestOfOutput}, returns the sha256 of what it printed.
   */
  private static String run(List<String> cmd, boolean digestOfOutput) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException(
          String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return digestOfOutput
        ? "sha256:" + Hashes.sha256Hex(out)
        : new String(out, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws InterruptedException {
    ProcessHandle h = process.toHandle();
    h.destroy(); // SIGTERM to this PID only
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      h.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
