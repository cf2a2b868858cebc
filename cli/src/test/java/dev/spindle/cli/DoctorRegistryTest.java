package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.spindle.container.RegistryOptions;
import dev.spindle.testing.Requires;
import dev.spindle.testing.TestRegistry;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code doctor --registry}: the real CNCF distribution server (Debian's docker-registry, with
 * htpasswd auth) on loopback, a closed port, and an HTTP server that is not a registry. Nothing the
 * server sends is printed but its status code.
 */
class DoctorRegistryTest {
  private static final String USER = TestRegistry.USER;
  private static final String PASSWORD = TestRegistry.PASSWORD;

  private static final String SERVER_WORDS = "words-of-the-server";

  @TempDir static Path shared;
  private static TestRegistry registry;

  @TempDir Path tmp;

  /** Starts docker-registry once, for the tests that need it (they carry @Requires(REGISTRY)). */
  private static synchronized String registry() throws Exception {
    if (registry == null) {
      registry = TestRegistry.start(shared.resolve("registry"));
    }
    return "docker://" + registry.host();
  }

  @AfterAll
  static void stopRegistry() throws InterruptedException {
    if (registry != null) {
      registry.close();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private CliRunner.Result doctor(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "doctor";
    all[1] = "--node";
    all[2] = "http://127.0.0.1:9";
    System.arraycopy(args, 0, all, 3, args.length);
    return new CliRunner(tmp.resolve("home")).run(all);
  }

  @Test
  @Requires(Tool.REGISTRY)
  void aRegistryWithTheRightCredentialsIsOkAndWithWrongOnesAuthFails() throws Exception {
    String r = registry();
    String line = "registry 127.0.0.1:" + registry.port;
    CliRunner.Result ok = doctor("--registry", r, "--insecure", "--creds", USER + ":" + PASSWORD);
    assertThat(ok.out())
        .as(ok.err())
        .containsPattern(line + " +ok +answers /v2/ \\(registry/2\\.0\\), logged in as spindle")
        .doesNotContain(PASSWORD);
    assertThat(ok.out().lines().filter(l -> l.contains("FAIL")).toList())
        .as("the registry adds no failure")
        .isEmpty();
    assertThat(ok.code()).isZero();

    CliRunner.Result wrong =
        doctor("--registry", r, "--insecure", "--creds", USER + ":not-the-password");
    assertThat(wrong.out())
        .containsPattern(line + " +FAIL +auth failed: 401 with the credentials of spindle")
        .doesNotContain("not-the-password");
    assertThat(wrong.code()).isEqualTo(1);

    // No credentials at all (and no Docker config to take them from): said so.
    Path staging = tmp.resolve("staging");
    DoctorCommand.Check none =
        DoctorCommand.registry(r, new RegistryOptions(null, null, null, true, staging));
    assertThat(none.level()).isEqualTo(DoctorCommand.Level.FAIL);
    assertThat(none.detail())
        .startsWith("auth failed: 401 without credentials")
        .contains("--creds");
  }

  @Test
  @Requires(Tool.REGISTRY)
  void aPlainHttpRegistryWithoutInsecureIsATlsProblem() throws Exception {
    CliRunner.Result r = doctor("--registry", registry(), "--creds", USER + ":" + PASSWORD);
    assertThat(r.out())
        .containsPattern("registry 127.0.0.1:" + registry.port + " +FAIL +TLS problem")
        .contains("--insecure");
    assertThat(r.code()).isEqualTo(1);
  }

  @Test
  void aClosedPortIsUnreachableByItsAddress() throws Exception {
    int port = freePort();
    CliRunner.Result r = doctor("--registry", "docker://127.0.0.1:" + port, "--insecure");
    assertThat(r.out())
        .containsPattern(
            "registry 127.0.0.1:"
                + port
                + " +FAIL +unreachable: connection to 127.0.0.1:"
                + port
                + " refused");
    assertThat(r.code()).isEqualTo(1);
  }

  @Test
  void anHttpServerThatIsNotARegistryIsSaidSoAndNotQuoted() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] body = (SERVER_WORDS + "\n").getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("X-Words", SERVER_WORDS);
          exchange.sendResponseHeaders(404, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    try {
      int port = server.getAddress().getPort();
      CliRunner.Result r =
          doctor(
              "--registry",
              "docker://127.0.0.1:" + port,
              "--insecure",
              "--registry",
              "docker://127.0.0.1:" + port + "/");
      assertThat(r.out())
          .containsPattern(
              "registry 127.0.0.1:"
                  + port
                  + " +FAIL +not a registry: GET /v2/ answered 404 without a Docker-Distribution-API-Version header")
          .doesNotContain(SERVER_WORDS);
      assertThat(r.out().lines().filter(l -> l.startsWith("registry ")).count())
          .as("one line per registry")
          .isEqualTo(2);
      assertThat(r.code()).isEqualTo(1);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aSourceThatIsNotARegistryAddressIsAnError() {
    CliRunner.Result r = doctor("--registry", "docker://127.0.0.1:5000/app:v1", "--insecure");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("a registry is docker://HOST[:PORT]");
  }
}
